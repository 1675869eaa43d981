/**
 * Ctrl-C (SIGINT) to the demo (`npm start` with no configuration, a real process) in the middle of a
 * create_records: the terminal used to show only `shutting down` … `stopped`, so a person could not tell the write
 * was left half done on purpose, nor that it goes on by itself. The shutdown's log now names it — `1 operation
 * paused (op_…): it continues when the server starts again` — and the next start does continue it to the end.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, expect, it } from "vitest";
import { callTool, connectClient, signInAndConnect } from "../e2e/helpers/mcp-client.ts";
import { freePort, startNodeProcess, type ServerProcess } from "../e2e/helpers/server-process.ts";
import { TestOAuthProvider } from "../e2e/helpers/test-oauth-provider.ts";
import { answerOf, callWriteTool, pollOperation } from "../e2e/helpers/write-operations.ts";

const dataDir = mkdtempSync(path.join(tmpdir(), "demo-ctrl-c-"));
const processes: ServerProcess[] = [];
const clients: Client[] = [];
afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await Promise.allSettled(processes.map((p) => p.stop()));
  rmSync(dataDir, { recursive: true, force: true });
});

/** `npm start` on DATA_DIR, logging as a person running it sees (LOG_LEVEL's default, info). */
async function startDemo(port: number): Promise<ServerProcess> {
  const proc = await startNodeProcess({
    main: "src/main.ts",
    port,
    // The write's call answers at once with its operation id, so the test can stop the process while it runs.
    env: { PORT: String(port), DATA_DIR: dataDir, WRITE_WAIT_MS: "0" },
    label: "npm start (the demo)",
  });
  processes.push(proc);
  return proc;
}

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
  const first = await startDemo(port);
  const provider = new TestOAuthProvider({});
  const { client } = await signInAndConnect(mcpUrl, provider);
  clients.push(client);
  const bases = answerOf<{ bases: { id: string; name: string }[] }>(
    "list_bases",
    await callTool(client, "list_bases", {}),
  );
  const baseId = bases.bases.find((b) => b.name === "Demo CRM")!.id;

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

  await startDemo(port);
  // This process's fetch pool may still hold a kept-alive socket to the stopped server: a first request drops it.
  await fetch(new URL("/healthz", mcpUrl)).catch(() => undefined);
  const again = await connectClient(mcpUrl, provider);
  clients.push(again);
  const done = await pollOperation([again], operationId, { timeoutMs: 60_000 });
  expect(done.status, done.message).toBe("completed");
  expect(done.progress).toMatchObject({ recordsTotal: total, recordsSucceeded: total });
}, 180_000);
