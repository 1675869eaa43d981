/**
 * The one-command demo (`npm start`: no REDIS_URL, no AIRTABLE_CLIENT_ID; the fake Airtable in the same process,
 * its data in DATA_DIR/fake-airtable.json, the operation log in SQLite) killed with SIGKILL in the middle of a
 * create_records, as real processes: after the restart, every record get_operation reports written is in the table
 * (list_records) and readable (get_record). The fake Airtable used to save its file up to 100 ms after answering
 * while the operation log was durable at once, so a kill right after a batch's answer (a newcomer killed it on the
 * "100 of 200 written" progress) kept the log and lost that batch: get_operation gave ids that answered
 * MODEL_ID_NOT_FOUND. Real Airtable never loses a write it answered; the demo must not either (README: crash-safe).
 * The process kills itself as it sends that progress (tests/fixtures/kill-on-progress.ts), so the kill always lands
 * in the old gap, whatever the machine's load does to this test process.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { expect, it } from "vitest";
import { callTool, resultText } from "../e2e/helpers/mcp-client.ts";
import { freePort } from "../e2e/helpers/server-process.ts";
import { allResults, listOperations, pollOperation } from "../e2e/helpers/write-operations.ts";
import { contactsNamed, useDemo } from "./support/demo.ts";

/** `npm start` on a DATA_DIR of its own; `demo.start(port, { killOnProgress })` SIGKILLs itself on that progress. */
const demo = useDemo({ dataDirPrefix: "demo-crash-", env: { LOG_LEVEL: "warn" } });

/** Every record of the Contacts table whose Name starts with `prefix`: id → Name. */
async function listNamed(client: Client, baseId: string, prefix: string): Promise<Map<string, string>> {
  return new Map((await contactsNamed(client, baseId, prefix)).map(({ id, name }) => [id, name]));
}

it("SIGKILL right after a batch was answered: after the restart every record get_operation reports written exists", async () => {
  const port = await freePort();
  const mcpUrl = `http://localhost:${port}/mcp`;
  // The progress after the tenth batch of 10 is sent once the operation log holds that batch: the process dies right
  // after the fake Airtable answered it, as in a crash (tests/fixtures/kill-on-progress.ts).
  const first = await demo.start(port, { killOnProgress: "100 of 200" });
  const { client, provider, baseId } = await demo.connect(mcpUrl);

  const total = 200;
  const prefix = "crash-kept ";
  const records = Array.from({ length: total }, (_, i) => ({ fields: { Name: `${prefix}${i}` } }));
  const seen: string[] = [];
  const call = client
    .callTool({ name: "create_records", arguments: { baseId, tableId: "Contacts", records } }, undefined, {
      timeout: 60_000,
      onprogress: (progress) => void seen.push(progress.message ?? ""),
    })
    .then(
      (result) => result as CallToolResult,
      () => undefined,
    );
  const exit = await first.exited;
  // The client's stream does not end with the killed process by itself: closing the client ends the call.
  await client.close().catch(() => undefined);
  const answer = await call;
  expect(exit.signal, answer === undefined ? first.output() : resultText(answer)).toBe("SIGKILL");
  // Killed as it sent the tenth progress: the client got the first nine.
  expect(seen.at(-1)).toMatch(/^90 of 200 written/);

  // A real restart takes longer than Airtable's one-second window; the new process's limiter starts empty.
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  await demo.start(port);
  const again = await demo.reconnect(mcpUrl, provider);
  const [operation] = await listOperations(again, 1);
  expect(operation?.kind).toBe("create_records");
  const operationId = operation?.operationId;
  const done = await pollOperation([again], operationId!, { timeoutMs: 60_000 });
  expect(done.status, done.message).toBe("completed");
  expect(done.message).toContain(`${total} records written of ${total}`);

  const results = await allResults(again, operationId!);
  expect(results).toHaveLength(total);
  const inTable = await listNamed(again, baseId, prefix);
  const missing = results.filter((r) => r.id === undefined || inTable.get(r.id) !== `${prefix}${r.index}`);
  expect(
    missing.map((r) => r.index),
    "items get_operation reports written that the table does not hold",
  ).toEqual([]);
  expect(inTable.size, "no record written twice").toBe(total);
  // The batch answered just before the kill, read one by one.
  for (const r of results.filter((x) => x.index >= 90 && x.index < 100)) {
    const read = await callTool(again, "get_record", { baseId, tableId: "Contacts", recordId: r.id! });
    expect(read.isError, resultText(read)).not.toBe(true);
  }
}, 180_000);
