/**
 * The processor and Airtable's 429 (real sandbox over HTTP, the local limiter, real Redis for the operation log): a
 * 429 the client stops waiting out (it met the penalty as many times as it may wait: AirtableRateLimitError) is
 * recorded with the pause's end, so that get_operation says when the write resumes (the runner runs it again then),
 * and the next run clears it and writes every record once.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { fixture, type Fixture } from "../../sandbox/test-helpers.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";
import { AirtableClient } from "../../../src/shared/airtable/client.ts";
import { BottleneckAirtableLimiter } from "../../../src/shared/limiter/index.ts";
import { createLogger } from "../../../src/shared/logger.ts";
import { foldOperation } from "../../../src/shared/operations/fold.ts";
import { OperationLog } from "../../../src/shared/operations/operation-log.ts";
import { operationFromPlan } from "../../../src/shared/operations/plan.ts";
import { processOperation } from "../../../src/shared/operations/processor.ts";
import { OperationRateLimitedError } from "../../../src/shared/operations/operation-errors.ts";
import { operationResult } from "../../../src/shared/tools/operation-result.ts";

let f: Fixture;
let log: OperationLog;
const redis = createTestRedis();
const prefix = uniquePrefix("processor-429");
const PENALTY_MS = 200;
const limiter = BottleneckAirtableLimiter.local({ settings: { penaltyMs: PENALTY_MS } });
const logger = createLogger({ level: "silent" });

beforeAll(async () => {
  f = await fixture({ penaltyMs: PENALTY_MS });
  log = new OperationLog({ redis, keyPrefix: prefix, retentionMs: 600_000 });
});

afterAll(async () => {
  await limiter.close();
  await f?.sandbox.close();
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

it("a 429 the client stopped waiting out records when the write resumes; the next run clears it", async () => {
  // A client that waits out no 429 at all: the first one ends the run (the worker's allows 10 in a row).
  const airtable = new AirtableClient({
    apiUrl: f.sandbox.url,
    contentUrl: f.sandbox.url,
    userId: f.user.id,
    getAccessToken: async () => f.token,
    limiter,
    logger,
    retry: { maxRateLimitWaits: 0 },
  });
  const op = operationFromPlan(
    {
      baseId: f.base.id,
      kind: "create_records",
      tableId: "Tasks",
      input: Array.from({ length: 3 }, (_, i) => ({ fields: { Name: `held ${i}` } })),
      options: { typecast: false, onError: "continue" },
    },
    f.user.id,
  );
  await log.create(op);
  const PAUSE_MS = 5_000;
  f.sandbox.penalize({ baseId: f.base.id }, PENALTY_MS);
  const before = Date.now();
  await expect(
    processOperation(op.operationId, { store: log, airtable, logger, rateLimitPauseMs: PAUSE_MS }),
  ).rejects.toBeInstanceOf(OperationRateLimitedError);

  const held = foldOperation(await log.read(op.operationId));
  expect(held.status).toBe("running");
  expect(held.rateLimitPause?.baseId).toBe(f.base.id);
  expect(held.rateLimitPause!.until).toBeGreaterThanOrEqual(before + PAUSE_MS);
  expect(held.rateLimitPause!.until).toBeLessThanOrEqual(Date.now() + PAUSE_MS);
  const answer = operationResult(held, { now: held.rateLimitPause!.until - 4_000 });
  expect(answer.rateLimitPause).toMatchObject({ baseId: f.base.id, secondsLeft: 4 });
  expect(answer.message).toMatch(/Paused by Airtable's rate limit: .* resumes by itself then, with nothing lost/);

  // The runner's next run (after its pause) writes the records and the pause is gone.
  await new Promise((resolve) => setTimeout(resolve, PENALTY_MS + 100));
  const done = await processOperation(op.operationId, { store: log, airtable, logger, rateLimitPauseMs: PAUSE_MS });
  expect(done.status).toBe("completed");
  expect(done.rateLimitPause).toBeUndefined();
  const names = f.sandbox
    .listRecordsDirect(f.base.id, "Tasks")
    .map((r) => String(r.fields.Name))
    .filter((n) => n.startsWith("held "));
  expect(names.sort()).toEqual(["held 0", "held 1", "held 2"]);
});
