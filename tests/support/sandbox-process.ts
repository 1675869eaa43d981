/**
 * The sandbox (the fake Airtable) in a process of its own, driven over IPC: a benchmark or test whose own process
 * is busy (hundreds of MCP clients, a burst of a hundred requests) must not starve the sandbox, whose rate limits
 * time each request when its JavaScript sees it — a starved event loop stamps arrivals late and bunches them, and
 * reports more requests in a sliding second than were sent. Airtable's own clock does not wait for our event loop.
 * Run as a child by `startSandboxProcess`; each IPC message `{ id, op, args }` is answered `{ id, result | error }`.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { maxInWindow } from "../../src/sandbox/recorder.ts";

export interface SeededBase {
  baseId: string;
  tableId: string;
  recordIds: string[];
}

export interface SandboxStats {
  count429: number;
  /** 429s by request shape (ids elided), e.g. "GET /v0/meta/bases/app…/tables". */
  refusedKinds: Record<string, number>;
  /** Most requests any one of the given bases received in a sliding second. */
  worstBase: number;
  requests: number;
  /** Of those, Airtable Web API requests (`/v0/…`: records and schemas; not the OAuth sign-in's). */
  apiRequests: number;
  /** Epoch ms of the first and last 429 (the sandbox's clock is the machine's). */
  refusedBetween: [number, number] | null;
}

interface Ops {
  seed(args: { users: number; bases: number; records: number }): { userIds: string[]; bases: SeededBase[] };
  registerOAuthClient(args: {
    clientId: string;
    clientSecret: string;
    redirectUris: string[];
    scopes?: string[];
  }): null;
  /** A personal access token per user (the floor server passes them through to the sandbox). */
  personalAccessTokens(args: { userIds: string[] }): string[];
  /** Forgets the requests recorded so far (not the rate limits' state). */
  clearRequests(args: Record<string, never>): null;
  /** The requests made with `token`: how many, and the most in any sliding second (arrival times). */
  tokenStats(args: { token: string }): { requests: number; maxInSecond: number };
  stats(args: { baseIds: string[] }): SandboxStats;
}

function opsFor(sandbox: Sandbox): Ops {
  return {
    seed({ users, bases, records }) {
      const owner = sandbox.addUser({ email: "bench-owner@example.com" });
      const seeded = Array.from({ length: bases }, (_, i) => {
        const base = sandbox.createBase(owner.id, {
          name: `Many users ${i}`,
          tables: [
            {
              name: "Items",
              fields: [
                { name: "Name", type: "singleLineText" },
                { name: "Notes", type: "multilineText" },
                { name: "Count", type: "number", options: { precision: 0 } },
              ],
              records: Array.from({ length: records }, (_, r) => ({
                Name: `item ${r}`,
                Notes: "x".repeat(80),
                Count: r,
              })),
            },
          ],
        });
        const tableId = base.tables[0]!.id;
        return { baseId: base.id, tableId, recordIds: sandbox.listRecordsDirect(base.id, tableId).map((r) => r.id) };
      });
      const userIds = Array.from({ length: users }, (_, i) => {
        const person = sandbox.addUser({ email: `bench-user-${i}@example.com` });
        for (const b of seeded) sandbox.grantAccess(b.baseId, person.id, "read");
        return person.id;
      });
      return { userIds, bases: seeded };
    },
    registerOAuthClient(client) {
      sandbox.registerOAuthClient(client);
      return null;
    },
    personalAccessTokens({ userIds }) {
      return userIds.map((id) => sandbox.createPersonalAccessToken(id));
    },
    clearRequests() {
      sandbox.clearRequests();
      return null;
    },
    tokenStats({ token }) {
      const times = sandbox.requests.filter((r) => r.token === token).map((r) => r.time);
      return { requests: times.length, maxInSecond: maxInWindow(times, 1_000) };
    },
    stats({ baseIds }) {
      const refusedKinds: Record<string, number> = {};
      let refusedBetween: [number, number] | null = null;
      for (const r of sandbox.requests) {
        if (r.status !== 429) continue;
        refusedBetween = refusedBetween === null ? [r.time, r.time] : [refusedBetween[0], r.time];
        const kind = `${r.method} ${r.path.replace(/\/(app|tbl|rec|usr)[A-Za-z0-9]+/g, "/$1…")}`;
        refusedKinds[kind] = (refusedKinds[kind] ?? 0) + 1;
      }
      const worstBase = Math.max(
        0,
        ...baseIds.map((baseId) => sandbox.maxRequestsInWindow({ baseId, windowMs: 1_000 })),
      );
      return {
        count429: sandbox.count429(),
        refusedKinds,
        worstBase,
        requests: sandbox.requests.length,
        apiRequests: sandbox.requests.filter((r) => r.path.startsWith("/v0/")).length,
        refusedBetween,
      };
    },
  };
}

export interface SandboxProcess {
  url: string;
  pid: number;
  call<K extends keyof Ops>(op: K, args: Parameters<Ops[K]>[0]): Promise<ReturnType<Ops[K]>>;
  close(): Promise<void>;
}

/**
 * Starts this file as a child process running the sandbox (Airtable's default limits, 0 ms latency). `unlimited`:
 * no rate limits at all, for a client that has no limiter (the many-users floor), never for the project's own code.
 * `penaltyMs`: how long a base or token answers 429 after exceeding its rate (Airtable's, the default: 30,000).
 */
export async function startSandboxProcess(
  opts: { unlimited?: boolean; penaltyMs?: number } = {},
): Promise<SandboxProcess> {
  const args = [
    "--child",
    ...(opts.unlimited === true ? ["--unlimited"] : []),
    ...(opts.penaltyMs === undefined ? [] : [`--penalty-ms=${opts.penaltyMs}`]),
  ];
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), args, {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let next = 0;
  const ready = new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`sandbox process exited during start (code ${code})`)));
    child.on("message", (raw) => {
      const message = raw as { ready?: string; id?: number; result?: unknown; error?: string };
      if (message.ready !== undefined) return resolve(message.ready);
      const waiter = pending.get(message.id!);
      pending.delete(message.id!);
      if (message.error !== undefined) waiter?.reject(new Error(message.error));
      else waiter?.resolve(message.result);
    });
  });
  const url = await ready;
  return {
    url,
    pid: child.pid ?? -1,
    call: (op, args) =>
      new Promise((resolve, reject) => {
        const id = ++next;
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ id, op, args });
      }),
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

if (process.argv.includes("--child")) {
  const penalty = process.argv.find((a) => a.startsWith("--penalty-ms="));
  const sandbox = await startSandbox({
    ...(process.argv.includes("--unlimited") && {
      perBaseRps: Number.MAX_SAFE_INTEGER,
      perTokenRps: Number.MAX_SAFE_INTEGER,
    }),
    ...(penalty !== undefined && { penaltyMs: Number(penalty.slice("--penalty-ms=".length)) }),
  });
  const ops = opsFor(sandbox) as unknown as Record<string, (args: unknown) => unknown>;
  process.on("message", (raw) => {
    const { id, op, args } = raw as { id: number; op: string; args: unknown };
    try {
      process.send!({ id, result: ops[op]!(args) });
    } catch (error) {
      process.send!({ id, error: error instanceof Error ? error.message : String(error) });
    }
  });
  process.once("SIGTERM", () => void sandbox.close().then(() => process.exit(0)));
  process.send!({ ready: sandbox.url });
}
