/**
 * stdio mode runs on a personal access token (AIRTABLE_TOKEN): there is no sign-in to repeat, so a refusal for a
 * scope or a base the token lacks must name the token's own fix (edit it at https://airtable.com/create/tokens), not
 * "sign in again" (found by h-trial28: the agent was told to sign in again from a client that has no sign-in).
 * Real stdio process, MCP SDK stdio client, the sandbox over HTTP.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport, getDefaultEnvironment } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { privateStateDir, removeStateDirs } from "../helpers/state-dir.ts";

const CLI = new URL("../../src/cli.ts", import.meta.url).pathname;
let sandbox: Sandbox;
let client: Client;
let listedBaseId: string;
let otherBaseId: string;

beforeAll(async () => {
  sandbox = await startSandbox();
  const user = sandbox.addUser({ email: "pat-refusals@example.com" });
  const table = { name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }], records: [{ Name: "a" }] };
  listedBaseId = sandbox.createBase(user.id, { name: "Listed", tables: [table] }).id;
  otherBaseId = sandbox.createBase(user.id, { name: "Not on the token", tables: [table] }).id;
  // Read scopes only, and one of the user's two bases: as a person creates a token for reading one base.
  const token = sandbox.createPersonalAccessToken(
    user.id,
    ["data.records:read", "schema.bases:read", "user.email:read"],
    [listedBaseId],
  );
  const env = {
    ...getDefaultEnvironment(),
    AIRTABLE_TOKEN: token,
    AIRTABLE_API_URL: sandbox.url,
    AIRTABLE_CONTENT_URL: sandbox.url,
    XDG_DATA_HOME: privateStateDir(),
  };
  client = new Client({ name: "pat-refusals-test", version: "1.0.0" });
  await client.connect(
    new StdioClientTransport({ command: process.execPath, args: [CLI, "stdio"], env, stderr: "pipe" }),
  );
});

afterAll(async () => {
  await client?.close();
  await sandbox?.close();
  removeStateDirs();
});

async function call(name: string, args: Record<string, unknown>): Promise<{ isError: boolean; text: string }> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  const first = result.content[0];
  return { isError: result.isError === true, text: first?.type === "text" ? first.text : "" };
}

it("a write the token has no scope for names the token's page, not a sign-in", async () => {
  const result = await call("create_records", {
    baseId: listedBaseId,
    tableId: "Tasks",
    records: [{ fields: { Name: "b" } }],
  });
  expect(result.text).toContain("the personal access token (AIRTABLE_TOKEN) lacks the scope data.records:write");
  expect(result.text).toContain("https://airtable.com/create/tokens");
  expect(result.text).not.toMatch(/sign in again|sign-in/);
});

it("a base the token was not given names the token's page, not a sign-in", async () => {
  const result = await call("list_records", { baseId: otherBaseId, tableId: "Tasks" });
  expect(result.isError).toBe(true);
  expect(result.text).toContain(
    `Base ${otherBaseId} is not among the bases the personal access token (AIRTABLE_TOKEN) can reach`,
  );
  expect(result.text).toContain("add it to the token there");
  expect(result.text).not.toMatch(/sign in again|consent page/);
});
