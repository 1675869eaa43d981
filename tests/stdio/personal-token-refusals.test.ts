/**
 * stdio mode runs on a personal access token (AIRTABLE_TOKEN): there is no sign-in to repeat, so a refusal for a
 * scope or a base the token lacks must name the token's own fix (edit it at https://airtable.com/create/tokens), not
 * "sign in again" (found by h-trial28: the agent was told to sign in again from a client that has no sign-in).
 * Real stdio process, MCP SDK stdio client, the sandbox over HTTP.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport, getDefaultEnvironment } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { privateStateDir, removeStateDirs } from "../helpers/state-dir.ts";
import { compileCacheEnv } from "../helpers/compile-cache.ts";

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
  client = await startStdio(token);
});

afterAll(async () => {
  for (const started of clients) await started.close();
  await sandbox?.close();
  removeStateDirs();
});

const clients: Client[] = [];

/** A stdio process of the CLI on `token`, against the sandbox, and the MCP SDK's client connected to it. */
async function startStdio(token: string): Promise<Client> {
  const env = {
    ...getDefaultEnvironment(),
    ...compileCacheEnv,
    AIRTABLE_TOKEN: token,
    AIRTABLE_API_URL: sandbox.url,
    AIRTABLE_CONTENT_URL: sandbox.url,
    XDG_DATA_HOME: privateStateDir(),
  };
  const started = new Client({ name: "pat-refusals-test", version: "1.0.0" });
  await started.connect(
    new StdioClientTransport({ command: process.execPath, args: [CLI, "stdio"], env, stderr: "pipe" }),
  );
  clients.push(started);
  return started;
}

async function call(
  name: string,
  args: Record<string, unknown>,
  to: Client = client,
): Promise<{ isError: boolean; text: string }> {
  const result = (await to.callTool({ name, arguments: args })) as CallToolResult;
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

it("a read the token has no scope for, on a base it reaches, names the token, not a sign-in", async () => {
  const recordId = sandbox.listRecordsDirect(listedBaseId, "Tasks")[0]!.id;
  const result = await call("list_comments", { baseId: listedBaseId, tableId: "Tasks", recordId });
  expect(result.isError).toBe(true);
  expect(result.text).toContain(
    `Base ${listedBaseId} is listed for the personal access token (AIRTABLE_TOKEN), your role on it creator`,
  );
  expect(result.text).toContain("the token lacks the access list_comments needs: comments:read");
  expect(result.text).toContain("https://airtable.com/create/tokens");
  expect(result.text).not.toMatch(/sign in again|sign-in/);
});

it("a base id one character off a base the token reaches names the token, not a sign-in", async () => {
  const typo = `${listedBaseId.slice(0, -1)}${listedBaseId.endsWith("x") ? "y" : "x"}`;
  const result = await call("list_records", { baseId: typo, tableId: "Tasks" });
  expect(result.isError).toBe(true);
  expect(result.text).toContain(
    `Base ${typo} is not among the bases the personal access token (AIRTABLE_TOKEN) can reach`,
  );
  expect(result.text).toContain(`did you mean ${listedBaseId}`);
  expect(result.text).not.toMatch(/sign in again|sign-in/);
});

it("a token that cannot list bases gets the general refusal naming the token and its page", async () => {
  // Without schema.bases:read, list bases is refused too, so the refusal cannot say which cause it is.
  const user = sandbox.addUser({ email: "pat-no-schema@example.com" });
  const baseId = sandbox.createBase(user.id, {
    name: "Records only",
    tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }], records: [{ Name: "a" }] }],
  }).id;
  const recordsOnly = await startStdio(sandbox.createPersonalAccessToken(user.id, ["data.records:read"]));
  const result = await call("list_records", { baseId, tableId: "Tasks" }, recordsOnly);
  expect(result.isError).toBe(true);
  expect(result.text).toContain(
    "The base or table does not exist, or the personal access token (AIRTABLE_TOKEN) has no access to it",
  );
  expect(result.text).toContain("If the base is listed, the token may lack the access list_records needs");
  expect(result.text).toContain("https://airtable.com/create/tokens");
  expect(result.text).not.toMatch(/sign in again|sign-in/);
});

it("a token deleted while the process runs is named, with where to make a new one, not a sign-in", async () => {
  const user = sandbox.addUser({ email: "pat-deleted@example.com" });
  const baseId = sandbox.createBase(user.id, {
    name: "Deleted token",
    tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }], records: [{ Name: "a" }] }],
  }).id;
  const token = sandbox.createPersonalAccessToken(user.id);
  const deleted = await startStdio(token);
  sandbox.deletePersonalAccessToken(token);
  const result = await call("list_records", { baseId, tableId: "Tasks" }, deleted);
  expect(result.isError).toBe(true);
  expect(result.text).toContain("Airtable no longer accepts the personal access token (AIRTABLE_TOKEN)");
  expect(result.text).toContain("Make a new one at https://airtable.com/create/tokens");
  expect(result.text).not.toMatch(/sign in again|sign-in|Sign in/);
});

it("a write whose token is deleted mid-way ends saying so, with where to make a new one, not a sign-in", async () => {
  const user = sandbox.addUser({ email: "pat-deleted-mid-write@example.com" });
  const baseId = sandbox.createBase(user.id, {
    name: "Deleted mid-write",
    tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }] }],
  }).id;
  const token = sandbox.createPersonalAccessToken(user.id);
  const writer = await startStdio(token);
  // Slow answers, so that the token is deleted after the first batch and before the last one.
  sandbox.setFaults({ latencyMs: 300 });
  try {
    const records = Array.from({ length: 40 }, (_, i) => ({ fields: { Name: `r${i}` } }));
    const answer = writer.callTool({ name: "create_records", arguments: { baseId, tableId: "Tasks", records } });
    await vi.waitFor(() => expect(sandbox.listRecordsDirect(baseId, "Tasks").length).toBeGreaterThan(0), {
      timeout: 15_000,
      interval: 20,
    });
    sandbox.deletePersonalAccessToken(token);
    const result = (await answer) as CallToolResult;
    const output = result.structuredContent as { status: string; message: string };
    expect(output.status, output.message).toBe("failed");
    expect(output.message).toContain("Airtable no longer accepts the personal access token (AIRTABLE_TOKEN)");
    expect(output.message).toContain("https://airtable.com/create/tokens");
    expect(output.message).not.toMatch(/sign in again|sign-in|Sign in/);
  } finally {
    sandbox.setFaults({ latencyMs: 0 });
  }
}, 60_000);
