import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { configSchema } from "../../src/shared/config.ts";
import { createLogger } from "../../src/shared/logger.ts";
import type { Operation } from "../../src/shared/operations/events.ts";
import type { OperationState } from "../../src/shared/operations/fold.ts";
import { OperationLog } from "../../src/shared/operations/operation-log.ts";
import { operationFromPlan } from "../../src/shared/operations/plan.ts";
import { QueuedOperationRunner } from "../../src/shared/queue/queued-runner.ts";
import { createTokenStore, tokenCipherFromConfig, type TokenStore } from "../../src/shared/tokens/index.ts";
import { freePort, startWorkerProcess, type ServerProcess } from "../../tests/e2e/helpers/server-process.ts";
import { startSandbox, type RecordedRequest, type Sandbox } from "../../src/sandbox/index.ts";
import type { BenchContext } from "../scenario.ts";
import { deleteKeys } from "./redis.ts";

/** Operation logs and finished jobs only need to outlive one scenario. */
const RETENTION_MS = 3_600_000;
/** Far beyond any run: the workers use the stored token as is and never try to refresh it. */
const NEVER_EXPIRES_MS = 24 * 3_600_000;

export interface WritePipelineOptions {
  sandbox: Sandbox;
  /** The bench's connection: the producer side (queue, events, operation logs, token store) uses it. */
  redis: Redis;
  redisUrl: string;
  /** Everything of this pipeline lives under it; `close()` deletes it. */
  keyPrefix: string;
  /** The sandbox's 429 penalty: the workers' limiter must pause a base for the same time. */
  penaltyMs: number;
  /** Shared with an in-process server, so the workers decrypt the tokens its sign-in stored. Default: random. */
  tokenEncryptionKey?: string;
  /** More worker environment (WORKER_CONCURRENCY, WORKER_MAX_ACTIVE_PER_BASE, …). */
  workerEnv?: Record<string, string>;
}

/**
 * The write path as deployed, minus the web tier: operations submitted through the real QueuedOperationRunner
 * (BullMQ queue + QueueEvents) and executed by `node src/worker/main.ts` processes, configured by environment
 * only, against the sandbox as Airtable. The owners' Airtable tokens are seeded into the Redis token store
 * (sandbox personal access tokens that never expire), so no OAuth is needed.
 */
export class WritePipeline {
  readonly runner: QueuedOperationRunner;
  readonly operations: OperationLog;
  readonly tokenEncryptionKey: string;
  readonly #opts: WritePipelineOptions;
  readonly #store: TokenStore;
  readonly #workers: ServerProcess[] = [];

  private constructor(opts: WritePipelineOptions, tokenEncryptionKey: string) {
    this.#opts = opts;
    this.tokenEncryptionKey = tokenEncryptionKey;
    const { redis, keyPrefix } = opts;
    const config = configSchema.parse({ TOKEN_ENCRYPTION_KEY: tokenEncryptionKey });
    this.#store = createTokenStore(config, { redis, cipher: tokenCipherFromConfig(config), keyPrefix });
    this.operations = new OperationLog({ redis, keyPrefix, retentionMs: RETENTION_MS });
    this.runner = new QueuedOperationRunner({
      redis,
      keyPrefix,
      store: this.operations,
      attempts: 8,
      retentionMs: RETENTION_MS,
      logger: createLogger({ level: "silent" }),
    });
  }

  static async start(opts: WritePipelineOptions): Promise<WritePipeline> {
    const pipeline = new WritePipeline(opts, opts.tokenEncryptionKey ?? randomBytes(32).toString("base64"));
    await pipeline.runner.ready();
    return pipeline;
  }

  get workerCount(): number {
    return this.#workers.length;
  }

  /** Starts worker processes (in parallel) until `count` run; each is ready once its /healthz answers. */
  async scaleWorkersTo(count: number): Promise<void> {
    const { sandbox, redisUrl, keyPrefix, penaltyMs, workerEnv } = this.#opts;
    const env: Record<string, string> = {
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: keyPrefix,
      // Only named in refresh requests, which never happen here (the seeded tokens do not expire).
      AIRTABLE_CLIENT_ID: "bench-worker",
      TOKEN_ENCRYPTION_KEY: this.tokenEncryptionKey,
      AIRTABLE_API_URL: sandbox.url,
      AIRTABLE_AUTH_URL: sandbox.url,
      AIRTABLE_CONTENT_URL: sandbox.url,
      AIRTABLE_RATE_LIMIT_PENALTY_MS: String(penaltyMs),
      LOG_LEVEL: "warn",
      ...workerEnv,
    };
    const missing = count - this.#workers.length;
    const started = await Promise.allSettled(
      Array.from({ length: Math.max(0, missing) }, async (_, i) =>
        startWorkerProcess({ port: await freePort(), env, label: `worker ${this.#workers.length + i}` }),
      ),
    );
    for (const s of started) if (s.status === "fulfilled") this.#workers.push(s.value);
    const failed = started.find((s) => s.status === "rejected");
    if (failed !== undefined) throw failed.reason;
  }

