import { randomBytes } from "node:crypto";
import { AsyncLocalStorage } from "node:async_hooks";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { Redis } from "ioredis";
import { callTool, connectClient, resultText, signInAndConnect } from "../../tests/e2e/helpers/mcp-client.ts";
import {
  freePort,
  startNodeProcess,
  startServerProcess,
  type ServerProcess,
} from "../../tests/e2e/helpers/server-process.ts";
import { TestOAuthProvider } from "../../tests/e2e/helpers/test-oauth-provider.ts";
import type { BenchContext, Scenario, ScenarioResult } from "../scenario.ts";
import { imageNodeOptions } from "../support/image-node-options.ts";
import { processCpuMs, processRssMb, summariseProfiles, type CostGroup } from "../support/process-stats.ts";
import { deleteKeys } from "../support/redis.ts";
import { startSandboxProcess, type SandboxProcess, type SeededBase } from "../../tests/support/sandbox-process.ts";
import { diffCounts, startRedisCounter, type RedisCounts } from "../support/redis-counter.ts";
import { formatMs, median, percentile } from "../support/stats.ts";

/**
 * Many signed-in users at once (issue 13 §3, issue 15): USERS users, each with their own grant from the real OAuth
 * flow, call read tools (each once every USER_INTERVAL_MS, or back to back) through the MCP SDK client, spread over
 * INSTANCES real server processes (`src/server/main.ts`, distributed mode) sharing one Redis, against the sandbox at
 * 0 ms latency with BASES bases. Measured from outside the servers: calls/s, latency, CPU time and RSS of each
 * process (/proc), and every Redis command they send (a counting proxy) or Redis executes for them (MONITOR on a
 * database of their own).
 *   BENCH_USERS      signed-in users, default 500
 *   BENCH_REDIS_DB   the Redis database the servers use and MONITOR counts, default 13 (must be unused)
 *   BENCH_CPU_PROF=1 run the servers with --cpu-prof and print the functions with the most self time
 *   BENCH_SERVER_NODE_ARGS  extra Node options for the servers, e.g. "--max-old-space-size=192" (heap experiments);
 *                    they come after the server image's NODE_OPTIONS, which the servers always get (as deployed)
 *   BENCH_IMAGE_NODE_OPTIONS=off  run the servers without the server image's NODE_OPTIONS
 *   BENCH_FLOOR=off  skip the floor (a bare Node server doing the same I/O per call, bench/support/floor-server.ts),
 *                    measured after the servers at the same pace; paced runs only (back to back the loads differ)
 *   BENCH_FLOOR_MODES  which floors, comma-separated, default "bare,sdk": `bare` (node:http alone), `sdk` (the same
 *                    I/O served through the MCP SDK as src/server serves a 2025-era call: a new McpServer and
 *                    Web-standard transport per request behind @hono/node-server), `shared` (one McpServer per
 *                    process on a minimal Transport of the floor's own: what the SDK's per-request objects cost)
 *   BENCH_WARMUP_MS  the warm-up before the measured window (and before each floor's), default 5000. Longer is not
 *                    "more steady": each user's schema expires 60 s after it was read (schema-cache.ts), so a window
 *                    that starts 30 s after the sign-ins falls before the first wave of refreshes and meets fewer
 *                    schema reads than a long-running server does
 *   BENCH_LOG_LEVEL  the servers' LOG_LEVEL, default the server's own default (info: one "tool call" line per call,
 *                    written to a pipe the benchmark reads, as Cloud Run reads stdout). Before session 32 the servers
 *                    ran at warn, which left that line's cost (~30 µs of CPU per call, measured in isolation) out
 *   BENCH_JIT_TRACE=1  run the servers with V8's --trace-opt and print how many optimizing compile jobs finished in
 *                    the measured window and their time (wall time of each job, on V8's background threads)
 *   BENCH_SERVER_MAINS  the main script of each instance, comma-separated (default `src/server/main.ts` for both),
 *                    e.g. "src/server/main.ts,/tmp/ab-old/src/server/main.ts": two versions of the server measured
 *                    side by side in one run, under the same load of the host at every moment (an A/B that host
 *                    drift between runs cannot move); swap the order in the next run, as the instances are not
 *                    alike (instance 0 serves the sign-ins)
 */
const USERS = Number(process.env.BENCH_USERS ?? 500);
const INSTANCES = 2;
const BASES = 100;
const RECORDS_PER_TABLE = 20;
const PAGE_SIZE = 10;
const SIGN_IN_CONCURRENCY = 25;
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 5_000);
/**
 * Each user calls once per USER_INTERVAL_MS (open loop, start times spread): 500 users → 250 calls/s offered.
 * At 0 ms Airtable latency a back-to-back loop would only measure queueing at the per-base limit (5 req/s); a
 * paced load below it measures what the server adds per call. BENCH_USER_INTERVAL_MS=0 runs back to back.
 */
