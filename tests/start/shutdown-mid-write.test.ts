/**
 * Ctrl-C (SIGINT) to the demo (`npm start` with no configuration, a real process) in the middle of a
 * create_records: the terminal used to show only `shutting down` … `stopped`, so a person could not tell the write
 * was left half done on purpose, nor that it goes on by itself. The shutdown's log now names it — `1 operation
 * paused (op_…): it continues when the server starts again` — and the next start does continue it to the end.
 */
import { expect, it } from "vitest";
import { freePort, type ServerProcess } from "../e2e/helpers/server-process.ts";
import { callWriteTool, pollOperation } from "../e2e/helpers/write-operations.ts";
import { useDemo } from "./support/demo.ts";

/** `npm start` on a DATA_DIR of its own, logging as a person running it sees (LOG_LEVEL's default, info). */
const demo = useDemo({
  dataDirPrefix: "demo-ctrl-c-",
  // The write's call answers at once with its operation id, so the test can stop the process while it runs.
  env: { WRITE_WAIT_MS: "0" },
});

/** The message of every JSON log line the process printed. */
function logMessages(proc: ServerProcess): string[] {
  return proc
    .fullOutput()
    .split("\n")
    .flatMap((line) => {
      try {
        const parsed = JSON.parse(line) as { message?: unknown };
        return typeof parsed.message === "string" ? [parsed.message] : [];
      } catch {
        return [];
      }
    });
}

it("Ctrl-C mid-write: the shutdown log names the paused operation and says it continues at the next start; it does", async () => {
  const port = await freePort();
  const mcpUrl = `http://localhost:${port}/mcp`;
  const first = await demo.start(port);
  const { client, provider, baseId } = await demo.connect(mcpUrl);

  // 300 records: 30 batches at the base's 5 requests per second, ~6 s of work; stopped after the second batch.
  const total = 300;
  const records = Array.from({ length: total }, (_, i) => ({ fields: { Name: `ctrl-c ${i}` } }));
  const started = await callWriteTool(client, "create_records", { baseId, tableId: "Contacts", records });
  const operationId = started.operationId;
  await pollOperation([client], operationId, {
    until: (answer) => answer.done || answer.progress.batchesDone >= 2,
    intervalMs: 50,
  });
  first.kill("SIGINT");
  const exit = await first.exited;
  expect(exit.code, first.output()).toBe(0);
  const said = logMessages(first);
  const shutdown = said.slice(said.indexOf("shutting down"));
  expect(shutdown, first.output()).toContain(
    `1 operation paused (${operationId}): it continues when the server starts again`,
  );
  // Said before the process reports it has stopped.
  expect(shutdown.at(-1)).toBe("stopped");
  await client.close().catch(() => undefined);

  await demo.start(port);
  const again = await demo.reconnect(mcpUrl, provider);
  const done = await pollOperation([again], operationId, { timeoutMs: 60_000 });
  expect(done.status, done.message).toBe("completed");
  expect(done.progress).toMatchObject({ recordsTotal: total, recordsSucceeded: total });
}, 180_000);
