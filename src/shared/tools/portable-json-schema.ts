/**
 * The JSON Schema a tool advertises in `tools/list`, in the subset every MCP client we serve takes as it is. zod
 * emits correct JSON Schema 2020-12, but some of its spellings make real clients refuse or rewrite a tool (each rule
 * below names where it was seen). Each rewrite says the same thing in a spelling they take, so the advertised schema
 * still describes exactly what the tool's zod schema accepts; the server keeps validating with zod (compile-tools.ts).
 * The rules the catalog must meet as a whole are asserted over real HTTP in tests/server/mcp/tools-list-portable.test.ts.
 */

type JsonObject = Record<string, unknown>;

/** Keywords whose value is one subschema (JSON Schema 2020-12 Core §10.2, Validation §6). */
const ONE_SCHEMA = [
  "items",
  "contains",
  "not",
  "if",
  "then",
  "else",
  "propertyNames",
  "additionalProperties",
  "unevaluatedItems",
  "unevaluatedProperties",
] as const;
/** Keywords whose value is a list of subschemas. */
const SCHEMA_LISTS = ["prefixItems", "anyOf", "oneOf", "allOf"] as const;
/** Keywords whose value maps names (not keywords) to subschemas. */
const SCHEMA_MAPS = ["properties", "patternProperties", "dependentSchemas", "$defs", "definitions"] as const;

/**
 * A copy of `schema` (a JSON Schema 2020-12 document, as zod emits it for the `draft-2020-12` target) rewritten
 * into the portable subset; `schema` itself is not changed. Rewrites, each meaning the same as what it replaces:
 *
 * - The root's `$schema` is left out. MCP 2025-11-25 ("JSON Schema Usage", SEP-1613) makes 2020-12 the dialect of a
 *   schema without `$schema`, so nothing is lost; with it, a client validating with Ajv's default (draft-07) class
 *   throws `no schema with key or ref "https://json-schema.org/draft/2020-12/schema"` (google-gemini/gemini-cli#14970
 *   and #17235, mastra-ai/mastra#14530), and Gemini's SDK refuses the key (GetStream/Vision-Agents#513).
 * - `propertyNames: {type: "string"}` (zod's record key) is left out: JSON object keys are always strings. Gemini and
 *   Vertex AI function declarations refuse the keyword (`Unknown name "propertyNames"`, rikkahub/rikkahub#1935,
 *   router-for-me/CLIProxyAPI#4393). Any other `propertyNames` is kept (the catalog test then flags it).
 * - `additionalProperties: {}` (a record of any values) becomes `additionalProperties: true`. OpenAI Codex reads a
 *   schema-valued `additionalProperties` as a typed map and gives a typeless one the type `string`
 *   (openai/codex codex-rs/tools/src/json_schema.rs), so an agent would send every cell as text; Letta refuses `{}`
 *   there (jacksteamdev/obsidian-mcp-tools#63). A typed `additionalProperties` is kept (the catalog test flags it).
 * - `const: v` becomes `enum: [v]` (JSON Schema 2020-12 Validation §6.1.3: "equivalent to an enum with a single
 *   value"). Gemini refuses `const` (`Unknown name "const"`, zed-industries/zed#45552); Codex rewrites it the same way.
 *
 * Only schema positions are rewritten: a property *named* `const` or `$schema` is left as it is.
 */
export function portableJsonSchema(schema: JsonObject): JsonObject {
  const copy = structuredClone(schema);
  delete copy.$schema;
  rewriteNode(copy);
  return copy;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function rewriteNode(node: JsonObject): void {
  const names = node.propertyNames;
  if (isObject(names) && Object.keys(names).length === 1 && names.type === "string") delete node.propertyNames;
  const extra = node.additionalProperties;
  if (isObject(extra) && Object.keys(extra).length === 0) node.additionalProperties = true;
  if ("const" in node && !("enum" in node)) {
    node.enum = [node.const];
    delete node.const;
  }
  for (const key of ONE_SCHEMA) {
    const child = node[key];
    if (isObject(child)) rewriteNode(child);
    // `items` as a list is draft-07's tuple form; 2020-12 spells it prefixItems, but walk it either way.
    else if (Array.isArray(child)) child.filter(isObject).forEach(rewriteNode);
  }
  for (const key of SCHEMA_LISTS) {
    const list = node[key];
    if (Array.isArray(list)) list.filter(isObject).forEach(rewriteNode);
  }
  for (const key of SCHEMA_MAPS) {
    const map = node[key];
    if (isObject(map)) Object.values(map).filter(isObject).forEach(rewriteNode);
  }
}