const USER_INTERVAL_MS = Number(process.env.BENCH_USER_INTERVAL_MS ?? 2_000);
/** Each user works in this many bases (user i: bases i, i+1, … mod BASES), as people work in a few bases. */
const BASES_PER_USER = 2;
const IDLE_MS = 5_000;
const REDIS_DB = Number(process.env.BENCH_REDIS_DB ?? 13);
const CPU_PROF = process.env.BENCH_CPU_PROF === "1";
/** Servers run with V8's --trace-opt; the compile time of the jobs finished in the measured window is printed. */
const JIT_TRACE = process.env.BENCH_JIT_TRACE === "1";
/** What a deployment logs unless told otherwise (config.ts LOG_LEVEL's default): the bench measures that. */
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? "info";
/** The server image's NODE_OPTIONS (Dockerfile.server): the servers run as the image runs them. */
const IMAGE_NODE_OPTIONS = process.env.BENCH_IMAGE_NODE_OPTIONS === "off" ? "" : imageNodeOptions();
const TOP_FRAMES = 15;
/** Each instance's main script (BENCH_SERVER_MAINS), relative to the repository root or absolute. */
const SERVER_MAINS = (process.env.BENCH_SERVER_MAINS ?? "")
  .split(",")
  .map((m) => m.trim())
  .filter((m) => m !== "");
if (SERVER_MAINS.length !== 0 && SERVER_MAINS.length !== INSTANCES) {
  throw new Error(`BENCH_SERVER_MAINS names ${SERVER_MAINS.length} scripts; give one per instance (${INSTANCES}).`);
}
/**
 * The floor runs at the same pace only. Back to back, the servers' calls queue behind the per-base limit (5 req/s)
 * while the floor's, with no limiter and no rate limits on its sandbox, would not: the two loads would differ.
 */
const FLOOR = process.env.BENCH_FLOOR !== "off" && USER_INTERVAL_MS > 0;
type FloorMode = "bare" | "sdk" | "shared";
const FLOOR_MODES = (process.env.BENCH_FLOOR_MODES ?? "bare,sdk")
  .split(",")
  .map((m) => m.trim())
  .filter((m): m is FloorMode => m === "bare" || m === "sdk" || m === "shared");
const FLOOR_LABELS: Record<FloorMode, string> = {
  bare: "floor (bare node:http)",
  sdk: "SDK floor (node:http + MCP SDK, a server per request)",
  shared: "SDK floor, one McpServer per process",
};

/** The parts of a read call's path the profile summary adds up (inclusive: a part and what it calls). */
const COST_GROUPS: CostGroup[] = [
  {
    label: "limiter (Bottleneck and its Redis scripts)",
    match: (f) => f.includes("bottleneck/") || f.includes("src/shared/limiter/"),
  },
  {
    label: "MCP SDK Streamable HTTP transport",
    match: (f) => /streamableHttp\.js|webStandardStreamableHttp\.js/.test(f),
  },
  { label: "building an McpServer (createMcpServer)", match: (f) => f.startsWith("createMcpServer ") },
  {
    label: "Airtable HTTP (AirtableTransport.send)",
    match: (f) => f.startsWith("send src/shared/airtable/transport.ts"),
  },
  { label: "bearer check (JWT + revocation read)", match: (f) => f.includes("src/server/auth/bearer.ts") },
  { label: "JWT verify (jose)", match: (f) => f.startsWith("jwtVerify ") },
  { label: "token decrypt (TokenCipher)", match: (f) => f.startsWith("decrypt src/shared/tokens/cipher.ts") },
  { label: "schema cache", match: (f) => f.startsWith("get src/shared/schema-cache.ts") },
  { label: "tool input/output validation (SDK, zod)", match: (f) => /^validateTool(Input|Output) /.test(f) },
  {
    label: "OAuth sign-in (not per call)",
    match: (f) => /src\/server\/auth\/(authorize|callback|token-endpoint|register)\.ts/.test(f),
  },
  { label: "garbage collector", match: (f) => f.startsWith("(garbage collector)") },
];

interface User {
  index: number;
  client: Client;
  instance: number;
}

/**
 * Each user signs in from an address of their own, as real users do: the servers trust one proxy hop
 * (TRUST_PROXY=1, as behind Cloud Run) and this process's fetch adds `X-Forwarded-For` for the user whose sign-in
 * is running. Without it, 500 sign-ins from 127.0.0.1 hit the per-address limit of the browser steps (60/min).
 */
