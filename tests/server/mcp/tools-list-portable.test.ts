/**
 * What every MCP client we serve must be able to take from `tools/list`, asserted on the real answer over real HTTP
 * with both SDK generations (the v1 client speaks 2025-11-25, the v2 client is pinned to 2026-07-28). Each rule
 * names where a client was seen refusing or rewriting a tool that broke it; README "What clients see" sums them up.
 * Then every tool is called (successes and failures): its structuredContent must validate against the outputSchema
 * it lists, with Ajv's default draft-07 class (what older MCP SDK clients and Gemini CLI validate with) as well as
 * with Ajv2020, and a failure carries none (MCP 2025-11-25 server/tools "Output Schema").
 */
import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernHttpTransport,
} from "@modelcontextprotocol/client";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { Ajv, type ValidateFunction } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allTools } from "../../../src/shared/tools/catalog.ts";
import { startMcpHarness, type McpHarness } from "../../support/mcp-test-harness.ts";

type Schema = Record<string, unknown>;
interface ListedTool {
  name: string;
  title?: string;
  description?: string;
  inputSchema: Schema;
  outputSchema?: Schema;
  annotations?: Record<string, unknown>;
}

/** The server name the README's client table gives (clients put it in front of every tool name). */
const SERVER_NAME = "airtable";

let h: McpHarness;
let legacy: Client;
let modern: ModernClient;
let listed: ListedTool[];
beforeAll(async () => {
  h = await startMcpHarness({ tools: allTools });
  legacy = await h.connect();
  modern = new ModernClient(
    { name: "portable-test", version: "1.0.0" },
    { versionNegotiation: { mode: { pin: "2026-07-28" } } },
  );
  await modern.connect(
    new ModernHttpTransport(new URL(`${h.url}/mcp`), { requestInit: { headers: { "x-test-user": h.demo.user.id } } }),
  );
  listed = (await legacy.listTools()).tools as ListedTool[];
});
afterAll(async () => {
  await modern?.close();
  await h?.close();
});

/** Calls `fn` on `schema` and every subschema below it, with its path (`properties.records.items`…). */
function eachSchema(schema: unknown, fn: (node: Schema, path: string) => void, path = "(root)"): void {
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) return;
  const node = schema as Schema;
  fn(node, path);
  for (const key of ["items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames"]) {
    eachSchema(node[key], fn, `${path}.${key}`);
  }
  for (const key of ["anyOf", "oneOf", "allOf", "prefixItems"]) {
    const list = node[key];
    if (Array.isArray(list)) list.forEach((child, i) => eachSchema(child, fn, `${path}.${key}[${i}]`));
  }
  for (const key of ["properties", "patternProperties", "$defs", "definitions"]) {
    const map = node[key];
    if (typeof map === "object" && map !== null) {
      for (const [name, child] of Object.entries(map)) eachSchema(child, fn, `${path}.${key}.${name}`);
    }
  }
}

