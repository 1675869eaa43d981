/**
 * `npm start`'s embedded demo over a DATA_DIR seeded before the read-only demo base existed (session 31 added it:
 * src/sandbox/demo-data.ts seedReadOnlyDemo): the banner named "Demo Price List (read-only)" though that fake Airtable
 * had only "Demo CRM", and list_bases did not show it. The base is now added beside the data kept (demo-airtable.ts),
 * so the banner is true and the base is there to try; the data of the earlier run stays. startEmbedded in this process
 * over real HTTP, the real MCP SDK client signed in through the demo's OAuth.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, expect, it } from "vitest";
import { DEMO_USER_EMAIL, seedDemo } from "../../src/sandbox/demo-data.ts";
import { startSandbox } from "../../src/sandbox/index.ts";
import { loadConfig } from "../../src/shared/config.ts";
import { createLogger } from "../../src/shared/logger.ts";
import { DEMO_DATA_FILE } from "../../src/start/demo-airtable.ts";
import { startEmbedded, type RunningEmbedded } from "../../src/start/embedded.ts";
import { callTool, signInAndConnect } from "../e2e/helpers/mcp-client.ts";
import { freePort } from "../e2e/helpers/server-process.ts";
import { TestOAuthProvider } from "../e2e/helpers/test-oauth-provider.ts";
import { answerOf } from "../e2e/helpers/write-operations.ts";

const dataDir = mkdtempSync(path.join(tmpdir(), "old-data-dir-demo-"));
let running: RunningEmbedded | undefined;
let client: Client | undefined;
let printed = "";
let crmBaseId = "";

beforeAll(async () => {
  // The fake Airtable's data as a run before session 31 left it: the demo base alone.
  const old = await startSandbox({ stateFile: path.join(dataDir, DEMO_DATA_FILE) });
  const seeded = seedDemo(old, DEMO_USER_EMAIL);
  crmBaseId = seeded.base.id;
  await old.close();

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

it("adds the read-only demo base the banner names to an earlier run's data, keeping that data", async () => {
  expect(printed).toContain('"Demo Price List (read-only)"');
  const { bases } = answerOf<{ bases: { id: string; name: string; permissionLevel: string }[] }>(
    "list_bases",
    await callTool(client!, "list_bases", {}),
  );
  expect(bases.map(({ id, name, permissionLevel }) => ({ id, name, permissionLevel }))).toEqual(
    expect.arrayContaining([
      { id: crmBaseId, name: "Demo CRM", permissionLevel: "create" },
      { id: expect.stringMatching(/^app/), name: "Demo Price List (read-only)", permissionLevel: "read" },
    ]),
  );
  expect(bases).toHaveLength(2);
});
