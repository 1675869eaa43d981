/** Write operations as append-only event logs (docs/architecture.md invariants 2 and 3). */
export * from "./events.ts";
export { foldOperation, isTerminal, OPERATION_STATUSES, resumeDecision } from "./fold.ts";
export type {
  ItemOutcome,
  OperationProgress,
  OperationState,
  OperationStatus,
  PendingBatch,
  ResumeDecision,
  UnfinishedBatch,
} from "./fold.ts";
export { findWriteKind, WRITE_KIND_NAMES, WRITE_KINDS, writeKind } from "./kinds/index.ts";
export type { KindBatch, KindSent, WriteKind, WriteKindName, WriteKindNamed } from "./kinds/index.ts";
export { isOperationId, newOperationId } from "./operation-id.ts";
export {
  DEFAULT_MAX_EVENTS,
  MAX_LIST_LIMIT,
  OperationExistsError,
  OperationLog,
  OperationLogFullError,
  OperationNotFoundError,
} from "./operation-log.ts";
export type { OperationLogOptions } from "./operation-log.ts";
export type { ListOptions, OperationListEntry } from "./operation-store.ts";
export { summarizeOperation } from "./summary.ts";
export type { OperationSummary } from "./summary.ts";
export { isUnreadable, UnreadableOperationLogError, unreadableOperationSentence } from "./unreadable-log.ts";
export type { UnreadableOperation } from "./unreadable-log.ts";
