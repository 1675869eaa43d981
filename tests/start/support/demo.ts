/**
 * Test-only: the one-command demo (`npm start` with no configuration: `node src/main.ts`, the fake Airtable in the
 * same process, its data and the operation log in DATA_DIR) as real processes on a temporary DATA_DIR of their own,
 * and MCP clients signed in to it, for the tests/start tests that stop or kill the demo and start it again on the
 * same directory (shutdown-mid-write, demo-crash-durability, data-dir-lock); {@link useEmbeddedDemo} runs it in the
 * test's own process (startEmbedded) for tests that only talk to it over HTTP (mcp-url-in-browser, wrong-endpoint),
 * and tests/e2e/one-command-start.test.ts runs `npm start` itself in a clone.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll } from "vitest";
import { loadConfig } from "../../../src/shared/config.ts";
import { createLogger } from "../../../src/shared/logger.ts";
import { startEmbedded, type RunningEmbedded } from "../../../src/start/embedded.ts";
import { callTool, connectClient, signInAndConnect } from "../../e2e/helpers/mcp-client.ts";
import { freePort, startNodeProcess, type ServerProcess } from "../../e2e/helpers/server-process.ts";
import { TestOAuthProvider } from "../../e2e/helpers/test-oauth-provider.ts";
import { answerOf } from "../../e2e/helpers/write-operations.ts";

/** What one start of the demo adds to {@link useDemo}'s environment. */
export interface DemoStartOptions {
  /**
   * The process SIGKILLs itself as it sends an MCP client a progress message containing this (e.g. "100 of 200"):
   * tests/fixtures/kill-on-progress.ts, preloaded with `--import`.
   */
  killOnProgress?: string;
}

/** The demo on one DATA_DIR; see {@link useDemo}. */
export interface Demo {
  /** The temporary DATA_DIR every start uses (removed after the file's tests). */
  readonly dataDir: string;
  /** Starts the demo on `port` (PORT, DATA_DIR, and useDemo's `env`); resolves once /healthz answers. */
  start(port: number, options?: DemoStartOptions): Promise<ServerProcess>;
  /**
   * Signs a new MCP client in at `mcpUrl` (the demo signs the browser in at its fake Airtable by itself: the provider
   * only follows redirects) and finds the seeded "Demo CRM" base through list_bases. `provider` keeps the tokens,
   * for {@link Demo.reconnect} after a restart.
   */
  connect(mcpUrl: string): Promise<{ client: Client; provider: TestOAuthProvider; baseId: string }>;
  /** A client of a restarted demo with `provider`'s tokens (no new sign-in). */
  reconnect(mcpUrl: string, provider: TestOAuthProvider): Promise<Client>;
}

/**
 * Call at a test file's top level: a temporary DATA_DIR named `${dataDirPrefix}…`, and an afterAll that closes the
 * clients this Demo connected, stops every process it started and removes the directory. `env` is added to every
 * start (e.g. LOG_LEVEL, WRITE_WAIT_MS); PORT and DATA_DIR are set by `start`.
 */
export function useDemo(options: { dataDirPrefix: string; env?: Record<string, string> }): Demo {
  const dataDir = mkdtempSync(path.join(tmpdir(), options.dataDirPrefix));
  const processes: ServerProcess[] = [];
  const clients: Client[] = [];
  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await Promise.allSettled(processes.map((p) => p.stop()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  return {
    dataDir,
    async start(port, { killOnProgress } = {}) {
      const proc = await startNodeProcess({
        main: "src/main.ts",
        port,
        ...(killOnProgress !== undefined && { nodeArgs: ["--import", "./tests/fixtures/kill-on-progress.ts"] }),
        env: {
          PORT: String(port),
          DATA_DIR: dataDir,
          ...options.env,
          ...(killOnProgress !== undefined && { KILL_ON_PROGRESS: killOnProgress }),
        },
        label: "npm start (the demo)",
      });
      processes.push(proc);
      return proc;
    },

    async connect(mcpUrl) {
      const provider = new TestOAuthProvider({});
      const { client } = await signInAndConnect(mcpUrl, provider);
      clients.push(client);
      const bases = answerOf<{ bases: { id: string; name: string }[] }>(
        "list_bases",
        await callTool(client, "list_bases", {}),
      );
      const baseId = bases.bases.find((b) => b.name === "Demo CRM")!.id;
      return { client, provider, baseId };
    },

    async reconnect(mcpUrl, provider) {
      // This process's fetch pool may still hold a kept-alive socket to the stopped server: a first request drops it.
      await fetch(new URL("/healthz", mcpUrl)).catch(() => undefined);
      const client = await connectClient(mcpUrl, provider);
      clients.push(client);
      return client;
    },
  };
}

/**
 * Call at a test file's top level: the demo as `npm start` with no configuration runs it (PORT a free port, DATA_DIR
 * a temporary `${dataDirPrefix}…` directory), started in this process (startEmbedded, its log and banner silenced)
 * before the file's tests and closed after them, the directory removed. The returned function gives the running demo
 * (its `mcpUrl`); call it inside tests and hooks, once the demo has started.
 */
export function useEmbeddedDemo(dataDirPrefix: string): () => RunningEmbedded {
  const dataDir = mkdtempSync(path.join(tmpdir(), dataDirPrefix));
  let running: RunningEmbedded | undefined;
  beforeAll(async () => {
    const config = loadConfig({ PORT: String(await freePort()), DATA_DIR: dataDir }, "start");
    running = await startEmbedded(config, {
      logger: createLogger({ level: "warn", name: "embedded" }, { write: () => undefined }),
      print: () => undefined,
    });
  }, 120_000);
  afterAll(async () => {
    await running?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return () => {
    if (running === undefined) throw new Error("useEmbeddedDemo: the demo has not started (call it inside a test)");
    return running;
  };
}

/**
 * Every record of the demo's Contacts table whose Name starts with `prefix`, as `{ id, name }` in list_records'
 * order, read through list_records' pages (a filterByFormula on the prefix): what a crash test counts after the
 * restart (each record once, none lost).
 */
export async function contactsNamed(
  client: Client,
  baseId: string,
  prefix: string,
): Promise<{ id: string; name: string }[]> {
  const found: { id: string; name: string }[] = [];
  let cursor: string | undefined;
  do {
    const page = answerOf<{ records: { id: string; fields: { Name?: string } }[]; nextCursor?: string }>(
      "list_records",
      await callTool(client, "list_records", {
        baseId,
        tableId: "Contacts",
        fields: ["Name"],
        filterByFormula: `FIND("${prefix}", {Name}) = 1`,
        ...(cursor === undefined ? {} : { cursor }),
      }),
    );
    for (const record of page.records) found.push({ id: record.id, name: String(record.fields.Name) });
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return found;
}
