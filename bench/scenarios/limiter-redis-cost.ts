import { Redis } from "ioredis";
import { BottleneckAirtableLimiter } from "../../src/shared/limiter/index.ts";
import { RedisCommandCounter, type RedisCommandCount } from "../../tests/helpers/redis-monitor.ts";
import type { BenchContext, Scenario, ScenarioResult } from "../scenario.ts";

/**
 * What the clustered limiter costs Redis (issue 15): commands per Airtable request — commands run inside its Lua
 * scripts included, counted with Redis's MONITOR filtered by the run's key prefix — network round trips per request,
 * and commands per second with no traffic at all after 1,000 bases (and 100 users) were touched. No Airtable is
 * involved: `schedule` runs a no-op, so the numbers are the limiter's alone.
 */
const IDLE_BASES = 1_000;
const IDLE_USERS = 100;
/** How long the idle cost is watched, after a short settle (in-flight calls and their bookkeeping). */
const IDLE_WATCH_MS = 5_000;

interface CostRow {
  label: string;
  requests: number;
  count: RedisCommandCount;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function measure(
  ctx: BenchContext,
  counter: RedisCommandCounter,
  marker: Redis,
  label: string,
  requests: number,
  run: (limiter: BottleneckAirtableLimiter) => Promise<void>,
  keyPrefix: string,
): Promise<CostRow> {
  const limiter = BottleneckAirtableLimiter.clustered({ redis: ctx.redis, keyPrefix });
  try {
    await counter.take(marker);
    await run(limiter);
    // Let fire-and-forget bookkeeping (late-arrival revisions) land before counting.
    await sleep(200);
    return { label, requests, count: await counter.take(marker) };
  } finally {
    await limiter.close();
  }
}

export const limiterRedisCost: Scenario = {
  name: "limiter Redis cost",
  summary:
    "Redis commands (inside scripts included) and round trips per request of the clustered limiter, and its Redis " +
    `commands per second while idle after ${IDLE_BASES.toLocaleString("en")} bases were touched.`,
  async run(ctx): Promise<ScenarioResult> {
    const counter = await RedisCommandCounter.start(ctx.redisUrl, ctx.keyPrefix);
    const marker = new Redis(ctx.redisUrl, { maxRetriesPerRequest: 1 });
    try {
      const nothing = async () => undefined;
      const rows: CostRow[] = [];
      ctx.progress("idle bases: 20 bases of 20 users × 5 requests at once");
      rows.push(
        await measure(
          ctx,
          counter,
          marker,
          "idle bases (20 bases of 20 users × a burst of 5)",
          100,
          async (limiter) => {
            await Promise.all(
              Array.from({ length: 20 }, (_, b) =>
                Promise.all(
                  Array.from({ length: 5 }, () =>
                    limiter.schedule({ userId: `usrIdle${b}`, baseId: `appIdle${b}` }, nothing),
                  ),
                ),
              ),
            );
          },
          `${ctx.keyPrefix}:idle`,
        ),
      );
      ctx.progress("one busy base: 20 requests at once (the window fills, requests wait)");
      rows.push(
        await measure(
          ctx,
          counter,
          marker,
          "one busy base (20 requests at once)",
          20,
          async (limiter) => {
            await Promise.all(
              Array.from({ length: 20 }, () => limiter.schedule({ userId: "usrCost", baseId: "appBusy" }, nothing)),
            );
          },
          `${ctx.keyPrefix}:busy`,
        ),
      );

      ctx.progress(
        `idle cost: touching ${IDLE_BASES} bases of ${IDLE_USERS} users, then ${IDLE_WATCH_MS / 1000} s idle`,
      );
      const idleLimiter = BottleneckAirtableLimiter.clustered({ redis: ctx.redis, keyPrefix: `${ctx.keyPrefix}:many` });
      let idleCount: RedisCommandCount;
      try {
        for (let i = 0; i < IDLE_BASES; i += 50) {
          await Promise.all(
            Array.from({ length: 50 }, (_, j) =>
              idleLimiter.schedule({ userId: `usrMany${(i + j) % IDLE_USERS}`, baseId: `appMany${i + j}` }, nothing),
            ),
          );
        }
        await sleep(1_000);
        await counter.take(marker);
        await sleep(IDLE_WATCH_MS);
        idleCount = await counter.take(marker);
      } finally {
        await idleLimiter.close();
      }
      const idlePerSecond = idleCount.commands / (IDLE_WATCH_MS / 1000);

      const perRequest = (row: CostRow, n: number) => (n / row.requests).toFixed(2);
      const top = (row: CostRow) =>
        Object.entries(row.count.byName)
          .sort((a, b) => b[1] - a[1])
          .slice(0, 5)
          .map(([name, n]) => `${name} ${perRequest(row, n)}`)
          .join(", ");
      return {
        columns: ["traffic", "requests", "commands / request", "round trips / request", "most frequent (per request)"],
        rows: [
          ...rows.map((row) => [
            row.label,
            String(row.requests),
            perRequest(row, row.count.commands),
            perRequest(row, row.count.roundTrips),
            top(row),
          ]),
          [
            `idle, after ${IDLE_BASES.toLocaleString("en")} bases / ${IDLE_USERS} users`,
            "0",
            `${idlePerSecond.toFixed(1)} commands/s`,
            `${(idleCount.roundTrips / (IDLE_WATCH_MS / 1000)).toFixed(1)} round trips/s`,
            Object.entries(idleCount.byName)
              .map(([name, n]) => `${name} ${n}`)
              .join(", ") || "—",
          ],
        ],
        notes: [
          "Counted with Redis MONITOR filtered by the run's key prefix: commands a Lua script runs count (MONITOR " +
            "reports them after the script call), EVALSHA itself counts too. Round trips are the commands a client sent.",
          "`schedule` runs a no-op: no Airtable request, so the numbers are the limiter's own.",
          `Idle: ${IDLE_BASES.toLocaleString("en")} bases of ${IDLE_USERS} users got one request each; after 1 s, ` +
            `commands were counted for ${IDLE_WATCH_MS / 1000} s with no traffic.`,
        ],
        data: { rows, idle: { ...idleCount, perSecond: idlePerSecond, watchMs: IDLE_WATCH_MS } },
      };
    } finally {
      counter.stop();
      marker.disconnect();
    }
  },
};
