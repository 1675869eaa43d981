/**
 * Test-only: a ToolContext built by hand from real parts — the Airtable sandbox with the demo base, an
 * AirtableClient behind an in-process limiter, a SchemaCache and the Redis OperationLog — so tool tests call
 * `plan` / `handler` directly, as the MCP runtime would after the SDK validated the arguments.
 */
import type { Redis } from "ioredis";
import { expect } from "vitest";
import { z } from "zod";
import { createTestRedis, deleteKeys, uniquePrefix } from "../helpers/redis.ts";
import { seedDemo, type DemoData } from "../../src/sandbox/demo-data.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { AirtableClient } from "../../src/shared/airtable/client.ts";
import { BottleneckAirtableLimiter } from "../../src/shared/limiter/index.ts";
import { createLogger } from "../../src/shared/logger.ts";
import { OperationLog } from "../../src/shared/operations/operation-log.ts";
import { itemSchemas, operationFromPlan, type OperationPlan } from "../../src/shared/operations/plan.ts";
import { SchemaCache } from "../../src/shared/schema-cache.ts";
import type { ReadToolDefinition, ToolContext, WriteToolDefinition } from "../../src/shared/tools/define-tool.ts";

export interface ToolContextHarness {
  sandbox: Sandbox;
  demo: DemoData;
  ctx: ToolContext;
  /** The Redis operation log behind ctx.operations, to create operations and append events. */
  operations: OperationLog;
  /** ctx as another sandbox user (with a base of their own). */
  contextFor(userId: string): ToolContext;
  otherUser: { id: string };
  /** Validates `args` with the tool's input schema (defaults applied, as the SDK does), then plans. */
  plan(tool: WriteToolDefinition, args: Record<string, unknown>, ctx?: ToolContext): Promise<OperationPlan>;
  /** Validates `args`, runs the handler and checks the output against the tool's outputSchema. */
  call(tool: ReadToolDefinition, args: Record<string, unknown>, ctx?: ToolContext): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startToolContextHarness(label: string): Promise<ToolContextHarness> {
  // Faster than Airtable's 5 req/s so the tests stay quick; limiter and sandbox agree, so no 429s.
  const sandbox = await startSandbox({ perBaseRps: 25 });
  const limiter = BottleneckAirtableLimiter.local({ settings: { baseRps: 25 } });
  const redis: Redis = createTestRedis();
  const keyPrefix = uniquePrefix(label);
  const logger = createLogger({ level: "silent" });
  const schemas = new SchemaCache({ keyPrefix });
  const operations = new OperationLog({ redis, keyPrefix, retentionMs: 10 * 60_000 });
  const demo = seedDemo(sandbox);
  const other = sandbox.addUser({ email: "other@example.com", name: "Other User" });
  const tokens = new Map([
    [demo.user.id, demo.token],
    [other.id, sandbox.createPersonalAccessToken(other.id)],
  ]);

  const contextFor = (userId: string): ToolContext => ({
    airtable: new AirtableClient({
      apiUrl: sandbox.url,
      contentUrl: sandbox.url,
      userId,
      getAccessToken: async () => tokens.get(userId) ?? "unknown-user",
      limiter,
      logger,
    }),
    userId,
    schemas,
    logger,
    operations,
    maxRecordsPerOperation: 5000,
  });
  const ctx = contextFor(demo.user.id);

  return {
    sandbox,
    demo,
    ctx,
    operations,
    contextFor,
    otherUser: { id: other.id },
    async plan(tool, args, callCtx = ctx) {
      const input = z.object(tool.inputSchema).parse(args);
      const plan = await tool.plan(input, callCtx);
      // What the runtime does next must accept the plan, and every item must be exactly its kind's shape.
      expect(() => operationFromPlan(plan, callCtx.userId)).not.toThrow();
      for (const item of plan.input) expect(itemSchemas[plan.kind].parse(item)).toEqual(item);
      return plan;
    },
    async call(tool, args, callCtx = ctx) {
      const input = z.object(tool.inputSchema).parse(args);
      const output = await tool.handler(input, callCtx);
      z.object(tool.outputSchema).strict().parse(output);
      return output;
    },
    async close() {
      await limiter.close();
      await sandbox.close();
      await deleteKeys(redis, keyPrefix);
      redis.disconnect();
    },
  };
}
