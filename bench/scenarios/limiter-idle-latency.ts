import { AirtableClient } from "../../src/shared/airtable/index.ts";
import { BottleneckAirtableLimiter, type AirtableLimiter } from "../../src/shared/limiter/index.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import type { Scenario, ScenarioResult } from "../scenario.ts";
import { IdlePool } from "../support/idle-pool.ts";
import { PassThroughLimiter } from "../support/pass-through-limiter.ts";
import { formatMs, formatSignedMs, median, percentile } from "../support/stats.ts";
import { sampleInterleaved, timed } from "../support/sampling.ts";

/**
 * What the limiter costs a request that has nothing to wait for. Every sample uses a base (and a user) that is
 * idle, so no pacing applies and what is left is the limiter's own work: Bottleneck's Redis scripts, the
 * admission gate's round trip, and for a base not seen in 5 minutes the set-up of its limiter.
 *
 * Samples are taken in rounds, one sample per variant per round with the order rotating, so that the machine's
 * noise (other processes, GC, CPU frequency) falls on every variant alike.
 */
const SAMPLES = 300;
const WARMUP_ROUNDS = 30;
/** Bases (and users) in each idle ring; each is reused only after REST_MS, so its window never holds more than one request (no wait). */
const POOL_SIZE = 64;
const REST_MS = 300;
/**
 * The users the samples stand for (each sample's limiter scope is a user of its own): the sandbox's per-user limit is
 * raised to what this many users would have (50 req/s each), since it counts one user's personal access tokens
 * together, as Airtable does, and the samples all use one sandbox user's token.
 */
const USERS_STOOD_FOR = 40;

type BaseKind = "new" | "idle";

interface Variant {
  call: string;
  limiter: string;
  base: BaseKind | "—";
  /** The index of the variant whose median this one's "added" is measured against. */
  baselineOf?: number;
  /** One timed call, in ms; preparation (picking a base, waiting for it to be idle) is not timed. */
  sample(): Promise<number>;
}

/** Sandbox bases with one record each, to getRecord from. */
interface RecordTarget {
  baseId: string;
  tableId: string;
  recordId: string;
}

function createTargets(sandbox: Sandbox, userId: string, count: number, label: string): RecordTarget[] {
  return Array.from({ length: count }, (_, i) => {
    const base = sandbox.createBase(userId, {
      name: `${label} ${i}`,
      tables: [{ name: "Items", fields: [{ name: "Name", type: "singleLineText" }], records: [{ Name: "a" }] }],
    });
    const tableId = base.tables[0]!.id;
    return { baseId: base.id, tableId, recordId: sandbox.listRecordsDirect(base.id, tableId)[0]!.id };
  });
}

/** Limiter scopes on bases nobody has used yet (the first request to a base in 5 minutes). */
function newScopes(label: string) {
  let n = 0;
  return () => {
    n += 1;
    return { userId: `usr${label}${n}`, baseId: `app${label}${n}` };
  };
}

/** Limiter scopes on a ring of known bases, each idle for at least REST_MS when handed out. */
function idleScopes(label: string) {
  const pool = new IdlePool(POOL_SIZE, REST_MS);
  return async () => {
    const slot = await pool.take();
    return { userId: `usr${label}${slot}`, baseId: `app${label}${slot}` };
  };
}

