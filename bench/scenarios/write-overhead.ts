import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { AirtableClient } from "../../src/shared/airtable/index.ts";
import { BottleneckAirtableLimiter } from "../../src/shared/limiter/index.ts";
import { createLogger } from "../../src/shared/logger.ts";
import { callTool, resultText, signInAndConnect } from "../../tests/e2e/helpers/mcp-client.ts";
import { TestOAuthProvider } from "../../tests/e2e/helpers/test-oauth-provider.ts";
import { startSandbox } from "../../src/sandbox/index.ts";
import type { Scenario, ScenarioResult } from "../scenario.ts";
import { IdlePool } from "../support/idle-pool.ts";
import { startInProcessServer, type InProcessServer } from "../support/in-process-server.ts";
import { sampleInterleaved, timed, versusFirst } from "../support/sampling.ts";
import { WritePipeline, createItemsBase, createRecordsOperation } from "../support/write-pipeline.ts";

/**
 * What the queue adds to one small write: a 1-record create sent with AirtableClient directly (through the
 * clustered limiter, as every process sends), versus the same create as an operation (submit → one worker
 * process runs it → waitForEnd → state read back), versus a create_record tool call through MCP and the real
 * server app. Sandbox at 0 ms latency, so only our own time shows. Rounds alternate which call goes first.
 */
const SAMPLES = 150;
const WARMUP_ROUNDS = 10;
/**
 * Slots the calls rotate over: a base and its own owner, each reused only after REST_MS, so neither the 5 req/s
 * per base nor the 50 req/s per user (which a worker cannot raise: AIRTABLE_USER_RPS ≤ 50) makes a call wait.
 */
const SLOTS = 16;
const REST_MS = 300;
const PENALTY_MS = 5_000;
const QUEUED_TIMEOUT_MS = 15_000;

interface Slot {
  userId: string;
  baseId: string;
  tableId: string;
  direct: AirtableClient;
}

