/**
 * A worker process started alone (src/worker/main.ts, the worker image's entrypoint; `npm start` with
 * ROLE=worker) with its Airtable URLs at a sandbox that is not running: it starts and takes jobs, but says so in
 * one warning line naming the settings, the URL, the error and the fix, as the server does (before session 22 it
 * said nothing, and each operation failed later on its own). At a running sandbox: no warning. Real worker
 * processes on real Redis; a real sandbox over real HTTP; a loopback port nothing listens on.
 */
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { freePort, startNodeProcess, type ServerProcess } from "../e2e/helpers/server-process.ts";
import { testRedisUrl, useTestRedis } from "../helpers/redis.ts";

const { prefix } = useTestRedis("worker-airtable-unreachable");
// One deployment (one key prefix): every worker of it needs the same key, or the second refuses to start.
const key = randomBytes(32).toString("base64");

const processes: ServerProcess[] = [];
let sandbox: Sandbox | undefined;
afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop()));
  await sandbox?.close();
});

/**
 * A worker process of its own, its three Airtable URLs at `airtableUrl`; resolves once /healthz answers (on
 * HEALTH_PORT, or on `extra.PORT` for ROLE=all, whose worker has the server's).
 */
async function startWorkerAt(
  main: "src/worker/main.ts" | "src/main.ts",
  airtableUrl: string,
  extra: Record<string, string> = {},
): Promise<ServerProcess> {
  const port = await freePort();
  const worker = await startNodeProcess({
    main,
    port: extra.PORT === undefined ? port : Number(extra.PORT),
    label: `${main} at ${airtableUrl}`,
    env: {
      REDIS_URL: testRedisUrl(),
      REDIS_KEY_PREFIX: prefix,
      HEALTH_PORT: String(port),
      AIRTABLE_CLIENT_ID: "worker-unreachable-test",
      TOKEN_ENCRYPTION_KEY: key,
      AIRTABLE_API_URL: airtableUrl,
      AIRTABLE_AUTH_URL: airtableUrl,
      AIRTABLE_CONTENT_URL: airtableUrl,
      LOG_LEVEL: "info",
      ...extra,
    },
  });
  processes.push(worker);
  return worker;
}

/** Waits (≤ 10 s) until `done` holds for the process's output so far; fails showing the output otherwise. */
async function waitForOutput(worker: ServerProcess, done: (output: string) => boolean): Promise<string> {
  const deadline = Date.now() + 10_000;
  while (!done(worker.fullOutput())) {
    if (Date.now() > deadline) throw new Error(`the awaited line never came. ${worker.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return worker.fullOutput();
}

/** The messages of the JSON log lines at level warn. */
function warnings(output: string): string[] {
  return output
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as { level?: string; message?: string })
    .filter((line) => line.level === "warn")
    .map((line) => line.message ?? "");
}

describe("a worker started alone with its Airtable URLs at a sandbox that is not running", () => {
  it.each(["src/worker/main.ts", "src/main.ts"] as const)(
    "%s: starts, with one warning naming the settings, the URL, ECONNREFUSED and npm run sandbox",
    async (main) => {
      const dead = `http://127.0.0.1:${await freePort()}`;
      const worker = await startWorkerAt(main, dead, main === "src/main.ts" ? { ROLE: "worker" } : {});
      const output = await waitForOutput(
        worker,
        (out) => out.includes('"worker ready"') && out.includes("did not answer"),
      );
      const about = warnings(output).filter((w) => w.includes(dead));
      expect(about, worker.output()).toHaveLength(1);
      expect(about[0]).toContain(`AIRTABLE_AUTH_URL and AIRTABLE_API_URL and AIRTABLE_CONTENT_URL (${dead})`);
      expect(about[0]).toContain("ECONNREFUSED");
      expect(about[0]).toContain("The writes this worker runs will fail until it does");
      expect(about[0]).toContain("start the sandbox: npm run sandbox");
      // Started regardless, and still running.
      expect((await fetch(`${worker.url}/healthz`)).status).toBe(200);
    },
    60_000,
  );
});

describe("npm start with ROLE=all (server and worker in one process) at a sandbox that is not running", () => {
  it("warns once per URL (the server's check), not once more for its worker", async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const port = await freePort();
    const all = await startWorkerAt("src/main.ts", dead, {
      ROLE: "all",
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
    });
    await waitForOutput(all, (out) => out.includes('"worker ready"') && out.includes("did not answer"));
    // A refused connection is answered at once: a second check's line would be here by now.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const about = warnings(all.fullOutput()).filter((w) => w.includes(dead));
    expect(about, all.output()).toHaveLength(1);
    expect(about[0]).toContain("Sign-ins and tool calls will fail until it does");
  }, 60_000);
});

describe("a worker started alone with its Airtable URLs at a running sandbox", () => {
  it("checks them (one HEAD request) and warns about nothing", async () => {
    sandbox = await startSandbox();
    const worker = await startWorkerAt("src/worker/main.ts", sandbox.url);
    const checked = (): boolean => sandbox!.requests.some((r) => r.method === "HEAD" && r.endTime !== undefined);
    const output = await waitForOutput(worker, (out) => out.includes('"worker ready"') && checked());
    // The answer reached the worker: a warning would have followed at once.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(
      warnings(worker.fullOutput()).filter((w) => w.includes(sandbox!.url) || w.includes("did not answer")),
      output,
    ).toEqual([]);
    expect(sandbox.requests.filter((r) => r.method === "HEAD")).toHaveLength(1);
  }, 60_000);
});
