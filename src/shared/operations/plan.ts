/**
 * What a write tool asks for (an OperationPlan) and the exact shape of each kind's input items, as stored in
 * the operation and executed by the processor. Write tools build items that parse here; the processor parses
 * them again before sending, so an item from an older or corrupt log fails the operation with a message
 * instead of reaching Airtable malformed.
 */
import type { z } from "zod";
import { MAX_BATCH_SIZE, operationSchema } from "./events.ts";
import type { Operation, OperationKind, OperationOptions } from "./events.ts";
import { WRITE_KINDS, type WriteKindName, type WriteKindNamed } from "./kinds/index.ts";
import { newOperationId } from "./operation-id.ts";

/** One input item per kind, from the kind registry (kinds/). Names are resolved to ids by the tool where the schema allows it. */
export const itemSchemas = Object.fromEntries(WRITE_KINDS.map((kind) => [kind.name, kind.item])) as {
  readonly [K in WriteKindName]: WriteKindNamed<K>["item"];
};

export type ItemOf<K extends OperationKind> = z.infer<(typeof itemSchemas)[K]>;

/** A write tool's answer to "what should be written": the runtime turns it into an Operation. */
export interface OperationPlan<K extends OperationKind = OperationKind> {
  kind: K;
  baseId: string;
  /** The table's id (tools resolve names first); absent for create_table. */
  tableId?: string;
  input: ItemOf<K>[];
  options: OperationOptions;
  /** Record kinds: the names of the fields the input names by id (Operation.fieldNames). */
  fieldNames?: Record<string, string>;
}

/** The operation a plan becomes for `ownerUserId`: a fresh unguessable id, batches of 10. Throws on a bad plan. */
export function operationFromPlan(plan: OperationPlan, ownerUserId: string, now: number = Date.now()): Operation {
  return operationSchema.parse({
    operationId: newOperationId(),
    ownerUserId,
    kind: plan.kind,
    baseId: plan.baseId,
    ...(plan.tableId === undefined ? {} : { tableId: plan.tableId }),
    input: plan.input,
    options: plan.options,
    ...(plan.fieldNames === undefined ? {} : { fieldNames: plan.fieldNames }),
    batchSize: MAX_BATCH_SIZE,
    createdAt: now,
  });
}
