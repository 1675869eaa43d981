import type { StandardSchemaWithJSON } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { AnyToolDefinition, InputIssue, ToolAnnotations } from "./define-tool.ts";
import { jsonStringIssues } from "./json-string-argument.ts";
import { portableJsonSchema } from "./portable-json-schema.ts";
import { strictArgumentObject, unknownKeysMessage } from "./strict-object.ts";

/**
 * The JSON Schema dialect the MCP SDK v2 asks for when it lists tools (its `standardSchemaToJsonSchema`); the
 * 2026-07-28 revision and 2025-11-25 both name JSON Schema 2020-12 as the default dialect, so the listed schemas can
 * leave `$schema` out (portable-json-schema.ts).
 */
const LISTED_TARGET = "draft-2020-12";

/** One tool as the SDK's `registerTool` takes it, built once per process (see compileTools). */
export interface CompiledTool {
  definition: AnyToolDefinition;
  /** registerTool's config: schemas are Standard Schemas whose JSON Schema is already computed. */
  config: {
    title: string;
    description: string;
    inputSchema: StandardSchemaWithJSON;
    outputSchema: StandardSchemaWithJSON;
    annotations: ToolAnnotations & { title: string };
  };
}

type JsonSchemaOptions = { target: string };
type JsonSchemaConverter = (options: JsonSchemaOptions) => Record<string, unknown>;

let compilations = 0;
const compiled = new WeakMap<readonly AnyToolDefinition[], readonly CompiledTool[]>();

/**
 * How many times a tool catalog has been compiled in this process: the zod objects, their validators and their
 * JSON Schemas. A server that serves every request through a fresh McpServer (the stateless /mcp, issue 14)
 * must still compile once per catalog, not once per request; tests and benchmarks read this counter.
 */
export function toolCompilationCount(): number {
  return compilations;
}

/**
 * The catalog in the shape the MCP SDK registers, computed once per catalog array (memoised on its identity):
 * each tool's input and output zod objects (`z.object(shape)`, which the SDK would otherwise build on every
 * `registerTool`) and their JSON Schemas (which the SDK would otherwise convert on every `tools/list`).
 * Validation still runs through the same zod objects, so arguments are parsed (defaults, transforms) and
 * refused with the same messages as before. Registering the result on a new McpServer is then only object
 * allocation, cheap enough for one server per HTTP request.
 */
export function compileTools(tools: readonly AnyToolDefinition[]): readonly CompiledTool[] {
  const known = compiled.get(tools);
  if (known !== undefined) return known;
  compilations += 1;
  const result = tools.map((tool): CompiledTool => ({
    definition: tool,
    config: {
      title: tool.title,
      description: tool.description,
      // Strict: an argument the tool does not take is refused, not dropped. A dropped `filter` (for
      // filterByFormula) would list every record, and an agent may act on that list (delete what came back).
      // A tool without parameters stays open: no argument can change what it does, and some clients send a
      // placeholder argument to such tools (Cursor's `random_string`).
      inputSchema:
        Object.keys(tool.inputSchema).length === 0
          ? withPrecomputedJsonSchema(z.object(tool.inputSchema))
          : withPrecomputedJsonSchema(
              strictArgumentObject(tool.name, tool.inputSchema, unknownArgumentMessage(tool)),
              (value, given) => {
                // A list or object sent as JSON text first: the tool's own wording would read it as one value.
                const issues = jsonStringIssues(value, given);
                return renameMissing(value, tool.rewordIssues?.(value, issues) ?? issues, missingArgumentMessage(tool));
              },
            ),
      outputSchema: withPrecomputedJsonSchema(z.object(tool.outputSchema)),
      annotations: { title: tool.title, ...tool.annotations },
    },
  }));
  compiled.set(tools, result);
  return result;
}

/**
 * A Standard Schema (https://standardschema.dev) that validates with `schema` and answers its JSON Schema
 * (the StandardJSONSchemaV1 `jsonSchema` member, which the SDK prefers) from a cache: the dialect the SDK lists
 * with is converted here, now, and rewritten into the subset every client takes (portable-json-schema.ts: what
 * `tools/list` shows); any other dialect, zod's own conversion, on first use. Validation is zod's; the issues of a
 * failed one go through `reword` (a list or object sent as JSON text, the tool's rewordIssues, then missing
 * arguments made one issue).
 */
