/**
 * Prometheus metrics of one process (server or worker). Each `Metrics` has its own prom-client `Registry`, never
 * the global one, so a test can build several apps in one process without "metric already registered".
 *
 * The series, and where they are observed:
 * - airtable_requests_total{operation,status}: every HTTP attempt to Airtable (AirtableClient `onAttempt`);
 *   status is the HTTP status, "network" (no answer: connection refused, reset, timed out) or "cancelled" (cut off
 *   in flight when its read call was stopped: its deadline, its client cancelling or leaving).
 * - airtable_rate_limited_total: attempts Airtable answered 429 (each one pauses the base for 30 s).
 * - airtable_limiter_wait_seconds: time a request waited in the shared limiter before it was sent (LimiterHooks).
 * - queue_jobs{state}: BullMQ job counts, read from Redis when scraped (the same figure on every instance).
 * - operation_duration_seconds{kind,status}: accepted → ended, for the operations this process ended.
 * - records_written_total{kind}: records Airtable confirmed written (created, updated, upserted, deleted).
 * - tool_call_duration_seconds{tool,outcome}: MCP tool calls, outcome "ok" or "error".
 * - mcp_stale_protocol_header_requests_total{client}: 2026-07-28 requests served though their
 *   `MCP-Protocol-Version` header named a 2025 revision (src/server/mcp/stale-version-header.ts), by client: its
 *   `name version` for the first 32 distinct ones of the process, "other" after.
 * - prom-client's default process metrics (CPU, memory, event loop lag, GC…).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { AirtableAttempt } from "../airtable/client.ts";
import type { LimiterHooks } from "../limiter/airtable-limiter.ts";
import type { Logger } from "../logger.ts";
import { withTimeout } from "../readiness.ts";

/** The BullMQ states queue_jobs reports. */
export const QUEUE_JOB_STATES = ["waiting", "active", "delayed", "failed", "completed"] as const;
export type QueueJobState = (typeof QUEUE_JOB_STATES)[number];

/** What queue_jobs reads on every scrape: a BullMQ Queue fits as it is. */
export interface JobCountsSource {
  getJobCounts(...types: QueueJobState[]): Promise<Record<string, number>>;
}

export interface MetricsOptions {
  /** Warnings (a scrape that could not read the queue). */
  logger?: Logger;
  /** prom-client's process metrics; default true. */
  processMetrics?: boolean;
  /** How long a scrape waits for the queue's counts before leaving queue_jobs out; default 2 000 ms. */
  queueTimeoutMs?: number;
}

export class Metrics {
  readonly registry = new Registry();
  readonly #logger: Logger | undefined;
  readonly #queueTimeoutMs: number;
  #queue: JobCountsSource | undefined;

  readonly airtableRequests: Counter<"operation" | "status">;
  readonly airtableRateLimited: Counter;
  readonly limiterWait: Histogram;
  readonly queueJobs: Gauge<"state">;
  readonly operationDuration: Histogram<"kind" | "status">;
  readonly recordsWritten: Counter<"kind">;
  readonly toolCallDuration: Histogram<"tool" | "outcome">;
  readonly staleProtocolHeader: Counter<"client">;

