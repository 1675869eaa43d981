/**
 * A create retried while its first call's operation is unfinished is attached to that operation instead of writing
 * the records twice (src/shared/operations/recent-calls.ts), in distributed mode: the server app with its BullMQ
 * runner and a worker started on demand, real Redis, the Airtable sandbox, the real MCP SDK client over HTTP. With
 * no worker yet the operations stay queued, so a retry surely meets an unfinished one:
 * - an identical create_records (same base, table, records, typecast; the table named by id instead of by name)
 *   answers with the earlier operation's id and says so (typecast given as true or left to its default alike); one
 *   record different, or typecast different, queues anew;
 * - two identical calls at the same moment get one operation between them;
 * - once the worker ran them, the table holds every record once; an identical call after that is a new operation
 *   (a finished one is never reused: the agent may want the records twice);
 * - create_record is attached the same way.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../../src/sandbox/index.ts";
import { signInAndConnect } from "../../e2e/helpers/mcp-client.ts";
import { TestOAuthProvider } from "../../e2e/helpers/test-oauth-provider.ts";
import { callWriteTool, countByName, pollOperation } from "../../e2e/helpers/write-operations.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";
import { startServerHarness, type ServerHarness } from "../../support/admin-test-harness.ts";

const keyPrefix = uniquePrefix("identical-create");
const redis = createTestRedis();
let sandbox: Sandbox;
let server: ServerHarness;
let client: Client;
let baseId: string;
let tableId: string;

beforeAll(async () => {
  sandbox = await startSandbox();
  // No worker at first: every operation stays queued, and the call answers after 1 s with its operationId.
  server = await startServerHarness({ sandbox, keyPrefix, env: { WRITE_WAIT_MS: "1000" } });
  const user = sandbox.addUser({ email: "retry@example.com", name: "Retry" });
  const base = sandbox.createBase(user.id, {
    name: "Retries",
    tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }] }],
  });
  baseId = base.id;
  tableId = base.tables[0]!.id;
  ({ client } = await signInAndConnect(`${server.url}/mcp`, new TestOAuthProvider({ sandboxUser: user.id })));
});

afterAll(async () => {
  await client?.close();
  await server?.close();
  await sandbox?.close();
  await deleteKeys(redis, keyPrefix);
  redis.disconnect();
});

const records = (label: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ fields: { Name: `${label}${i}` } }));
const create = (args: Record<string, unknown>) =>
  callWriteTool(client, "create_records", { baseId, tableId: "Tasks", ...args });
const attachedSentence = (operationId: string) =>
  new RegExp(
    `^This is not a new operation: an identical call \\(same base, table, records and options\\) was accepted at \\S+Z as operation ${operationId} and had not finished, so this call was attached to it and nothing was queued again \\(no record is created twice\\)\\. To create these records a second time on purpose, send the call again once that operation has finished\\.`,
  );

describe("an identical create while the first is unfinished (distributed mode)", () => {
  const ids: Record<string, string> = {};

  it("answers with the earlier operation, and says so; a different call queues its own", async () => {
    const first = await create({ records: records("a", 25) });
    expect(first.status).toBe("queued");
    expect(first.message).not.toMatch(/not a new operation/);
    ids.a = first.operationId;

    const retry = await callWriteTool(client, "create_records", { baseId, tableId, records: records("a", 25) });
    expect(retry.operationId).toBe(first.operationId);
    expect(retry.status).toBe("queued");
    expect(retry.message).toMatch(attachedSentence(first.operationId));
    // typecast given as true is the call that left it to its default (true): attached too.
    const explicit = await create({ records: records("a", 25), typecast: true });
    expect(explicit.operationId).toBe(first.operationId);
    expect(explicit.message).toMatch(attachedSentence(first.operationId));

    const other = await create({ records: [...records("a", 24), { fields: { Name: "b" } }] });
    expect(other.operationId).not.toBe(first.operationId);
    expect(other.message).not.toMatch(/not a new operation/);
    ids.other = other.operationId;
    const noTypecast = await create({ records: records("a", 25), typecast: false });
    expect(noTypecast.operationId).not.toBe(first.operationId);
    ids.noTypecast = noTypecast.operationId;

    const single = await callWriteTool(client, "create_record", { baseId, tableId: "Tasks", fields: { Name: "one" } });
    const singleAgain = await callWriteTool(client, "create_record", { baseId, tableId, fields: { Name: "one" } });
    expect(singleAgain.operationId).toBe(single.operationId);
    expect(singleAgain.message).toMatch(attachedSentence(single.operationId));
    ids.single = single.operationId;
  }, 30_000);

  it("two identical calls at the same moment get one operation", async () => {
    const [x, y] = await Promise.all([create({ records: records("c", 15) }), create({ records: records("c", 15) })]);
    expect(x.operationId).toBe(y.operationId);
    expect([x.message, y.message].filter((m) => /not a new operation/.test(m))).toHaveLength(1);
    ids.c = x.operationId;
  }, 30_000);

  it("once run, the table holds each record once; an identical call after the end is a new operation", async () => {
    await server.startWorker(); // stopped by server.close()
    for (const id of Object.values(ids)) {
      const done = await pollOperation([client], id, { timeoutMs: 60_000 });
      expect(done.status, done.message).toBe("completed");
    }
    const counts = countByName(sandbox.listRecordsDirect(baseId, "Tasks"));
    // a0…a23 by three operations (a, other, noTypecast), a24 by two (a, noTypecast), b once, c0…c14 once, one once.
    expect(counts.get("a0")).toBe(3);
    expect(counts.get("a24")).toBe(2);
    expect(counts.get("b")).toBe(1);
    expect(counts.get("one")).toBe(1);
    for (let i = 0; i < 15; i++) expect(counts.get(`c${i}`), `c${i}`).toBe(1);

    const again = await create({ records: records("c", 15) });
    expect(again.operationId).not.toBe(ids.c);
    expect(again.message).not.toMatch(/not a new operation/);
    const done = await pollOperation([client], again.operationId, { timeoutMs: 60_000 });
    expect(done.status).toBe("completed");
    expect(countByName(sandbox.listRecordsDirect(baseId, "Tasks")).get("c0")).toBe(2);
  }, 120_000);
});
