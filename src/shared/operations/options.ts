/**
 * The options every write operation carries, whatever its kind (a tool fills them; the processor and the kinds'
 * `send` read them). Kept apart from events.ts so the write kinds can use them without importing the event log's
 * schemas, which are derived from the kinds.
 */
import { z } from "zod";

export const operationOptionsSchema = z.object({
  /** Airtable's `typecast`: convert strings to select options, linked records, … */
  typecast: z.boolean(),
  /** update_records: PUT (clear fields not given) instead of PATCH. */
  replace: z.boolean().optional(),
  /** Upsert keys (Airtable allows 1–3). On create_records it makes a crashed batch safe to re-send as an upsert. */
  fieldsToMergeOn: z.array(z.string().min(1)).min(1).max(3).optional(),
  /** `stop`: write nothing after the first batch with a failed record. */
  onError: z.enum(["continue", "stop"]),
});
export type OperationOptions = z.infer<typeof operationOptionsSchema>;
