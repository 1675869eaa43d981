/**
 * An operation log this version cannot read, kept in Redis (the distributed shape): an event written by a newer
 * version of the server (a downgrade, or an older server in a rolling deploy) and a damaged entry. list_operations
 * used to answer "Internal error" for the whole list, and get_operation on it too. Now list_operations lists the
 * owner's other operations and names the unreadable ones (id, what is known, what to do), and get_operation on one
 * answers a tool error saying the same; another user still gets "no operation".
 * The real server app and a worker (in this process), real Redis under this file's key prefix, the Airtable sandbox
 * over HTTP, the MCP SDK's client signed in through OAuth. The logs are damaged in Redis directly, as a newer
 * version or a broken disk would leave them.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../../src/sandbox/index.ts";
import { callTool, resultText, signInAndConnect } from "../../e2e/helpers/mcp-client.ts";
import { TestOAuthProvider } from "../../e2e/helpers/test-oauth-provider.ts";
import { answerOf, callWriteTool, type OperationSummary } from "../../e2e/helpers/write-operations.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";
import { startServerHarness, type ServerHarness } from "../../support/admin-test-harness.ts";

const keyPrefix = uniquePrefix("unreadable-log");
const redis = createTestRedis();
let sandbox: Sandbox;
let server: ServerHarness;
let client: Client;
let baseId: string;
let tableId: string;

interface ListAnswer {
  operations: OperationSummary[];
  unreadable?: { operationId: string; kind?: string; baseId?: string; tableId?: string; createdAt?: string }[];
  nextCursor?: string;
}

beforeAll(async () => {
  sandbox = await startSandbox();
  server = await startServerHarness({ sandbox, keyPrefix, env: { WRITE_WAIT_MS: "20000" } });
  await server.startWorker();
  const userId = sandbox.addUser({ email: "unreadable@example.com", name: "Una" }).id;
  const base = sandbox.createBase(userId, {
    name: "Unreadable logs",
    tables: [{ name: "People", fields: [{ name: "Name", type: "singleLineText" }] }],
  });
  baseId = base.id;
  tableId = base.tables[0]!.id;
  ({ client } = await signInAndConnect(`${server.url}/mcp`, new TestOAuthProvider({ sandboxUser: userId })));
}, 60_000);

afterAll(async () => {
  await client?.close();
  await server?.close();
  await sandbox?.close();
  await deleteKeys(redis, keyPrefix);
  redis.disconnect();
});

async function write(name: string): Promise<string> {
  const answer = await callWriteTool(client, "create_records", {
    baseId,
    tableId: "People",
    records: [{ fields: { Name: name } }],
  });
  expect(answer.status, answer.message).toBe("completed");
  return answer.operationId;
}

/** The tool's answer as the agent reads it: whether it is an error, and its text. */
async function ask(name: string, args: Record<string, unknown>): Promise<{ isError: boolean; text: string }> {
  const result = await callTool(client, name, args);
  return { isError: result.isError === true, text: resultText(result) };
}

it("list_operations lists the others and names each unreadable one; get_operation on one says what to do", async () => {
  const newer = await write("newer");
  const damaged = await write("damaged");
  const fine = await write("fine");
  // An event type this version does not know, appended as a newer version would (the entry's only field, `event`).
  const newerEvent = { seq: 4, at: Date.now(), type: "batch.verified", batch: 0 };
  await redis.xadd(server.operations.keyOf("op", newer), "*", "event", JSON.stringify(newerEvent));
  // A damaged log: its `accepted` event cut short (the `owner` field beside it intact), nothing else readable.
  const damagedKey = server.operations.keyOf("op", damaged);
  const fields = (await redis.xrange(damagedKey, "-", "+", "COUNT", 1))[0]![1];
  const accepted = fields[fields.indexOf("event") + 1]!;
  await redis.del(damagedKey);
  await redis.xadd(damagedKey, "*", "event", accepted.slice(0, 40), "owner", fields[fields.indexOf("owner") + 1]!);
  await redis.pexpire(damagedKey, 3_600_000);

  const listed = await ask("list_operations", {});
  expect(listed.isError, listed.text).toBe(false);
  expect(listed.text).not.toMatch(/Internal error|\bat \S+\.ts:\d+/);
  const list = answerOf<ListAnswer>("list_operations", await callTool(client, "list_operations", {}));
  expect(list.operations.map((o) => o.operationId)).toEqual([fine]);
  expect(list.unreadable?.map((o) => o.operationId)).toEqual([damaged, newer]);
  // What the newer version's log still says of itself (its `accepted` event reads fine), and when the damaged one
  // was queued (from the owner's index).
  expect(list.unreadable?.[1]).toMatchObject({ kind: "create_records", baseId, tableId });
  expect(Date.parse(list.unreadable?.[0]?.createdAt ?? "")).toBeGreaterThan(Date.now() - 60_000);
  for (const id of [newer, damaged]) {
    expect(listed.text).toContain(`Operation ${id}`);
  }
  expect(listed.text).toContain("cannot read");
  expect(listed.text).toContain("look them up in the table (search_records or list_records) before writing them again");

  // Paged one at a time, the cursor goes past the unreadable ones to the end.
  const seen: string[] = [];
  let cursor: string | undefined;
  do {
    const page = answerOf<ListAnswer>(
      "list_operations",
      await callTool(client, "list_operations", { limit: 1, ...(cursor && { cursor }) }),
    );
    seen.push(...page.operations.map((o) => o.operationId), ...(page.unreadable ?? []).map((o) => o.operationId));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  expect(seen).toEqual([fine, damaged, newer]);

  for (const id of [newer, damaged]) {
    const got = await ask("get_operation", { operationId: id });
    expect(got.isError).toBe(true);
    expect(got.text).toMatch(new RegExp(`^Operation ${id}\\b.* has a log this version of the server cannot read`));
    expect(got.text).toContain("look them up in the table (search_records or list_records) before writing them again");
    expect(got.text).toContain("have the server upgraded to the newer version that wrote it");
    expect(got.text).not.toMatch(/Internal error|\bat \S+\.ts:\d+|ZodError|SyntaxError/);
  }
  expect((await ask("get_operation", { operationId: newer })).text).toContain(
    `(create_records, on base ${baseId}, table ${tableId}, queued `,
  );
  expect((await ask("get_operation", { operationId: fine })).isError).toBe(false);
  // cancel_operation on one: the same tool error (it was a JSON-RPC "Internal error" for the whole request, from the
  // endpoint's check of the scopes a cancel needs, which reads the log first).
  for (const id of [newer, damaged]) {
    const cancelled = await ask("cancel_operation", { operationId: id });
    expect(cancelled.isError).toBe(true);
    expect(cancelled.text).toMatch(
      new RegExp(`^Operation ${id}\\b.* has a log this version of the server cannot read`),
    );
  }

  // Another user is told there is no such operation, as for any id not theirs.
  const otherUser = sandbox.addUser({ email: "someone-else@example.com" }).id;
  const { client: other } = await signInAndConnect(
    `${server.url}/mcp`,
    new TestOAuthProvider({ sandboxUser: otherUser }),
  );
  try {
    const theirs = resultText(await callTool(other, "get_operation", { operationId: newer }));
    expect(theirs).toMatch(/^There is no operation/);
  } finally {
    await other.close();
  }
}, 60_000);