describe("tools/list, as every client we serve must be able to take it", () => {
  it("2025-11-25 and 2026-07-28 clients are shown the same catalog", async () => {
    expect((legacy.transport as StreamableHTTPClientTransport).protocolVersion).toBe("2025-11-25");
    expect(modern.getNegotiatedProtocolVersion()).toBe("2026-07-28");
    expect((await modern.listTools()).tools).toEqual(listed);
    expect(listed.map((t) => t.name)).toEqual(allTools.map((t) => t.name));
  });

  it("names, descriptions and the tool count fit every client's limits", () => {
    // Cursor passes only the first 40 tools of all servers to the agent (bun913/mcp-testrail#6,
    // getsentry/sentry-mcp-stdio#3); Windsurf takes 50 in all (Zhwt/go-mcp-mysql#3).
    expect(listed.length).toBeLessThanOrEqual(40);
    expect(new Set(listed.map((t) => t.name)).size).toBe(listed.length);
    for (const t of listed) {
      // Anthropic's and OpenAI's APIs take tool names of 1–64 letters, digits, _ and - (OpenAI: "Expected a string
      // with maximum length 64", chatboxai/chatbox#2400; Claude: "String should have at most 64 characters",
      // anthropics/claude-code#2412): stricter than MCP's own rule (2025-11-25 server/tools "Tool Names" allows ".").
      expect(t.name, t.name).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
      // Claude Code sends MCP tools as mcp__<server>__<tool>, and that whole name must fit the 64 (claude-code#2412).
      expect(`mcp__${SERVER_NAME}__${t.name}`.length, t.name).toBeLessThanOrEqual(64);
      // Cursor drops a tool whose server and tool names together reach 60 characters ("Combined server and tool
      // name length (60) exceeds 60 characters", ComposioHQ/composio#2788; idosal/git-mcp#163).
      expect(SERVER_NAME.length + t.name.length, t.name).toBeLessThan(60);
      // OpenAI refuses a function description over 1,024 characters (string_above_max_length,
      // janwilmake/openapi-mcp-server#23, CherryHQ/cherry-studio#3698); VS Code's Copilot cuts parameter descriptions
      // there for GPT-4 models (microsoft/vscode-copilot-chat toolSchemaNormalizer.ts) and fills an empty one in.
      expect(t.description?.length ?? 0, t.name).toBeGreaterThan(0);
      expect(t.description?.length ?? 0, t.name).toBeLessThanOrEqual(1024);
      eachSchema(t.inputSchema, (node, path) => {
        const description = node.description;
        if (typeof description === "string") expect(description.length, `${t.name} ${path}`).toBeLessThanOrEqual(1024);
      });
    }
  });

  it("annotations hold only the spec's hints, as booleans", () => {
    // MCP 2025-11-25 schema, ToolAnnotations: title and four boolean hints; destructiveHint means something only
    // when readOnlyHint is false.
    for (const t of listed) {
      const annotations = t.annotations ?? {};
      expect(Object.keys(annotations).sort(), t.name).toEqual(
        ["destructiveHint", "idempotentHint", "openWorldHint", "readOnlyHint", "title"].filter((k) => k in annotations),
      );
      expect(annotations.title, t.name).toBe(t.title);
      for (const hint of ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"]) {
        expect(typeof annotations[hint], `${t.name} ${hint}`).toBe("boolean");
      }
      if (annotations.readOnlyHint === true) expect(annotations.destructiveHint, t.name).toBe(false);
    }
  });

  it("input and output schemas use only keywords every client takes", () => {
    for (const t of listed) {
      for (const [which, schema] of [
        ["inputSchema", t.inputSchema],
        ["outputSchema", t.outputSchema],
      ] as const) {
        expect(schema, `${t.name} ${which}`).toBeDefined();
        // Both roots are objects (MCP 2025-11-25 schema: Tool.inputSchema and Tool.outputSchema have type "object").
        expect(schema?.type, `${t.name} ${which}`).toBe("object");
        eachSchema(schema, (node, path) => {
          const at = `${t.name} ${which} ${path}`;
          // No $schema: with it, Ajv's default (draft-07) class throws "no schema with key or ref
          // https://json-schema.org/draft/2020-12/schema" (google-gemini/gemini-cli#14970, #17235); without it the
          // dialect is 2020-12 (MCP 2025-11-25 "JSON Schema Usage", SEP-1613).
          expect(node, at).not.toHaveProperty("$schema");
          // No references: Gemini CLI cannot resolve $defs (gemini-cli#13326, #13053), Zed refuses $ref.
          for (const key of ["$ref", "$defs", "definitions"]) expect(node, at).not.toHaveProperty(key);
          // Gemini and Vertex AI function declarations refuse these ("Unknown name \"propertyNames\"",
          // rikkahub/rikkahub#1935; "const", zed-industries/zed#45552; "exclusiveMinimum", zendev-sh/zenflow#14;
          // langchain-ai/langchainjs#9526 for patternProperties); OpenAI's strict mode refuses formats it does not
          // know (posit-dev/chatlas#255); Zed refuses if/then/else (zed crates/language_model/src/tool_schema.rs).
          for (const key of [
            "propertyNames",
            "patternProperties",
            "const",
            "exclusiveMinimum",
            "exclusiveMaximum",
            "format",
            "if",
            "then",
            "else",
          ]) {
            expect(node, at).not.toHaveProperty(key);
          }
          // One type name, never a list: Gemini answers "Proto field is not repeating, cannot start list"
          // (zed-industries/zed#44875, n8n-io/n8n#15553).
          if ("type" in node) expect(typeof node.type, at).toBe("string");
          // additionalProperties true or false only: Codex reads a schema there as a typed map and gives a typeless
          // one the type string (openai/codex codex-rs/tools/src/json_schema.rs); Letta refuses {}
          // (jacksteamdev/obsidian-mcp-tools#63).
          if ("additionalProperties" in node) expect(typeof node.additionalProperties, at).toBe("boolean");
          // VS Code refuses a tool with an array schema without items ("tool parameters array type must have items",
          // microsoft/vscode#248810, #284536).
          if (node.type === "array") expect(node.items, at).toEqual(expect.any(Object));
          // required names declared properties only (VS Code's Copilot drops others; OpenAI refuses "Extra required
          // key", camel-ai/camel#2629).
          if (Array.isArray(node.required)) {
            for (const name of node.required) expect(node.properties, at).toHaveProperty([name as string]);
          }
        });
      }
    }
  });

  it("input schemas: an object root with properties, and a type on every parameter", () => {
    for (const t of listed) {
      const root = t.inputSchema;
      // OpenAI refuses an object schema without properties ("object schema missing properties",
      // enechange/collmbo#384; karakeep-app/karakeep#1831); VS Code warns (microsoft/vscode#251723).
      expect(root.properties, t.name).toEqual(expect.any(Object));
      // Claude refuses these at the top of input_schema ("input_schema does not support oneOf, allOf, or anyOf at the
      // top level", aliargun/mcp-server-gemini#8); VS Code's Copilot deletes them there.
      for (const key of ["anyOf", "oneOf", "allOf", "not"]) expect(root, t.name).not.toHaveProperty(key);
      eachSchema(root, (node, path) => {
        if (path === "(root)" || path.endsWith(".additionalProperties")) return;
        const at = `${t.name} ${path}`;
        // A parameter without a type: Gemini CLI skipped such tools ("missing types in its parameter schema",
        // arben-adm/mcp-sequential-thinking#12), Codex makes it a string (codex json_schema.rs).
        expect(typeof node.type, at).toBe("string");
        // Gemini function declarations take enum on strings only ("enum: only allowed for STRING type",
        // JetBrains/mcp-jetbrains#71).
        if (Array.isArray(node.enum)) {
          expect(node.type, at).toBe("string");
          for (const value of node.enum) expect(typeof value, at).toBe("string");
        }
      });
    }
  });

  it("output schemas: every property says what its value is", () => {
    for (const t of listed) {
      eachSchema(t.outputSchema, (node, path) => {
        if (path.endsWith(".additionalProperties")) return;
        // A schema with no validation keyword accepts anything (`true` spelled as an object): the MCP Inspector CLI
        // (2.x, the README's "MCP Inspector, CLI") prints "Schema portability: … warnings" after every tools/list
        // for it ("untyped-schema"), and Codex reads a typeless schema as a string (codex json_schema.rs).
        const constrains = ["type", "enum", "anyOf", "oneOf", "allOf"].some((key) => key in node);
        expect(constrains, `${t.name} outputSchema ${path}: ${JSON.stringify(node)}`).toBe(true);
      });
    }
  });

  it("every listed schema compiles with Ajv's draft-07 default class and with Ajv2020", () => {
    // What clients validating arguments or structuredContent do with them (MCP SDK v1 clients, Gemini CLI's
    // SchemaValidator): the draft-07 class threw on every schema while they named the 2020-12 dialect.
    const draft07 = new Ajv({ strict: false });
    const draft2020 = new Ajv2020({ strict: false });
    for (const t of listed) {
      for (const schema of [t.inputSchema, t.outputSchema]) {
        expect(() => draft07.compile(schema!), t.name).not.toThrow();
        expect(() => draft2020.compile(schema!), t.name).not.toThrow();
      }
    }
  });
});

