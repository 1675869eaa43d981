import type { OperationKind } from "./events.ts";
import type { OperationProgress, OperationState, OperationStatus } from "./fold.ts";

/** One line of an owner's operation list: what it is and how far it got, without its input or results. */
export interface OperationSummary {
  operationId: string;
  kind: OperationKind;
  baseId: string;
  tableId?: string;
  status: OperationStatus;
  progress: OperationProgress;
  /** OperationState.rateLimitPause: its request waits out Airtable's 429 penalty; only while recorded. */
  rateLimitPause?: { baseId: string; until: number; since: number };
  createdAt: number;
  updatedAt: number;
}

export function summarizeOperation(state: OperationState): OperationSummary {
  const { operationId, kind, baseId, tableId } = state.operation;
  return {
    operationId,
    kind,
    baseId,
    ...(tableId === undefined ? {} : { tableId }),
    status: state.status,
    progress: state.progress,
    ...(state.rateLimitPause === undefined ? {} : { rateLimitPause: state.rateLimitPause }),
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
  };
}