const clientAddress = new AsyncLocalStorage<string>();

function withClientAddresses<T>(fn: () => Promise<T>): Promise<T> {
  const original = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    const address = clientAddress.getStore();
    if (address === undefined) return original(input, init);
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    headers.set("x-forwarded-for", address);
    return original(input, { ...init, headers });
  };
  return fn().finally(() => {
    globalThis.fetch = original;
  });
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i]!);
      }
    }),
  );
  return results;
}

async function startServers(
  ctx: BenchContext,
  sandbox: SandboxProcess,
  redisUrl: string,
  profileDir: string | undefined,
) {
  const ports: number[] = [];
  while (ports.length < INSTANCES) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  const publicUrl = `http://127.0.0.1:${ports[0]}`;
  const airtableClient = {
    clientId: `bench-many-${randomBytes(4).toString("hex")}`,
    clientSecret: randomBytes(24).toString("base64url"),
    redirectUris: [`${publicUrl}/oauth/callback`],
  };
  await sandbox.call("registerOAuthClient", airtableClient);
  const env: Record<string, string> = {
    PUBLIC_URL: publicUrl,
    ALLOWED_HOSTS: ports.map((p) => `127.0.0.1:${p}`).join(","),
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: ctx.keyPrefix,
    AIRTABLE_CLIENT_ID: airtableClient.clientId,
    AIRTABLE_CLIENT_SECRET: airtableClient.clientSecret,
    AIRTABLE_API_URL: sandbox.url,
    AIRTABLE_AUTH_URL: sandbox.url,
    AIRTABLE_CONTENT_URL: sandbox.url,
    TOKEN_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    TOKEN_STORE: "redis",
    TRUST_PROXY: "1",
    LOG_LEVEL,
    ...(IMAGE_NODE_OPTIONS !== "" && { NODE_OPTIONS: IMAGE_NODE_OPTIONS }),
  };
  const nodeArgs = [
    ...(process.env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter((a) => a !== ""),
    ...(profileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${profileDir}`]),
    ...(JIT_TRACE ? ["--trace-opt"] : []),
  ];
  return Promise.all(
    ports.map((port, i) =>
      SERVER_MAINS.length === 0
        ? startServerProcess({ port, env, label: `server ${i}`, nodeArgs })
        : startNodeProcess({
            main: SERVER_MAINS[i]!,
            port,
            env: { ...env, PORT: String(port) },
            label: `server ${i}`,
            nodeArgs,
          }),
    ),
  );
}

/**
 * One user's loop until `endAt` (performance.now() ms): read tools (list_records and get_record in turn) on rotating
 * bases, one call every USER_INTERVAL_MS (back to back with 0). A wait that would outlast `endAt` ends there, so the
 * window lasts what it says and calls/s is not diluted by users sleeping towards their next call.
 */
async function runUser(
  user: User,
  bases: SeededBase[],
  endAt: number,
  record: (user: User, ms: number, ok: boolean) => void,
): Promise<void> {
  let n = 0;
  const first = performance.now() + (USER_INTERVAL_MS > 0 ? Math.random() * USER_INTERVAL_MS : 0);
  for (;;) {
    const due = first + n * USER_INTERVAL_MS;
    const wait = Math.min(due, endAt) - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (performance.now() >= endAt) return;
    const b = bases[(user.index + (Math.floor(n / 2) % BASES_PER_USER)) % BASES]!;
    const started = performance.now();
    let ok = false;
    try {
      const result =
        n % 2 === 0
          ? await callTool(user.client, "list_records", { baseId: b.baseId, tableId: b.tableId, pageSize: PAGE_SIZE })
          : await callTool(user.client, "get_record", {
              baseId: b.baseId,
              tableId: b.tableId,
              recordId: b.recordIds[n % b.recordIds.length]!,
            });
      ok = result.isError !== true;
      if (!ok && Math.random() < 0.01) process.stderr.write(`bench:   tool error: ${resultText(result)}\n`);
    } catch (error) {
      if (Math.random() < 0.01) process.stderr.write(`bench:   call failed: ${String(error)}\n`);
    }
    record(user, performance.now() - started, ok);
    n += 1;
  }
}

/**
 * The measured window: every user's loop (runUser) for `seconds`; `record` gets each call with whether it was
 * answered within the window. Resolves with the seconds from the window's start until the last call was answered.
 */
async function runWindow(
  users: User[],
  bases: SeededBase[],
  seconds: number,
  record: (user: User, ms: number, ok: boolean, answeredInWindow: boolean) => void,
): Promise<number> {
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    users.map((u) => runUser(u, bases, end, (user, ms, ok) => record(user, ms, ok, performance.now() <= end))),
  );
  return (performance.now() - started) / 1000;
}

interface FloorResult {
  callsPerSecond: number;
  calls: number;
  errors: number;
  p50: number;
  p95: number;
  cpuMsPerCall: number;
  cpuMsPerCallNet: number;
}

/**
 * The floor (bench/support/floor-server.ts): INSTANCES bare Node processes doing one read call's I/O, driven by the
 * same number of MCP SDK clients at the same pace as the servers were, measured the same way (CPU of each process
 * over the window, net of its idle rate), against a sandbox of its own without rate limits. Each user's client
 * carries that user's sandbox token (no sign-in).
 */
async function measureFloor(ctx: BenchContext, mode: FloorMode): Promise<FloorResult> {
  // A sandbox of its own, seeded alike, without rate limits: the floor has no limiter, and random arrivals put 6
  // requests in some base's second now and then (Airtable's 429 then blocks that base for 30 s).
  const sandbox = await startSandboxProcess({ unlimited: true });
  try {
    const { userIds, bases } = await sandbox.call("seed", { users: USERS, bases: BASES, records: RECORDS_PER_TABLE });
    return await measureFloorAgainst(ctx, sandbox, bases, userIds, mode);
  } finally {
    await sandbox.close();
  }
}

async function measureFloorAgainst(
  ctx: BenchContext,
  sandbox: SandboxProcess,
  bases: SeededBase[],
  userIds: string[],
  mode: FloorMode,
): Promise<FloorResult> {
  const tokens = await sandbox.call("personalAccessTokens", { userIds });
  const ports: number[] = [];
  while (ports.length < INSTANCES) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  const started = await Promise.allSettled(
    ports.map((port, i) =>
      startNodeProcess({
        main: "bench/support/floor-server.ts",
        port,
        label: `floor ${i}`,
        env: {
          PORT: String(port),
          REDIS_URL: ctx.redisUrl,
          AIRTABLE_API_URL: sandbox.url,
          FLOOR_MODE: mode,
          ...(IMAGE_NODE_OPTIONS !== "" && { NODE_OPTIONS: IMAGE_NODE_OPTIONS }),
        },
      }),
    ),
  );
  const floors = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = started.find((r) => r.status === "rejected");
  if (failed !== undefined) {
    // One did not start: stop the other, whose piped output would keep this process alive.
    await Promise.all(floors.map((f) => f.stop(5_000)));
    throw failed.reason;
  }
  const users: User[] = [];
  try {
    // Each connected client joins `users` at once, so that a failure part-way still closes the ones connected.
    await pool(
      userIds.map((_, index) => index),
      SIGN_IN_CONCURRENCY,
      async (index) => {
        const instance = index % INSTANCES;
        const client = new Client({ name: "bench-floor-client", version: "1.0.0" });
        await client.connect(
          new StreamableHTTPClientTransport(new URL(`${floors[instance]!.url}/mcp`), {
            requestInit: { headers: { authorization: `Bearer ${tokens[index]!}` } },
          }),
        );
        users.push({ index, client, instance });
      },
    );
    const warmupEnd = performance.now() + WARMUP_MS;
    await Promise.all(users.map((u) => runUser(u, bases, warmupEnd, () => undefined)));
    const latencies: number[] = [];
    let calls = 0;
    let inWindow = 0;
    let errors = 0;
    const cpuBefore = await Promise.all(floors.map((f) => processCpuMs(f.pid)));
    const elapsedS = await runWindow(users, bases, ctx.seconds, (_user, ms, ok, answeredInWindow) => {
      calls += 1;
      latencies.push(ms);
      if (answeredInWindow) inWindow += 1;
      if (!ok) errors += 1;
    });
    const cpuMs = (await Promise.all(floors.map((f) => processCpuMs(f.pid)))).reduce(
      (sum, after, i) => sum + after - cpuBefore[i]!,
      0,
    );
    const idleBefore = await Promise.all(floors.map((f) => processCpuMs(f.pid)));
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    const idleMs = (await Promise.all(floors.map((f) => processCpuMs(f.pid)))).reduce(
      (sum, after, i) => sum + after - idleBefore[i]!,
      0,
    );
    return {
      callsPerSecond: inWindow / ctx.seconds,
      calls,
      errors,
      p50: median(latencies),
      p95: percentile(latencies, 95),
      cpuMsPerCall: cpuMs / Math.max(1, calls),
      cpuMsPerCallNet: (cpuMs - (idleMs / (IDLE_MS / 1000)) * elapsedS) / Math.max(1, calls),
    };
  } finally {
    await Promise.all(users.map((u) => u.client.close().catch(() => undefined)));
    await Promise.all(floors.map((f) => f.stop(5_000)));
  }
}

const perCall = (value: number, calls: number): string => (calls > 0 ? (value / calls).toFixed(1) : "—");

export const manyUsers: Scenario = {
  name: "many users",
  summary:
    `${USERS} signed-in users (distinct grants, real OAuth sign-in) call read tools (list_records, get_record) ` +
    `concurrently over the MCP SDK client through ${INSTANCES} server processes (distributed mode, one Redis) against ` +
    `the sandbox at 0 ms latency with ${BASES} bases: throughput, latency, server CPU, Redis work and RSS.`,
  async run(ctx): Promise<ScenarioResult> {
    const counter = await startRedisCounter(ctx.redisUrl, REDIS_DB);
    const sandbox = await startSandboxProcess();
    const profileDir = CPU_PROF ? await mkdtemp(join(tmpdir(), "bench-cpu-prof-")) : undefined;
    let servers: ServerProcess[] = [];
    /** Every tool call made, warm-up included (the profile covers the whole run). */
    let totalCalls = 0;
    const users: User[] = [];
    try {
      const seeded = await sandbox.call("seed", { users: USERS, bases: BASES, records: RECORDS_PER_TABLE });
      const bases = seeded.bases;
      const people = seeded.userIds.map((id, index) => ({ index, id }));
      ctx.progress(`starting ${INSTANCES} server processes${CPU_PROF ? ` with --cpu-prof into ${profileDir}` : ""}`);
      servers = await startServers(ctx, sandbox, counter.url, profileDir);
      const mcpUrls = servers.map((s) => `${s.url}/mcp`);
      const rssAtStart = await Promise.all(servers.map((s) => processRssMb(s.pid)));

      ctx.progress(`signing in ${USERS} users through OAuth (${SIGN_IN_CONCURRENCY} at a time)`);
      const signInStarted = performance.now();
      users.push(
        ...(await withClientAddresses(() =>
          pool(people, SIGN_IN_CONCURRENCY, (person) =>
            clientAddress.run(`10.1.${person.index >> 8}.${person.index & 255}`, async () => {
              const provider = new TestOAuthProvider({ sandboxUser: person.id });
              // Tokens are issued for the deployment's resource (the first instance's URL); any instance accepts them.
              const { client } = await signInAndConnect(mcpUrls[0]!, provider);
              const instance = person.index % INSTANCES;
              if (instance === 0) return { index: person.index, client, instance };
              await client.close();
              return { index: person.index, client: await connectClient(mcpUrls[instance]!, provider), instance };
            }),
          ),
        )),
      );
      const signInSeconds = (performance.now() - signInStarted) / 1000;

      ctx.progress(`warming up for ${WARMUP_MS / 1000} s`);
      const warmupStartedAt = Date.now();
      const warmupEnd = performance.now() + WARMUP_MS;
      await Promise.all(users.map((u) => runUser(u, bases, warmupEnd, () => (totalCalls += 1))));

      ctx.progress(`measuring for ${ctx.seconds} s`);
      const latencies: number[] = [];
      const callsBy = new Array<number>(INSTANCES).fill(0);
      /**
       * Calls answered within the window, for calls/s: the calls still in flight when it ends (one per user back to
       * back) finish after it, and counting them over the time they took would understate the rate. CPU, Redis
       * work and latency count every call, over the time until the last one is answered, so each call's whole cost
       * is in.
       */
      const doneInWindowBy = new Array<number>(INSTANCES).fill(0);
      let errors = 0;
      const cpuBefore = await Promise.all(servers.map((s) => processCpuMs(s.pid)));
      const outputBefore = servers.map((s) => s.fullOutput().length);
      const apiBefore = (await sandbox.call("stats", { baseIds: [] })).apiRequests;
      const countsBefore = counter.counts();
      const elapsedS = await runWindow(users, bases, ctx.seconds, (user, ms, ok, answeredInWindow) => {
        totalCalls += 1;
        latencies.push(ms);
        callsBy[user.instance]! += 1;
        if (answeredInWindow) doneInWindowBy[user.instance]! += 1;
        if (!ok) errors += 1;
      });
      const cpuAfter = await Promise.all(servers.map((s) => processCpuMs(s.pid)));
      if (JIT_TRACE) {
        // V8 prints "took <prepare>, <execute>, <finalize> ms" for each optimizing compile (--trace-opt).
        const jit = servers.map((s, i) => {
          let ms = 0;
          let jobs = 0;
          for (const m of s
            .fullOutput()
            .slice(outputBefore[i])
            .matchAll(/took ([\d.]+), ([\d.]+), ([\d.]+) ms/g)) {
            ms += Number(m[1]) + Number(m[2]) + Number(m[3]);
            jobs += 1;
          }
          return `${s.label}: ${jobs} compile jobs, ${ms.toFixed(0)} ms`;
        });
        ctx.progress(`JIT in the measured window (--trace-opt, wall time of each job): ${jit.join("; ")}`);
      }
      const load = diffCounts(counter.counts(), countsBefore);
      /** Airtable requests the servers sent in the measured window (a read call: its page, and sometimes a schema). */
      const apiRequests = (await sandbox.call("stats", { baseIds: [] })).apiRequests - apiBefore;

      ctx.progress(`idle for ${IDLE_MS / 1000} s`);
      const idleBefore = counter.counts();
      const idleCpuBefore = await Promise.all(servers.map((s) => processCpuMs(s.pid)));
      await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
      const idle = diffCounts(counter.counts(), idleBefore);
      const idleCpuAfter = await Promise.all(servers.map((s) => processCpuMs(s.pid)));
      /** CPU ms per second each server spends with no traffic (limiter heartbeats, queue polling, timers). */
      const idleCpuRate = servers.map((_, i) => (idleCpuAfter[i]! - idleCpuBefore[i]!) / (IDLE_MS / 1000));
      const rss = await Promise.all(servers.map((s) => processRssMb(s.pid)));
      const redisConnections = counter.connections();

      const calls = callsBy.reduce((a, b) => a + b, 0);
      const cpuMs = servers.map((_, i) => cpuAfter[i]! - cpuBefore[i]!);
      const idlePerSecond = (c: RedisCounts) => c.executed / (IDLE_MS / 1000);
      const columns = [
        "instance",
        "tool calls/s",
        "p50 ms",
        "p95 ms",
        "server CPU ms/call",
        "… net of idle CPU",
        "calls/s per core at that CPU",
        "Redis cmds/call (sent · executed incl. scripts)",
        "Airtable requests/call",
        "Redis cmds executed per Airtable request",
        "Redis round trips/call",
        "idle Redis cmds/s",
        "RSS MB after (at start)",
      ];
      const rows = servers.map((s, i) => [
        SERVER_MAINS.length === 0 ? s.label : `${s.label} (${SERVER_MAINS[i]})`,
        (doneInWindowBy[i]! / ctx.seconds).toFixed(0),
        "",
        "",
        (cpuMs[i]! / Math.max(1, callsBy[i]!)).toFixed(2),
        ((cpuMs[i]! - idleCpuRate[i]! * elapsedS) / Math.max(1, callsBy[i]!)).toFixed(2),
        ((1000 * callsBy[i]!) / Math.max(1, cpuMs[i]!)).toFixed(0),
        "",
        "",
        "",
        "",
        "",
        `${rss[i]!.toFixed(0)} (${rssAtStart[i]!.toFixed(0)})`,
      ]);
      rows.push([
        "cluster",
        (doneInWindowBy.reduce((a, b) => a + b, 0) / ctx.seconds).toFixed(0),
        formatMs(median(latencies)),
        formatMs(percentile(latencies, 95)),
        (cpuMs.reduce((a, b) => a + b, 0) / Math.max(1, calls)).toFixed(2),
        (
          (cpuMs.reduce((a, b) => a + b, 0) - idleCpuRate.reduce((a, b) => a + b, 0) * elapsedS) /
          Math.max(1, calls)
        ).toFixed(2),
        (
          (1000 * calls) /
          Math.max(
            1,
            cpuMs.reduce((a, b) => a + b, 0),
          )
        ).toFixed(0),
        `${perCall(load.commands, calls)} · ${perCall(load.executed, calls)}`,
        calls > 0 ? (apiRequests / calls).toFixed(2) : "—",
        perCall(load.executed, apiRequests),
        perCall(load.roundTrips, calls),
        idlePerSecond(idle).toFixed(1),
        "",
      ]);

      // Any 429 is a limiter bug, not load: say which requests and how close to the limit each base came.
      const sandboxStats = await sandbox.call("stats", { baseIds: bases.map((b) => b.baseId) });
      const refusedKinds = Object.entries(sandboxStats.refusedKinds);
      const [load1, load5] = (await import("node:os")).loadavg();
      const floors = new Map<FloorMode, FloorResult>();
      for (const mode of FLOOR ? FLOOR_MODES : []) {
        ctx.progress(`the floor (${mode}): ${INSTANCES} Node processes, same I/O per call, same pace`);
        const floor = await measureFloor(ctx, mode);
        floors.set(mode, floor);
        rows.push([
          FLOOR_LABELS[mode],
          floor.callsPerSecond.toFixed(0),
          formatMs(floor.p50),
          formatMs(floor.p95),
          floor.cpuMsPerCall.toFixed(2),
          floor.cpuMsPerCallNet.toFixed(2),
          (1000 / Math.max(0.001, floor.cpuMsPerCall)).toFixed(0),
          "",
          "",
          "",
          "",
          "",
          "",
        ]);
      }
      const floor = floors.get("bare");
      const sdkFloor = floors.get("sdk");
      const sharedFloor = floors.get("shared");
      const clusterNetMs =
        (cpuMs.reduce((a, b) => a + b, 0) - idleCpuRate.reduce((a, b) => a + b, 0) * elapsedS) / Math.max(1, calls);
      const notes = [
        `${USERS} users signed in through the real OAuth flow (DCR, PKCE, consent, sandbox Airtable sign-in) in ` +
          `${signInSeconds.toFixed(0)} s, then ${WARMUP_MS / 1000} s of warm-up and ${ctx.seconds} s measured; each ` +
          `user alternates list_records (${PAGE_SIZE} records) and get_record ${
            USER_INTERVAL_MS > 0 ? `once every ${USER_INTERVAL_MS} ms (open loop, start times spread)` : "back to back"
          } in ${BASES_PER_USER} of the ${BASES} bases (user i: bases i…i+${BASES_PER_USER - 1}), so every base ` +
          `gets ${((USERS * 1000) / Math.max(1, USER_INTERVAL_MS) / BASES).toFixed(1)} calls/s offered, under Airtable's 5 req/s.`,
        `${calls} calls measured, ${errors} errors, ${sandboxStats.count429} × 429 from the sandbox; load average ` +
          `${load1!.toFixed(2)} / ${load5!.toFixed(2)} (1 / 5 min) at the end; at most ${sandboxStats.worstBase} requests to one ` +
          `base in a sliding second${
            refusedKinds.length > 0
              ? `; 429s from ${((sandboxStats.refusedBetween![0] - warmupStartedAt) / 1000).toFixed(1)} s to ` +
                `${((sandboxStats.refusedBetween![1] - warmupStartedAt) / 1000).toFixed(1)} s after the warm-up began, by request: ${refusedKinds.map(([k, n]) => `${k} × ${n}`).join(", ")}`
              : ""
          }.`,
        `Tool calls/s counts the calls answered within the ${ctx.seconds} s window; the other columns count every call ` +
          "made in it, until the last one was answered. " +
          "Latency is what the MCP client sees (the sandbox answers in 0 ms), so it is the server's own time plus " +
          "queueing at saturation; the benchmark process (the SDK clients) and the sandbox (a process of its own) share the machine's " +
          "cores with the servers and Redis.",
        "Server CPU is user + system time of each server process (/proc/<pid>/stat) from the window's start until " +
          "its last call was answered, " +
          "divided by the calls that instance answered (calls/s per core = 1000 / that: what one core could serve); “net of idle” first subtracts what the process burns with no " +
          "traffic (CPU ms/s measured in the idle window × the measured seconds). RSS is VmRSS after the idle period. " +
          `The servers run with ${IMAGE_NODE_OPTIONS === "" ? "no NODE_OPTIONS (BENCH_IMAGE_NODE_OPTIONS=off)" : `the server image's NODE_OPTIONS (${IMAGE_NODE_OPTIONS}, Dockerfile.server)`}` +
          `${process.env.BENCH_SERVER_NODE_ARGS ? ` and ${process.env.BENCH_SERVER_NODE_ARGS}` : ""}, ` +
          `at LOG_LEVEL=${LOG_LEVEL}${LOG_LEVEL === "info" ? " (the default: one JSON line per tool call, to a pipe)" : ""}.`,
        `Redis: "sent" counts commands the servers sent (a counting TCP proxy in front of Redis; EVALSHA counts ` +
          `once); "executed" counts what Redis ran for them, including commands inside Lua scripts (MONITOR on ` +
          `database ${REDIS_DB}, used by nothing else); a round trip is one write burst from a client connection ` +
          `(a pipeline is one). Per Airtable request: all the servers' Redis commands executed (not only the ` +
          `limiter's) divided by the Airtable Web API requests the sandbox received in the measured window (each ` +
          `call's records request — a list_records page or a get_record record — plus a schema when a server's copy ` +
          `had expired or was never read; issue 15 asks for ≤ 12). Idle: commands executed per second in the ` +
          `${IDLE_MS / 1000} s after the load stopped. ` +
          `Redis connections of both servers: ${redisConnections.peak} at most, ${redisConnections.open} open after the run.`,
        ...(floor === undefined
          ? []
          : [
              `The floor row: after the servers, ${INSTANCES} bare \`node:http\` processes (bench/support/floor-server.ts: no express, ` +
                `MCP SDK, auth or validation) answer the same ${USERS} MCP SDK clients at the same pace with the same I/O per ` +
                `read call: the JSON-RPC request in, one EVALSHA, one Airtable request to the sandbox (undici), the JSON ` +
                `answer out; ${floor.calls} calls, ${floor.errors} errors. It is what this machine charges for the I/O ` +
                `alone: the servers' net CPU per call is **${(clusterNetMs / Math.max(0.001, floor.cpuMsPerCallNet)).toFixed(2)}× ` +
                `the floor's** (${clusterNetMs.toFixed(2)} vs ${floor.cpuMsPerCallNet.toFixed(2)} ms).`,
            ]),
        ...(sdkFloor === undefined
          ? []
          : [
              `The SDK floor row: the same I/O, served through the MCP SDK as src/server serves a 2025-era call (a new ` +
                `McpServer with the two tools and a WebStandardStreamableHTTPServerTransport per request behind ` +
                `@hono/node-server's adapter, zod input schemas, JSON answers), still without express, auth, the limiter ` +
                `or our tools' work; ${sdkFloor.calls} calls, ${sdkFloor.errors} errors: the SDK's own share of a call is ` +
                `${(sdkFloor.cpuMsPerCallNet - (floor?.cpuMsPerCallNet ?? 0)).toFixed(2)} ms${
                  floor === undefined ? " (with the I/O)" : ""
                }; the servers' net CPU per call is ${(clusterNetMs / Math.max(0.001, sdkFloor.cpuMsPerCallNet)).toFixed(2)}× it.`,
            ]),
        ...(sharedFloor === undefined
          ? []
          : [
              `The "one McpServer per process" row: the SDK floor with one McpServer per process on a minimal Transport ` +
                `(bench/support/floor-server.ts \`SharedTransport\`: request ids made unique, one JSON answer per HTTP ` +
                `request; no Web Request/Response); ${sharedFloor.calls} calls, ${sharedFloor.errors} errors.`,
            ]),
        `Executed per call, by command (lua: inside scripts): ${Object.entries(load.executedByName)
          .sort(([, a], [, b]) => b - a)
          .map(([name, n]) => `${name} ${(n / Math.max(1, calls)).toFixed(2)}`)
          .join(", ")}.`,
      ];
      return {
        columns,
        rows,
        notes,
        data: {
          users: USERS,
          instances: INSTANCES,
          bases: BASES,
          signInSeconds,
          elapsedS,
          calls,
          callsBy,
          errors,
          sandbox: sandboxStats,
          apiRequests,
          latencyMs: { p50: median(latencies), p95: percentile(latencies, 95) },
          cpuMs,
          idleCpuMsPerSecond: idleCpuRate,
          rssMb: rss,
          rssMbAtStart: rssAtStart,
          redisConnections,
          redisLoad: load,
          redisIdle: idle,
          loadAverage: [load1, load5],
          ...(floor !== undefined && { floor }),
          ...(floors.size > 0 && { floors: Object.fromEntries(floors) }),
        },
      };
    } finally {
      await Promise.all(users.map((u) => u.client.close().catch(() => undefined)));
      await Promise.all(servers.map((s) => s.stop(10_000)));
      if (profileDir !== undefined) {
        const summary = await summariseProfiles(profileDir, TOP_FRAMES, COST_GROUPS).catch(() => undefined);
        if (summary !== undefined) {
          const line = (share: number, ms: number, what: string) =>
            process.stderr.write(
              `bench:   ${(share * 100).toFixed(1).padStart(5)} %  ${ms.toFixed(0).padStart(7)} ms  ${what}\n`,
            );
          process.stderr.write(
            `bench: --cpu-prof, both servers, ${(summary.busyMs / 1000).toFixed(1)} s busy (whole run: sign-in, ` +
              `warm-up, measurement), ${totalCalls} tool calls. Parts of the path (inclusive):\n`,
          );
          for (const g of summary.groups) line(g.share, g.ms, g.label);
          process.stderr.write("bench: functions with the most self time:\n");
          for (const t of summary.top) line(t.share, t.selfMs, t.frame);
        }
        process.stderr.write(`bench: profiles kept in ${profileDir}\n`);
      }
      await counter.close();
      await sandbox.close();
      const db = new Redis(ctx.redisUrl, { db: REDIS_DB, maxRetriesPerRequest: 1 });
      await deleteKeys(db, ctx.keyPrefix);
      db.disconnect();
    }
  },
};
