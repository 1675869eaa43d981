/**
 * The newcomer trial, as real processes in embedded mode (`npm start`: the fake Airtable in the same process, the
 * operation log and the claims of recent calls in SQLite): create_records of 1,000 records, the server killed with
 * SIGKILL mid-way, so the client never gets an answer; after the restart the operation resumes (by design) and the
 * agent re-sends the same call, as agents do. The retry is attached to the resumed operation (same operationId, and
 * its answer says so) instead of creating the records again: the table ends with every record once
 * (src/shared/operations/recent-calls.ts). Before, it ended with every record twice.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { expect, it } from "vitest";
import { freePort } from "../e2e/helpers/server-process.ts";
import { callWriteTool, listOperations, pollOperation } from "../e2e/helpers/write-operations.ts";
import { contactsNamed, useDemo } from "./support/demo.ts";

const demo = useDemo({ dataDirPrefix: "retry-crash-", env: { LOG_LEVEL: "warn" } });

/** How many records of the Contacts table carry each Name starting with `prefix`. */
async function countNamed(client: Client, baseId: string, prefix: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const { name } of await contactsNamed(client, baseId, prefix)) counts.set(name, (counts.get(name) ?? 0) + 1);
  return counts;
}

it("a create re-sent after a crash and restart is attached to the resumed operation: every record once", async () => {
  const port = await freePort();
  const mcpUrl = `http://localhost:${port}/mcp`;
  const first = await demo.start(port, { killOnProgress: "100 of 1,000" });
  const { client, provider, baseId } = await demo.connect(mcpUrl);

  const total = 1_000;
  const prefix = "retried ";
  const args = {
    baseId,
    tableId: "Contacts",
    records: Array.from({ length: total }, (_, i) => ({ fields: { Name: `${prefix}${i}` } })),
  };
  const call = client
    .callTool({ name: "create_records", arguments: args }, undefined, { timeout: 60_000, onprogress: () => {} })
    .then(
      (result) => result as CallToolResult,
      () => undefined,
    );
  const exit = await first.exited;
  await client.close().catch(() => undefined);
  // No answer, so no operationId: what the agent had was "fetch failed".
  expect(await call).toBeUndefined();
  expect(exit.signal).toBe("SIGKILL");

  await new Promise((resolve) => setTimeout(resolve, 1_100));
  await demo.start(port);
  const again = await demo.reconnect(mcpUrl, provider);
  // The operation the killed call queued, resumed by the restart (read before the retry, which could add one).
  const [resumed] = await listOperations(again, 5);
  expect(resumed).toMatchObject({ kind: "create_records", progress: { recordsTotal: total } });
  const retry = await callWriteTool(again, "create_records", args);
  expect(retry.operationId).toBe(resumed?.operationId);
  expect(retry.message).toMatch(
    new RegExp(
      `^This is not a new operation: an identical call .* as operation ${retry.operationId} and had not finished`,
    ),
  );
  const done = await pollOperation([again], retry.operationId, { timeoutMs: 90_000 });
  expect(done.status, done.message).toBe("completed");

  const counts = await countNamed(again, baseId, prefix);
  expect(counts.size).toBe(total);
  expect(
    [...counts].filter(([, n]) => n !== 1),
    "records created more than once",
  ).toEqual([]);
}, 180_000);