function withPrecomputedJsonSchema(
  schema: z.ZodObject,
  reword?: (value: unknown, issues: readonly InputIssue[]) => readonly InputIssue[],
): StandardSchemaWithJSON {
  const standard = schema["~standard"] as unknown as {
    vendor: string;
    validate: (value: unknown) => unknown;
    jsonSchema: { input: JsonSchemaConverter; output: JsonSchemaConverter };
  };
  const cache = new Map<string, Record<string, unknown>>();
  const converter =
    (io: "input" | "output"): JsonSchemaConverter =>
    (options) => {
      const key = `${io} ${options.target}`;
      let json = cache.get(key);
      if (json === undefined) {
        json = standard.jsonSchema[io](options);
        if (options.target === LISTED_TARGET) json = portableJsonSchema(json);
        cache.set(key, json);
      }
      return json;
    };
  const jsonSchema = { input: converter("input"), output: converter("output") };
  jsonSchema.input({ target: LISTED_TARGET });
  jsonSchema.output({ target: LISTED_TARGET });
  return {
    "~standard": {
      version: 1,
      vendor: standard.vendor,
      validate: (value: unknown) => {
        const result = standard.validate(value);
        // Only failures are reworded (a valid call returns as it came). zod's standard validation is synchronous;
        // a promise is passed through.
        const issues = (result as { issues?: readonly InputIssue[] } | undefined)?.issues;
        if (reword === undefined || issues === undefined || result instanceof Promise) return result;
        return { issues: reword(value, issues) };
      },
      jsonSchema,
    },
  } as unknown as StandardSchemaWithJSON;
}

/**
 * The issues of a failed validation, those about top-level arguments the call did not give at all made into one,
 * `missing(names, unknown)`, instead of zod's "Invalid input: expected string, received undefined" once per argument
 * (the SDK joins issues with ", ", so one sentence naming them all reads better than several each listing the
 * parameters). Arguments the tool does not take (the top-level `unrecognized_keys` issue, `unknown`) join that
 * sentence too: a call that named one parameter wrongly (`query` for `searchTerm`) has both, and the parameters
 * are then listed once.
 */
function renameMissing(
  value: unknown,
  issues: readonly InputIssue[],
  missing: (names: readonly string[], unknown: readonly string[]) => string,
): readonly InputIssue[] {
  const given = typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
  const names: string[] = [];
  let unknown: readonly string[] = [];
  const others = issues.filter((issue) => {
    if (issue.code === "unrecognized_keys" && (issue.path?.length ?? 0) === 0 && issue.keys !== undefined) {
      unknown = issue.keys;
      return false;
    }
    const first = issue.path?.length === 1 ? issue.path[0] : undefined;
    const name = typeof first === "object" ? first.key : first;
    if (typeof name !== "string" || given[name] !== undefined) return true;
    names.push(name);
    return false;
  });
  // Nothing left out: every issue as it was, the unknown arguments' own (unknownArgumentMessage) included.
  if (names.length === 0) return issues;
  return [{ message: missing(names, unknown), path: [] }, ...others];
}

/**
 * The message for required parameters of `tool` the call left out, and for arguments it gave that `tool` does not
 * take (`unknown`, maybe none): names them and, once, every parameter it takes.
 */
function missingArgumentMessage(
  tool: AnyToolDefinition,
): (names: readonly string[], unknown: readonly string[]) => string {
  const known = Object.keys(tool.inputSchema);
  const quote = (list: readonly string[]) => list.map((n) => `"${n}"`).join(", ");
  return (names, unknown) => {
    const what =
      names.length === 1 ? `the argument ${quote(names)}, and it was` : `the arguments ${quote(names)}, and they were`;
    const unknownPart =
      unknown.length === 0
        ? ""
        : `, and does not take the argument${unknown.length === 1 ? "" : "s"} ${quote(unknown)}`;
    return `${tool.name} needs ${what} not given${unknownPart}; its parameters are ${known.join(", ")} (see its inputSchema in tools/list)`;
  };
}

/**
 * The message for arguments `tool` does not take: names them and every parameter it does take, so an agent that
 * guessed a name (`filter`, `limit`) can call again right; refused rather than ignored (see compileTools).
 */
function unknownArgumentMessage(tool: AnyToolDefinition): (keys: readonly string[]) => string {
  const known = Object.keys(tool.inputSchema);
  return (keys) =>
    `${unknownKeysMessage(tool.name, ["argument", "arguments"], keys, known, "parameters")} (see its inputSchema in tools/list)`;
}