describe("structuredContent, as clients validating it against the outputSchema see it", () => {
  /** Validators of each listed outputSchema, draft-07 and 2020-12, compiled by the test that uses them. */
  let validators: Map<string, ValidateFunction[]>;
  function compileValidators(): void {
    const draft07 = new Ajv({ strict: false, allErrors: true });
    const draft2020 = new Ajv2020({ strict: false, allErrors: true });
    validators = new Map(
      listed.map((t) => [t.name, [draft07.compile(t.outputSchema!), draft2020.compile(t.outputSchema!)]]),
    );
  }

  type Answer = { isError?: boolean; structuredContent?: unknown; content?: unknown };
  type Args = Record<string, unknown> | ((client: number) => Record<string, unknown>);

  /**
   * Calls `name` through both SDK clients (each validates structuredContent against the listed outputSchema itself
   * and throws on a mismatch) and checks the answer with both Ajv classes; answers the v1 client's result. `args`
   * may depend on the client (0: v1, 1: v2), for writes that can be made once only (a table's name).
   */
  async function call(name: string, args: Args, expectError = false): Promise<Answer> {
    let first: Answer | undefined;
    for (const [i, client] of [legacy, modern].entries()) {
      const given = typeof args === "function" ? args(i) : args;
      const result = (await client.callTool({ name, arguments: given })) as Answer;
      const at = `${name} ${JSON.stringify(given).slice(0, 80)}`;
      expect(result.isError === true, `${at}: ${JSON.stringify(result.content)}`).toBe(expectError);
      if (expectError) {
        // A failure carries only its message: clients that validate structuredContent even on isError results
        // (the v1 SDK client, modelcontextprotocol/typescript-sdk#1943) never see a mismatch.
        expect(result.structuredContent, at).toBeUndefined();
      } else {
        for (const validate of validators.get(name)!) {
          expect(validate(result.structuredContent), `${at}: ${JSON.stringify(validate.errors)}`).toBe(true);
        }
        // The text says exactly what structuredContent says: Claude Code hands the model only the latter when both
        // are there (anthropics/claude-code#79944), claude.ai only the former (bradwmorris/ra-h_os#7).
        const content = result.content as { type: string; text: string }[];
        expect(content.length, at).toBe(1);
        expect(JSON.parse(content[0]!.text), at).toEqual(result.structuredContent);
      }
      first ??= result;
    }
    return first!;
  }

  it("successful and failing calls of every tool", async () => {
    compileValidators();
    const base = h.demo.base.id;
    const tried = new Set<string>();
    const run = async (name: string, args: Args, expectError = false) => {
      tried.add(name);
      return (await call(name, args, expectError)).structuredContent as Record<string, unknown> | undefined;
    };
    await run("list_bases", {});
    await run("list_tables", { baseId: base });
    await run("list_tables", { baseId: base, detailLevel: "tableIdentifiersOnly" });
    await run("describe_table", { baseId: base, tableId: "Contacts" });
    await run("describe_table", { baseId: base, tableId: "Deals" }, true);
    const page = await run("list_records", { baseId: base, tableId: "Contacts", pageSize: 3, expandLinks: true });
    await run("list_records", { baseId: base, tableId: "Contacts", filterByFormula: "{Stage" }, true);
    await run("search_records", { baseId: base, tableId: "Contacts", searchTerm: "ada" });
    const [first, second, third] = (page?.records ?? []) as { id: string }[];
    await run("get_record", { baseId: base, tableId: "Contacts", recordId: first!.id, expandLinks: true });
    await run("get_record", { baseId: base, tableId: "Contacts", recordId: "recAAAAAAAAAAAAAA" }, true);
    await run("create_comment", { baseId: base, tableId: "Contacts", recordId: first!.id, text: "Called today" });
    await run("list_comments", { baseId: base, tableId: "Contacts", recordId: first!.id });
    await run("create_record", { baseId: base, tableId: "Contacts", fields: { Name: "Portable", "Deal size": 5 } });
    await run("create_records", { baseId: base, tableId: "Contacts", records: [{ fields: { Name: "P1" } }] });
    await run(
      "create_records",
      { baseId: base, tableId: "Contacts", records: [{ fields: { "Deal size": "lots" } }], typecast: false },
      true,
    );
    // One record written, one refused by Airtable: results with an error item.
    await run("update_records", {
      baseId: base,
      tableId: "Contacts",
      records: [
        { id: second!.id, fields: { Notes: "Updated" } },
        { id: "recAAAAAAAAAAAAAA", fields: { Notes: "Nobody" } },
      ],
    });
    await run("upsert_records", {
      baseId: base,
      tableId: "Contacts",
      fieldsToMergeOn: ["Email"],
      records: [{ fields: { Email: "portable@example.com", Name: "Upserted" } }],
    });
    const deleted = await run("delete_records", { baseId: base, tableId: "Contacts", recordIds: [third!.id] });
    await run("upload_attachment", {
      baseId: base,
      tableId: "Contacts",
      recordId: first!.id,
      fieldId: "Files",
      filename: "note.txt",
      contentType: "text/plain",
      file: Buffer.from("hello").toString("base64"),
    });
    await run("create_table", (i) => ({
      baseId: base,
      name: `Portable ${i}`,
      fields: [{ name: "Name", type: "singleLineText" }],
    }));
    await run("update_table", (i) => ({ baseId: base, tableId: `Portable ${i}`, description: "Made by a test" }));
    await run("create_field", (i) => ({
      baseId: base,
      tableId: `Portable ${i}`,
      name: "Score",
      type: "number",
      options: { precision: 0 },
    }));
    await run("update_field", (i) => ({
      baseId: base,
      tableId: `Portable ${i}`,
      fieldId: "Score",
      description: "0–10",
    }));
    await run("list_operations", {});
    await run("get_operation", { operationId: deleted!.operationId });
    await run("get_operation", { operationId: "op_AAAAAAAAAAAAAAAAAAAAAA" }, true);
    await run("cancel_operation", { operationId: deleted!.operationId });
    expect([...tried].sort()).toEqual(listed.map((t) => t.name).sort());
  });
});
