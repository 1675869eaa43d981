import type { Logger } from "../logger.ts";
import type { OperationState } from "./fold.ts";
import type { OperationRunner, QueuedOperationRef } from "./operation-runner.ts";
import type { ListOptions, OperationListEntry, OperationReader } from "./operation-store.ts";
import { summarizeOperation } from "./summary.ts";
import { isUnreadable } from "./unreadable-log.ts";

/**
 * The reads every agent-facing answer about an operation goes through (get_operation, list_operations, MCP tasks'
 * `tasks/get` and a write call's own answer: server/app.ts), with what `runner` can settle settled first: each
 * operation read `queued` is passed to `runner.settleQueued`, and its new state (an operation whose queueing never
 * finished, now `failed`, nothing written) is answered instead. This is what ends such an operation when the
 * process that began it exited before it could (queue/queued-runner.ts `settleQueued`): no sweep is needed, since an
 * operation nobody reads is shown to nobody, and the first read past the grace ends it.
 *
 * A runner without `settleQueued` (embedded, stdio: operations run in the process that accepted them) gets
 * `reader` back as it is. A settle that fails (Redis away or slow) is logged and the read answers what it read:
 * the next read tries again. Costs nothing for operations that are not `queued`, nor for queued ones younger than
 * the runner's grace.
 */
export function settlingReader(
  reader: OperationReader,
  runner: Pick<OperationRunner, "settleQueued">,
  logger: Logger,
): OperationReader {
  if (runner.settleQueued === undefined) return reader;
  const settleQueued = runner.settleQueued.bind(runner);
  const settle = async (operation: QueuedOperationRef): Promise<OperationState | undefined> => {
    if (operation.status !== "queued") return undefined;
    try {
      return await settleQueued(operation);
    } catch (error) {
      logger.warn(
        { err: error, operationId: operation.operationId },
        "could not check whether a queued operation has its job",
      );
      return undefined;
    }
  };
  return {
    async getForOwner(operationId: string, ownerUserId: string): Promise<OperationState | undefined> {
      const state = await reader.getForOwner(operationId, ownerUserId);
      if (state === undefined) return undefined;
      const { status, createdAt } = state;
      return (await settle({ operationId: state.operation.operationId, status, createdAt })) ?? state;
    },
    async listForOwner(ownerUserId: string, opts: ListOptions): Promise<OperationListEntry[]> {
      const summaries = await reader.listForOwner(ownerUserId, opts);
      return Promise.all(
        summaries.map(async (summary) => {
          // A log this version cannot read has no status to settle by: it is listed as it is.
          if (isUnreadable(summary)) return summary;
          const settled = await settle(summary);
          return settled === undefined ? summary : summarizeOperation(settled);
        }),
      );
    },
  };
}