  /** Stores `accessToken` as `userId`'s Airtable sign-in, where the workers look it up. */
  async seedAirtableToken(userId: string, accessToken: string): Promise<void> {
    await this.#store.putAirtableAccount({
      userId,
      tokens: {
        accessToken,
        refreshToken: "bench-unused",
        accessTokenExpiresAt: Date.now() + NEVER_EXPIRES_MS,
        scopes: ["data.records:read", "data.records:write", "schema.bases:read", "schema.bases:write"],
      },
      updatedAt: Date.now(),
    });
  }

  /** Submits and waits for the end; throws when the operation did not end in time. */
  async run(operation: Operation, timeoutMs: number): Promise<OperationState> {
    await this.runner.submit(operation);
    return this.waitForState(operation, timeoutMs);
  }

  /** Waits for a submitted operation to end and returns its state; throws when it did not end in time. */
  async waitForState(operation: Operation, timeoutMs: number): Promise<OperationState> {
    await this.runner.waitForEnd(operation.operationId, timeoutMs);
    const state = await this.operations.getForOwner(operation.operationId, operation.ownerUserId);
    if (state === undefined) throw new Error(`operation ${operation.operationId} vanished`);
    if (state.status === "queued" || state.status === "running") {
      throw new Error(
        `operation ${operation.operationId} (${operation.input.length} records) still ${state.status} after ` +
          `${timeoutMs} ms (${state.progress.recordsSucceeded} written). Worker output:\n${this.workerOutput()}`,
      );
    }
    return state;
  }

  /** The workers' warnings and errors (they log at warn level), for a scenario's notes. */
  workerWarnings(): string[] {
    return this.#workers.flatMap((w) =>
      w
        .output()
        .split("\n")
        .filter((line) => /"level":(40|50|60)\b/.test(line))
        .map((line) => `${w.label}: ${line.slice(0, 300)}`),
    );
  }

  workerOutput(): string {
    return this.#workers.map((w) => w.output().slice(-3_000)).join("\n");
  }

  /** Stops every worker process (SIGTERM, then SIGKILL), closes the producer side, deletes every key. */
  async close(): Promise<void> {
    await Promise.allSettled(this.#workers.map((w) => w.stop(5_000)));
    this.#workers.length = 0;
    await this.runner.close();
    await this.#store.close();
    await deleteKeys(this.#opts.redis, this.#opts.keyPrefix);
  }
}

/** A create_records operation writing one record per name into the table's `Name` field. */
export function createRecordsOperation(ownerUserId: string, baseId: string, tableId: string, names: string[]) {
  return operationFromPlan(
    {
      kind: "create_records",
      baseId,
      tableId,
      input: names.map((Name) => ({ fields: { Name } })),
      options: { typecast: true, onError: "continue" },
    },
    ownerUserId,
  );
}

/** A base with one table, `Items`, whose only field is `Name` (the field every bench write fills). */
export function createItemsBase(sandbox: Sandbox, ownerUserId: string, name: string) {
  const base = sandbox.createBase(ownerUserId, {
    name,
    tables: [{ name: "Items", fields: [{ name: "Name", type: "singleLineText" }] }],
  });
  return { baseId: base.id, tableId: base.tables[0]!.id };
}

/** Record writes Airtable applied (200 with records in the body), in arrival order. */
export function successfulWrites(sandbox: Sandbox, baseId: string): RecordedRequest[] {
  return sandbox.requests
    .filter((r) => r.baseId === baseId && r.status === 200 && r.recordCount !== undefined)
    .sort((a, b) => a.time - b.time);
}

export interface WriteRate {
  requests: number;
  records: number;
  /** Records per second in the steady window (see `writeRate`). */
  recordsPerSecond: number;
  steadySeconds: number;
  /** Records per second from the first arrival to the last, ramp-up and tail included. */
  wholeRunRecordsPerSecond: number;
  wholeRunSeconds: number;
  /** The largest request, in records (Airtable takes 10). */
  maxRecordsPerRequest: number;
}

/**
 * Arrivals left out at each end of a run for its steady window: one limiter window's worth (5 requests), i.e.
 * about a second of ramp-up (workers picking jobs up, first limiter state) and of tail (operations ending).
 */
const EDGE_REQUESTS = 5;

/** n arrivals span n − 1 intervals: the records of every arrival but the last, over the first-to-last time. */
function rateOf(sorted: RecordedRequest[]): { recordsPerSecond: number; seconds: number } {
  if (sorted.length < 2) return { recordsPerSecond: 0, seconds: 0 };
  const span = sorted.at(-1)!.time - sorted[0]!.time;
  const counted = sorted.slice(0, -1).reduce((sum, r) => sum + (r.recordCount ?? 0), 0);
  return { recordsPerSecond: span > 0 ? (counted / span) * 1000 : 0, seconds: span / 1000 };
}

/**
 * Records per second by the sandbox's arrival times of the writes it applied: in the steady window (the run
 * without its first and last EDGE_REQUESTS arrivals; the whole run when it is too short for that) and over
 * the whole run.
 */
export function writeRate(writes: RecordedRequest[]): WriteRate {
  const sorted = [...writes].sort((a, b) => a.time - b.time);
  const whole = rateOf(sorted);
  const steady =
    sorted.length > 2 * EDGE_REQUESTS + 1 ? rateOf(sorted.slice(EDGE_REQUESTS, sorted.length - EDGE_REQUESTS)) : whole;
  return {
    requests: sorted.length,
    records: sorted.reduce((sum, r) => sum + (r.recordCount ?? 0), 0),
    recordsPerSecond: steady.recordsPerSecond,
    steadySeconds: steady.seconds,
    wholeRunRecordsPerSecond: whole.recordsPerSecond,
    wholeRunSeconds: whole.seconds,
    maxRecordsPerRequest: Math.max(0, ...sorted.map((r) => r.recordCount ?? 0)),
  };
}

export interface ExactlyOnce {
  expected: number;
  missing: number;
  duplicated: number;
  /** Rows whose name nobody asked for. */
  unexpected: number;
  ok: boolean;
}

/** Whether the table holds every expected name exactly once and nothing else. */
export function checkExactlyOnce(sandbox: Sandbox, baseId: string, tableId: string, names: string[]): ExactlyOnce {
  const counts = new Map<string, number>(names.map((n) => [n, 0]));
  let unexpected = 0;
  for (const row of sandbox.listRecordsDirect(baseId, tableId)) {
    const name = String(row.fields.Name);
    const seen = counts.get(name);
    if (seen === undefined) unexpected++;
    else counts.set(name, seen + 1);
  }
  const values = [...counts.values()];
  const missing = values.filter((c) => c === 0).length;
  const duplicated = values.filter((c) => c > 1).length;
  return { expected: names.length, missing, duplicated, unexpected, ok: missing + duplicated + unexpected === 0 };
}

export function describeExactlyOnce(check: ExactlyOnce): string {
  if (check.ok) return `yes (${check.expected})`;
  return `NO: ${check.missing} missing, ${check.duplicated} duplicated, ${check.unexpected} unexpected`;
}

export interface StrictWriteBench {
  sandbox: Sandbox;
  pipeline: WritePipeline;
  /** A sandbox user whose Airtable token the workers read from the token store. */
  userId: string;
  close(): Promise<void>;
}

/**
 * What every write scenario starts from: the sandbox as strict as Airtable (5 req/s per base, 50 per token,
 * 429 → penalty) at `latencyMs`, a WritePipeline on it, and one user whose token the workers can use.
 */
export async function startStrictWriteBench(
  ctx: BenchContext,
  opts: { latencyMs: number; penaltyMs: number; email: string },
): Promise<StrictWriteBench> {
  const sandbox = await startSandbox({
    latencyMs: opts.latencyMs,
    perBaseRps: 5,
    perTokenRps: 50,
    penaltyMs: opts.penaltyMs,
  });
  try {
    const pipeline = await WritePipeline.start({
      sandbox,
      redis: ctx.redis,
      redisUrl: ctx.redisUrl,
      keyPrefix: ctx.keyPrefix,
      penaltyMs: opts.penaltyMs,
    });
    const userId = sandbox.addUser({ email: opts.email }).id;
    await pipeline.seedAirtableToken(userId, sandbox.createPersonalAccessToken(userId));
    return {
      sandbox,
      pipeline,
      userId,
      async close() {
        await pipeline.close();
        await sandbox.close();
      },
    };
  } catch (error) {
    await sandbox.close();
    throw error;
  }
}
