/**
 * The operator's routes, mounted only when ADMIN_TOKEN is set: Bull Board at /admin/queues and Prometheus
 * metrics at /metrics, both behind the admin token.
 */
import express from "express";
import type { Queue } from "bullmq";
import type { Metrics } from "../../shared/metrics/index.ts";
import type { OperationJobData } from "../../shared/queue/operation-queue.ts";
import { requireAdminToken } from "./admin-auth.ts";
import { BULL_BOARD_PATH, createBullBoardRouter, type BullBoardOptions } from "./bull-board.ts";

export interface AdminRouterOptions {
  adminToken: string;
  /** ADMIN_READ_ONLY: the board refuses every change. */
  readOnly: boolean;
  metrics: Metrics;
  /** The operations queue; absent (operations run in-process): no board. */
  queue?: Queue<OperationJobData>;
  /** What the board's remove cancels operations through (bull-board.ts). */
  cancel?: BullBoardOptions["cancel"];
}

export function createAdminRouter(opts: AdminRouterOptions): express.Router {
  const router = express.Router();
  const admin = requireAdminToken(opts.adminToken);
  router.get("/metrics", admin, async (_req, res) => {
    const { contentType, body } = await opts.metrics.render();
    res.type(contentType).send(body);
  });
  if (opts.queue !== undefined) {
    router.use(
      BULL_BOARD_PATH,
      admin,
      createBullBoardRouter({
        queue: opts.queue,
        readOnly: opts.readOnly,
        ...(opts.cancel !== undefined && { cancel: opts.cancel }),
      }),
    );
  }
  return router;
}
