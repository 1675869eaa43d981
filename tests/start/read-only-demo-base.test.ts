/**
 * The embedded demo (`npm start` with no configuration: startEmbedded, in this process, over real HTTP, the real MCP
 * SDK client signed in through the demo's OAuth) lets a person try a base on which their Airtable permission level
 * is too low: beside "Demo CRM" its fake Airtable has "Demo Price List (read-only)", shared with the demo user at
 * permission level read (src/sandbox/demo-data.ts seedReadOnlyDemo). list_bases shows both with their levels, reads
 * of the read-only base work, and a write there is refused with the product's words for it (base-permissions.ts:
 * the level, the one the write needs, and to ask the base's owner). Before, the demo had the one base, created by the
 * demo user, so nothing in it could be refused for the permission level.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, expect, it } from "vitest";
import { loadConfig } from "../../src/shared/config.ts";
import { createLogger } from "../../src/shared/logger.ts";
import { startEmbedded, type RunningEmbedded } from "../../src/start/embedded.ts";
import { callTool, resultText, signInAndConnect } from "../e2e/helpers/mcp-client.ts";
import { freePort } from "../e2e/helpers/server-process.ts";
import { TestOAuthProvider } from "../e2e/helpers/test-oauth-provider.ts";
import { answerOf } from "../e2e/helpers/write-operations.ts";

const dataDir = mkdtempSync(path.join(tmpdir(), "read-only-demo-base-"));
let running: RunningEmbedded | undefined;
let client: Client | undefined;
let printed = "";

beforeAll(async () => {
  const config = loadConfig({ PORT: String(await freePort()), DATA_DIR: dataDir }, "start");
  running = await startEmbedded(config, {
    logger: createLogger({ level: "warn", name: "embedded" }, { write: () => undefined }),
    print: (text) => (printed += text),
  });
  client = (await signInAndConnect(running.mcpUrl, new TestOAuthProvider({}))).client;
}, 120_000);

afterAll(async () => {
  await client?.close();
  await running?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

it("lists a read-only demo base, reads it, and refuses a write there saying edit access is needed and whom to ask", async () => {
  const { bases } = answerOf<{ bases: { id: string; name: string; permissionLevel: string }[] }>(
    "list_bases",
    await callTool(client!, "list_bases", {}),
  );
  expect(bases.map(({ name, permissionLevel }) => ({ name, permissionLevel }))).toEqual(
    expect.arrayContaining([
      { name: "Demo CRM", permissionLevel: "create" },
      { name: "Demo Price List (read-only)", permissionLevel: "read" },
    ]),
  );
  const baseId = bases.find((b) => b.permissionLevel === "read")!.id;

  const read = answerOf<{ records: { fields: Record<string, unknown> }[] }>(
    "list_records",
    await callTool(client!, "list_records", { baseId, tableId: "Products", fields: ["Name"] }),
  );
  expect(read.records.map((r) => r.fields.Name)).toContain("Starter plan");

  const write = await callTool(client!, "create_records", {
    baseId,
    tableId: "Products",
    records: [{ fields: { Name: "Enterprise plan" } }],
  });
  expect(write.isError, JSON.stringify(write)).toBe(true);
  const text = resultText(write);
  expect(text).toContain(`Your permission level on base ${baseId} ("Demo Price List (read-only)") is read-only`);
  expect(text).toContain("create_records needs editor (permissionLevel edit) or more");
  expect(text).toContain("Ask the base's owner to give you that access");

  // The banner tells the person the base is there and what it is for.
  expect(printed).toContain('"Demo Price List (read-only)"');
});
