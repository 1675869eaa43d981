/**
 * The MCP instructions, generated from the tool catalog (src/shared/tools/instructions.ts): every tool is named,
 * writes are described as operations (never as unavailable), the limits and cursors are there with the deployment's
 * settings, and the server really sends them to an MCP client at initialization (real SDK client and server).
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../../src/shared/logger.ts";
import { MAX_BATCH_SIZE } from "../../../src/shared/operations/events.ts";
import { allTools, operationTools, readTools, writeTools } from "../../../src/shared/tools/catalog.ts";
import { createMcpServer } from "../../../src/shared/tools/create-mcp-server.ts";
import { buildInstructions, DEFAULT_INSTRUCTION_SETTINGS } from "../../../src/shared/tools/instructions.ts";
import { startMcpHarness, type McpHarness } from "../../support/mcp-test-harness.ts";

const text = buildInstructions(allTools);
const mentions = (t: string, word: string) => new RegExp(`(^|[^a-z_])${word}([^a-z_]|$)`).test(t);

describe("buildInstructions(allTools)", () => {
  it("names every tool of the catalog", () => {
    expect(allTools.length).toBeGreaterThan(15);
    for (const tool of allTools) expect(mentions(text, tool.name), tool.name).toBe(true);
  });

  it("lists reads, writes and operation tools in their own sections, each write as an operation", () => {
    const [, reading = "", writing = ""] = text.split("\n\n");
    for (const tool of readTools) expect(reading.split("\n")[0]).toContain(`${tool.name} (`);
    for (const tool of writeTools) expect(writing.split("\n")[0]).toContain(`${tool.name} (`);
    expect(writing).toMatch(/^Writing — each call becomes an operation/);
    for (const tool of operationTools) expect(writing).toContain(tool.name);
    expect(writing).toContain("operationId");
    expect(writing).toMatch(/poll get_operation/);
  });

  it("says update_records replaces list cells and how to add to them (addToLists)", () => {
    // An agent that reads this before its first write need not learn it from a refusal (list-cells.ts).
    expect(text).toContain("update_records sets a list cell");
    expect(text).toContain("pass addToLists: true");
    expect(text).toContain("upsert_records replaces such a cell with the list given");
  });

  it("never says writes are unavailable", () => {
    expect(text).not.toMatch(/not (yet )?available|\bsoon\b|not supported|read-only/i);
    expect(text).toMatch(/^This server reads and writes/);
  });

  it("states the limits: records per call, batches of 10, 5 requests per second per base; and how cursors work", () => {
    expect(text).toContain(
      `At most 5,000 records per call of create_records, update_records, upsert_records, delete_records`,
    );
    expect(text).toContain(`batches of ${MAX_BATCH_SIZE} records per Airtable request`);
    expect(text).toContain("5 requests per second per base");
    expect(text).toMatch(
      /Cursors: when an answer of list_records, search_records, list_comments, get_operation, list_operations has nextCursor, call again with the same arguments plus cursor/,
    );
    expect(DEFAULT_INSTRUCTION_SETTINGS).toEqual({ maxRecordsPerOperation: 5_000, writeWaitMs: 25_000 });
  });

  it("says cells come in the API's format: date-times in UTC with the field's zone in describe_table, percents as fractions", () => {
    // A field-type trial (session 26): a Europe/Berlin meeting at 10:00 reads "…T09:00:00.000Z", which an agent
    // would tell a person as 09:00 without knowing the field's zone is in describe_table.
    expect(text).toContain("a date and time is UTC");
    expect(text).toContain("options.timeZone in describe_table");
    expect(text).toContain("a percent a fraction (0.25 is 25 %)");
  });

  it("quotes the deployment's settings", () => {
    const custom = buildInstructions(allTools, { maxRecordsPerOperation: 1_234, writeWaitMs: 10_000 });
    expect(custom).toContain("At most 1,234 records per call");
    expect(custom).toContain("waits up to about 10 s");
  });

  it("for a server with read tools only, says nothing about writing", () => {
    const readsOnly = buildInstructions(readTools);
    expect(readsOnly).toMatch(/^This server reads the signed-in user's Airtable bases\./);
    expect(readsOnly).not.toMatch(/Writing|operationId|records per call/);
    for (const tool of readTools) expect(mentions(readsOnly, tool.name), tool.name).toBe(true);
  });
});

describe("the instructions an MCP client receives", () => {
  let harness: McpHarness;
  beforeAll(async () => {
    harness = await startMcpHarness();
  });
  afterAll(async () => {
    await harness?.close();
  });

  it("are the generated ones: over the HTTP endpoint (read tools) and from the full catalog", async () => {
    const overHttp = await harness.connect();
    expect(overHttp.getInstructions()).toBe(buildInstructions(readTools));

    const settings = { maxRecordsPerOperation: 777, writeWaitMs: 5_000 };
    const server = createMcpServer(
      allTools,
      {
        context: () => Promise.reject(new Error("no calls here")),
        ownRecordsContext: () => {
          throw new Error("no calls here");
        },
        runWrite: async () => ({ content: [] }),
        logger: createLogger({ level: "silent" }),
      },
      buildInstructions(allTools, settings),
    );
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const client = new Client({ name: "instructions-test", version: "1.0.0" });
    await client.connect(clientSide);
    expect(client.getInstructions()).toBe(buildInstructions(allTools, settings));
    expect(client.getInstructions()).toContain("At most 777 records per call");
    await client.close();
  });
});