export const writeOverhead: Scenario = {
  name: "queued write overhead",
  summary:
    "Latency of a 1-record create as a queued operation run by a worker process (and as an MCP create_record call) " +
    "versus the same create sent with AirtableClient directly, against the sandbox at 0 ms latency.",
  async run(ctx): Promise<ScenarioResult> {
    const sandbox = await startSandbox({ perBaseRps: 5, perTokenRps: 50, penaltyMs: PENALTY_MS });
    const logger = createLogger({ level: "silent" });
    const limiter = BottleneckAirtableLimiter.clustered({ redis: ctx.redis, keyPrefix: ctx.keyPrefix, logger });
    let pipeline: WritePipeline | undefined;
    let server: InProcessServer | undefined;
    let mcp: Client | undefined;
    try {
      pipeline = await WritePipeline.start({
        sandbox,
        redis: ctx.redis,
        redisUrl: ctx.redisUrl,
        keyPrefix: ctx.keyPrefix,
        penaltyMs: PENALTY_MS,
      });
      const queued = pipeline;
      server = await startInProcessServer({
        sandbox,
        redis: ctx.redis,
        keyPrefix: ctx.keyPrefix,
        tokenEncryptionKey: pipeline.tokenEncryptionKey,
      });
      const mcpUser = sandbox.addUser({ email: "bench-mcp-writer@example.com" });
      const slots: Slot[] = [];
      for (let i = 0; i < SLOTS; i++) {
        const userId = sandbox.addUser({ email: `bench-writer-${i}@example.com` }).id;
        const token = sandbox.createPersonalAccessToken(userId);
        await pipeline.seedAirtableToken(userId, token);
        const { baseId, tableId } = createItemsBase(sandbox, userId, `Overhead ${i}`);
        sandbox.grantAccess(baseId, mcpUser.id, "create");
        const direct = new AirtableClient({
          apiUrl: sandbox.url,
          contentUrl: sandbox.url,
          userId,
          getAccessToken: async () => token,
          limiter,
        });
        slots.push({ userId, baseId, tableId, direct });
      }
      ctx.progress("starting 1 worker process");
      await pipeline.scaleWorkersTo(1);
      ctx.progress("signing in through OAuth with the MCP SDK client");
      ({ client: mcp } = await signInAndConnect(server.mcpUrl, new TestOAuthProvider({ sandboxUser: mcpUser.id })));
      const signedIn = mcp;
      const pool = new IdlePool(SLOTS, REST_MS);
      let sequence = 0;
      const nextName = () => `write ${sequence++}`;

      const variants = [
        {
          call: "client.createRecords (direct, clustered limiter)",
          sample: async () => {
            const s = slots[await pool.take()]!;
            const fields = { Name: nextName() };
            return timed(() => s.direct.createRecords(s.baseId, s.tableId, [{ fields }], { typecast: true }));
          },
        },
        {
          call: "queued: submit → worker process → waitForEnd → state",
          sample: async () => {
            const s = slots[await pool.take()]!;
            const op = createRecordsOperation(s.userId, s.baseId, s.tableId, [nextName()]);
            return timed(async () => {
              await queued.runner.submit(op);
              await queued.runner.waitForEnd(op.operationId, QUEUED_TIMEOUT_MS);
              const state = await queued.operations.getForOwner(op.operationId, s.userId);
              if (state?.status !== "completed") throw new Error(`queued write ended ${state?.status ?? "missing"}`);
            });
          },
        },
        {
          call: "MCP tools/call create_record (queued, same worker)",
          sample: async () => {
            const s = slots[await pool.take()]!;
            const args = { baseId: s.baseId, tableId: s.tableId, fields: { Name: nextName() } };
            return timed(async () => {
              const result = await callTool(signedIn, "create_record", args);
              const status = (result.structuredContent as { status?: string } | undefined)?.status;
              if (result.isError || status !== "completed") {
                throw new Error(`create_record ended ${status ?? "in an error"}: ${resultText(result)}`);
              }
            });
          },
        },
      ];

      // Every path once per slot before the warm-up rounds: limiter state per base and user, the worker's token
      // decryption, and the server's schema cache (a schema read right before a write would wait out the base's
      // spacing).
      ctx.progress(`warming ${SLOTS} bases on every path`);
      for (let i = 0; i < SLOTS; i++) for (const v of variants) await v.sample();
      const samples = await sampleInterleaved(
        variants.map((v) => v.sample),
        { warmupRounds: WARMUP_ROUNDS, samples: SAMPLES, progress: (m) => ctx.progress(m) },
      );

      const table = versusFirst(
        variants.map((v) => v.call),
        samples,
      );
      const notes = [
        `${SAMPLES} sequential samples per row after ${WARMUP_ROUNDS} warm-up rounds (and one call per path and base ` +
          `before them), rows interleaved round by round; every call creates one record in one of ${SLOTS} bases, ` +
          `each owned by its own user and reused only after ≥ ${REST_MS} ms, so neither the 5 req/s per base nor the ` +
          "50 req/s per user makes a call wait.",
        "The queued row is what a write tool call waits on: the operation's log created and its BullMQ job added " +
          "(QueuedOperationRunner.submit), one worker process (`node src/worker/main.ts`, default settings) picking " +
          "it up, taking the base's fairness slot, loading the owner's token from the Redis token store, appending " +
          "batch.started / batch.succeeded / completed, the clustered limiter and the Airtable call; then the " +
          "completion reaching the bench through QueueEvents (waitForEnd) and the state folded from the log.",
        "The MCP row adds the MCP SDK client's HTTP POST to the real server app, bearer verification, the field-name " +
          "check against the cached schema and the tool's result; its user signed in once through the real OAuth flow " +
          "and was given access to every base. The direct row is AirtableClient with the same clustered limiter.",
        "Sandbox in-process at 0 ms latency and Airtable's limits; the worker and the bench share one Redis.",
      ];
      // Every call must have written its record, once: a path that skipped the write would look fast.
      const written = new Map<string, number>();
      for (const s of slots) {
        for (const row of sandbox.listRecordsDirect(s.baseId, s.tableId)) {
          const name = String(row.fields.Name);
          written.set(name, (written.get(name) ?? 0) + 1);
        }
      }
      const once = [...written.values()].filter((c) => c === 1).length;
      notes.push(
        once === sequence && written.size === sequence
          ? `Every one of the ${sequence} creates (warm-up included) is in its table exactly once.`
          : `WARNING: ${sequence} creates made, ${written.size} distinct records found, ${once} of them exactly once.`,
      );
      const refused = sandbox.count429();
      if (refused > 0) notes.push(`WARNING: the sandbox answered ${refused} requests with 429; numbers are off.`);
      const warnings = pipeline.workerWarnings();
      if (warnings.length > 0) notes.push(`Worker warnings (${warnings.length}), first: ${warnings[0]}`);
      return {
        columns: table.columns,
        rows: table.rows,
        notes,
        data: {
          samples: SAMPLES,
          warmupRounds: WARMUP_ROUNDS,
          slots: SLOTS,
          restMs: REST_MS,
          count429: refused,
          rows: table.stats,
        },
      };
    } finally {
      await mcp?.close().catch(() => undefined);
      await server?.close();
      await limiter.close();
      await pipeline?.close();
      await sandbox.close();
    }
  },
};
