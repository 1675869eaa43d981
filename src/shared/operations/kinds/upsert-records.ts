/**
 * upsert_records: up to 10 records per PATCH/PUT with `performUpsert.fieldsToMergeOn`: a record matching on those
 * fields is updated, otherwise created (Airtable "Update multiple records", upserts).
 */
import { z } from "zod";
import { defineWriteKind, recordFieldsSchema } from "./write-kind.ts";

export const upsertRecordsKind = defineWriteKind({
  name: "upsert_records",
  item: z.object({ id: z.string().min(1).optional(), fields: recordFieldsSchema }),
  scope: "data.records:write",
  singleItem: false,
  changesSchema: false,
  // The second send matches the records the first one created or updated.
  safeToResend: true,
  requiredOptions: ["fieldsToMergeOn"],
  // An item with an id updates that record only: "Records that include id will ignore fieldsToMergeOn and behave as
  // normal updates. If no record with the given id exists, the request will fail and will not create a new record"
  // (https://airtable.com/developers/web/api/update-multiple-records). So an unknown id is settled as update_records'.
  recordIdOf: (item) => item.id,
  async send(airtable, { baseId, tableId, items, options }) {
    const answer = await airtable.upsertRecords(baseId, tableId, items, {
      typecast: options.typecast,
      replace: options.replace === true,
      fieldsToMergeOn: options.fieldsToMergeOn ?? [],
    });
    return { ids: answer.records.map((r) => r.id), created: answer.createdRecords, updated: answer.updatedRecords };
  },
});