export const limiterIdleLatency: Scenario = {
  name: "limiter idle latency",
  summary:
    "Latency the limiter adds to a request on an idle base (no pacing wait), for the clustered (Redis) and the " +
    "local (in-memory) limiter, and to a real client.getRecord against the sandbox.",
  async run(ctx): Promise<ScenarioResult> {
    const sandbox = await startSandbox({ perBaseRps: 5, perTokenRps: 50 * USERS_STOOD_FOR });
    const clustered = BottleneckAirtableLimiter.clustered({ redis: ctx.redis, keyPrefix: ctx.keyPrefix });
    const local = BottleneckAirtableLimiter.local();
    const passThrough = new PassThroughLimiter();
    try {
      const userId = sandbox.addUser({ email: "bench@example.com" }).id;
      const token = sandbox.createPersonalAccessToken(userId);
      const rounds = WARMUP_ROUNDS + SAMPLES;
      const newTargets = createTargets(sandbox, userId, rounds, "New");
      // Each getRecord row has bases of its own, so the sandbox's 5 req/s per base holds whatever the pace.
      const idleTargets = {
        passThrough: {
          bases: createTargets(sandbox, userId, POOL_SIZE, "Plain"),
          pool: new IdlePool(POOL_SIZE, REST_MS),
        },
        clustered: { bases: createTargets(sandbox, userId, POOL_SIZE, "Idle"), pool: new IdlePool(POOL_SIZE, REST_MS) },
      };
      let newTargetTurn = 0;

      /** A fresh client per call (cheap: no I/O), so its limiter scope can be a user of its own. */
      const getRecordVia = (limiter: AirtableLimiter, scopeUser: string, target: RecordTarget) => {
        const client = new AirtableClient({
          apiUrl: sandbox.url,
          contentUrl: sandbox.url,
          userId: scopeUser,
          getAccessToken: async () => token,
          limiter,
        });
        return timed(() => client.getRecord(target.baseId, target.tableId, target.recordId));
      };

      const scheduleNothing = (limiter: AirtableLimiter, scope: { userId: string; baseId: string }) =>
        timed(() => limiter.schedule(scope, async () => undefined));

      const localNew = newScopes("LocalNew");
      const localIdle = idleScopes("LocalIdle");
      const clusteredNew = newScopes("ClusteredNew");
      const clusteredIdle = idleScopes("ClusteredIdle");

      const variants: Variant[] = [
        { call: "schedule(no-op)", limiter: "none (bare call)", base: "—", sample: () => timed(async () => undefined) },
        {
          call: "schedule(no-op)",
          limiter: "local",
          base: "new",
          baselineOf: 0,
          sample: () => scheduleNothing(local, localNew()),
        },
        {
          call: "schedule(no-op)",
          limiter: "local",
          base: "idle",
          baselineOf: 0,
          sample: async () => scheduleNothing(local, await localIdle()),
        },
        {
          call: "schedule(no-op)",
          limiter: "clustered",
          base: "new",
          baselineOf: 0,
          sample: () => scheduleNothing(clustered, clusteredNew()),
        },
        {
          call: "schedule(no-op)",
          limiter: "clustered",
          base: "idle",
          baselineOf: 0,
          sample: async () => scheduleNothing(clustered, await clusteredIdle()),
        },
        {
          call: "client.getRecord",
          limiter: "pass-through",
          base: "—",
          sample: async () => {
            const slot = await idleTargets.passThrough.pool.take();
            return getRecordVia(passThrough, "usrPassThrough", idleTargets.passThrough.bases[slot]!);
          },
        },
        {
          call: "client.getRecord",
          limiter: "clustered",
          base: "new",
          baselineOf: 5,
          sample: () => {
            const n = newTargetTurn++;
            return getRecordVia(clustered, `usrGetNew${n}`, newTargets[n]!);
          },
        },
        {
          call: "client.getRecord",
          limiter: "clustered",
          base: "idle",
          baselineOf: 5,
          sample: async () => {
            const slot = await idleTargets.clustered.pool.take();
            return getRecordVia(clustered, `usrGetIdle${slot}`, idleTargets.clustered.bases[slot]!);
          },
        },
      ];

      const samples = await sampleInterleaved(
        variants.map((v) => v.sample),
        { warmupRounds: WARMUP_ROUNDS, samples: SAMPLES, progress: (m) => ctx.progress(m) },
      );

      const stats = variants.map((variant, i) => ({
        call: variant.call,
        limiter: variant.limiter,
        base: variant.base,
        samples: samples[i]!.length,
        medianMs: median(samples[i]!),
        p95Ms: percentile(samples[i]!, 95),
        addedMedianMs: Number.NaN,
      }));
      for (const [i, variant] of variants.entries()) {
        if (variant.baselineOf !== undefined) {
          stats[i]!.addedMedianMs = stats[i]!.medianMs - stats[variant.baselineOf]!.medianMs;
        }
      }
      const notes = [
        `${SAMPLES} sequential samples per row after ${WARMUP_ROUNDS} warm-up rounds, rows interleaved round by round.`,
        `"new" base: first request to a base (and user) the limiter has not seen, which sets up its Bottleneck ` +
          `limiters; "idle": a base seen before and left alone ≥ ${REST_MS} ms, the usual case.`,
        `"added" = median of the row minus median of its baseline ("none" for schedule, "pass-through" for getRecord).`,
        "getRecord runs against the in-process sandbox at 0 ms latency, over keep-alive HTTP on localhost.",
        "An idle base's request skips its (empty) local Bottleneck queue: the clustered limiter's cost is one Redis " +
          "round trip (the book script), the local one's a few function calls.",
      ];
      const refused = sandbox.count429();
      if (refused > 0)
        notes.push(`WARNING: the sandbox answered ${refused} requests with 429; getRecord rows are off.`);
      return {
        columns: ["call", "limiter", "base", "median ms", "p95 ms", "added (median) ms"],
        rows: stats.map((s) => [
          s.call,
          s.limiter,
          s.base,
          formatMs(s.medianMs),
          formatMs(s.p95Ms),
          formatSignedMs(s.addedMedianMs),
        ]),
        notes,
        data: { samples: SAMPLES, warmupRounds: WARMUP_ROUNDS, restMs: REST_MS, count429: refused, rows: stats },
      };
    } finally {
      await Promise.allSettled([clustered.close(), local.close()]);
      await sandbox.close();
    }
  },
};
