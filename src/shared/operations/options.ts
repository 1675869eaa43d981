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
  /**
   * Record writes: a value names a select option its field does not have, which `typecast` adds (Airtable's field
   * model, Single select: "a new choice will be created"). The base's schema changes with the write, so the
   * processor forgets its cached copy after each batch written, as after a schema write: describe_table, which the
   * agent is told lists a field's options, then shows the new ones. Absent on operations of earlier versions.
   */
  addsSelectOptions: z.literal(true).optional(),
});
export type OperationOptions = z.infer<typeof operationOptionsSchema>;