  constructor(opts: MetricsOptions = {}) {
    this.#logger = opts.logger;
    this.#queueTimeoutMs = opts.queueTimeoutMs ?? 2_000;
    const registers = [this.registry];
    this.airtableRequests = new Counter({
      name: "airtable_requests_total",
      help: "HTTP requests sent to Airtable (every attempt, retries included), by client operation and HTTP status ('network' when none arrived, 'cancelled' when its call was stopped while it was in flight).",
      labelNames: ["operation", "status"],
      registers,
    });
    this.airtableRateLimited = new Counter({
      name: "airtable_rate_limited_total",
      help: "Requests Airtable answered 429; each pauses the base (or user) for every process for the penalty period.",
      registers,
    });
    this.limiterWait = new Histogram({
      name: "airtable_limiter_wait_seconds",
      help: "Time a request waited in the shared rate limiter (5 req/s per base, 50 req/s per user, 429 penalties) before it was sent.",
      buckets: [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    });
    this.queueJobs = new Gauge({
      name: "queue_jobs",
      help: "Operation jobs in the BullMQ queue by state, read from Redis at scrape time (the same value on every instance).",
      labelNames: ["state"],
      registers,
      collect: () => this.#collectQueue(),
    });
    this.operationDuration = new Histogram({
      name: "operation_duration_seconds",
      help: "Write operations from accepted to ended (queue wait included), by kind and final status; observed by the process that ended them.",
      labelNames: ["kind", "status"],
      buckets: [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
      registers,
    });
    this.recordsWritten = new Counter({
      name: "records_written_total",
      help: "Records (or tables and fields, for schema operations) Airtable confirmed written, by operation kind.",
      labelNames: ["kind"],
      registers,
    });
    this.toolCallDuration = new Histogram({
      name: "tool_call_duration_seconds",
      help: "MCP tool calls from request to answer, by tool and outcome (ok, error, or cancelled: the client cancelled or left, or the server's shutdown cut the call off, before the answer; nothing changed).",
      labelNames: ["tool", "outcome"],
      buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.staleProtocolHeader = new Counter({
      name: "mcp_stale_protocol_header_requests_total",
      help: "2026-07-28 MCP requests served although their MCP-Protocol-Version header named a 2025 revision (the exception for Claude's connectors, anthropics/claude-code#93290), by client name and version (the first 32 of the process; 'other' after). Zero for long: the exception can go.",
      labelNames: ["client"],
      registers,
    });
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** queue_jobs reads this queue's counts on every scrape. */
  observeQueue(queue: JobCountsSource): void {
    this.#queue = queue;
  }

  /** AirtableClient's `onAttempt`. */
  readonly onAirtableAttempt = (attempt: AirtableAttempt): void => {
    this.airtableRequests.inc({ operation: attempt.operation, status: String(attempt.status) });
    if (attempt.status === 429) this.airtableRateLimited.inc();
  };

  /** The shared limiter's hooks (BottleneckAirtableLimiter.clustered({ hooks })). */
  readonly limiterHooks: LimiterHooks = {
    onAdmitted: (_scope, waitedMs) => this.limiterWait.observe(waitedMs / 1000),
  };

  /** ToolRuntime's `onToolCall`. */
  readonly onToolCall = (tool: string, ms: number, outcome: "ok" | "error" | "cancelled"): void => {
    this.toolCallDuration.observe({ tool, outcome }, ms / 1000);
  };

  /** The MCP router's `onStaleVersionHeader`. */
  readonly onStaleVersionHeader = (client: string): void => {
    this.staleProtocolHeader.inc({ client });
  };

  /** An operation this process ended (completed, completed_with_errors, failed). */
  operationEnded(kind: string, status: string, seconds: number): void {
    this.operationDuration.observe({ kind, status }, Math.max(0, seconds));
  }

  recordsWrittenBy(kind: string, count: number): void {
    if (count > 0) this.recordsWritten.inc({ kind }, count);
  }

  /** The text exposition format, for a scrape. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  async #collectQueue(): Promise<void> {
    const gauge = this.queueJobs;
    gauge.reset();
    if (this.#queue === undefined) return;
    try {
      const counts = await withTimeout(this.#queue.getJobCounts(...QUEUE_JOB_STATES), this.#queueTimeoutMs);
      for (const state of QUEUE_JOB_STATES) gauge.set({ state }, counts[state] ?? 0);
    } catch (error) {
      // A scrape must still answer when Redis does not: the series is left out (absent, not a false 0).
      this.#logger?.warn({ err: error }, "metrics: could not read the queue's job counts; queue_jobs left out");
    }
  }
}
