/**
 * The server's GET /readyz, for load balancers and Cloud Run probes:
 * - 503 `{status: "unavailable", failing}` when Redis or the token store does not answer (readiness.ts): this
 *   instance can serve nothing, so it leaves the rotation;
 * - 200 `{status: "degraded", degraded: ["workers"], workers, message}` when writes are waiting and no worker is
 *   alive: none beat within 30 s, or the last one stopped (worker-heartbeat.ts). Still 200 on purpose: this
 *   instance serves reads and accepts writes
 *   (they are kept in the queue and run once a worker starts), and taking it out of rotation would not bring a
 *   worker back — it would only turn every request into an error. Alert on `status` instead;
 * - 200 `{status: "ready"}` otherwise. With a queue, both 200 answers carry `workers: {alive, writesWaiting,
 *   lastHeartbeatSecondsAgo?}`.
 */
import type { Queue } from "bullmq";
import type { RequestHandler } from "express";
import { failingChecks, withTimeout, type ReadinessChecks } from "../shared/readiness.ts";
import type { WorkerLiveness } from "../shared/queue/worker-heartbeat.ts";

/** Job states that mean "a write waits for a worker" (active: picked by a worker that may have died since). */
const WAITING_STATES = ["wait", "prioritized", "delayed", "active"] as const;

export interface WorkersReport {
  alive: number;
  writesWaiting: number;
  lastHeartbeatSecondsAgo?: number;
}

export interface ReadyzOptions {
  checks: ReadinessChecks;
  /** The write queue and the workers' heartbeats; absent when writes run in this process (no workers to watch). */
  workers?: { liveness: WorkerLiveness; queue: Pick<Queue, "getJobCounts"> };
}

/** Reads the workers' state (undefined when it cannot be read in time: the Redis check then says why). */
export async function workersReport(
  workers: NonNullable<ReadyzOptions["workers"]>,
): Promise<WorkersReport | undefined> {
  try {
    const [status, counts] = await withTimeout(
      Promise.all([workers.liveness.status(), workers.queue.getJobCounts(...WAITING_STATES)]),
      2_000,
    );
    const writesWaiting = WAITING_STATES.reduce((sum, state) => sum + (counts[state] ?? 0), 0);
    return {
      alive: status.alive,
      writesWaiting,
      ...(status.lastBeatAgoMs !== undefined && { lastHeartbeatSecondsAgo: Math.round(status.lastBeatAgoMs / 1000) }),
    };
  } catch {
    return undefined;
  }
}

export function readyzHandler(opts: ReadyzOptions): RequestHandler {
  return async (_req, res) => {
    const [failing, workers] = await Promise.all([
      failingChecks(opts.checks),
      opts.workers === undefined ? undefined : workersReport(opts.workers),
    ]);
    if (failing.length > 0) {
      res.status(503).json({ status: "unavailable", failing });
      return;
    }
    if (workers !== undefined && workers.alive === 0 && workers.writesWaiting > 0) {
      const windowSec = Math.round(opts.workers!.liveness.windowMs / 1000);
      res.json({
        status: "degraded",
        degraded: ["workers"],
        workers,
        message:
          `${workers.writesWaiting} write operation(s) are waiting and no worker is running (none has sent a ` +
          `heartbeat in the last ${windowSec} s, or the last one stopped): ` +
          `start a worker (ROLE=worker npm start, the worker image, or the Cloud Run worker pool). Reads still work.`,
      });
      return;
    }
    res.json({ status: "ready", ...(workers !== undefined && { workers }) });
  };
}
