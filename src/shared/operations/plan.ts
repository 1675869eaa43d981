/**
 * What a write tool asks for (an OperationPlan) and the exact shape of each kind's input items, as stored in
 * the operation and executed by the processor. Write tools build items that parse here; the processor parses
 * them again before sending, so an item from an older or corrupt log fails the operation with a message
 * instead of reaching Airtable malformed.
 */
import { z } from "zod";
import { MAX_BATCH_SIZE, operationSchema } from "./events.ts";
import type { Operation, OperationKind, OperationOptions } from "./events.ts";
import { newOperationId } from "./operation-id.ts";

const fields = z.record(z.string(), z.unknown());
const fieldSpec = z.object({
  name: z.string().min(1),
  type: z.string().min(1),
  description: z.string().optional(),
  options: z.record(z.string(), z.unknown()).optional(),
});

/** One input item per kind. Names are resolved to ids by the tool where the schema allows it. */
export const itemSchemas = {
  create_records: z.object({ fields }),
  update_records: z.object({ id: z.string().min(1), fields }),
  upsert_records: z.object({ id: z.string().min(1).optional(), fields }),
  delete_records: z.object({ id: z.string().min(1) }),
  create_table: z.object({
    name: z.string().min(1),
    description: z.string().optional(),
    fields: z.array(fieldSpec).min(1),
  }),
  update_table: z.object({ name: z.string().min(1).optional(), description: z.string().optional() }),
  create_field: fieldSpec,
  update_field: z.object({
    fieldId: z.string().min(1),
    name: z.string().min(1).optional(),
    description: z.string().optional(),
  }),
  create_comment: z.object({
    recordId: z.string().min(1),
    text: z.string().min(1),
    parentCommentId: z.string().optional(),
  }),
  upload_attachment: z.object({
    recordId: z.string().min(1),
    fieldId: z.string().min(1),
    contentType: z.string().min(1),
    filename: z.string().min(1),
    /** base64 */
    file: z.string().min(1),
  }),
} satisfies Record<OperationKind, z.ZodType>;

export type ItemOf<K extends OperationKind> = z.infer<(typeof itemSchemas)[K]>;

/** A write tool's answer to "what should be written": the runtime turns it into an Operation. */
export interface OperationPlan<K extends OperationKind = OperationKind> {
  kind: K;
  baseId: string;
  /** The table's id (tools resolve names first); absent for create_table. */
  tableId?: string;
  input: ItemOf<K>[];
  options: OperationOptions;
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
    batchSize: MAX_BATCH_SIZE,
    createdAt: now,
  });
}
