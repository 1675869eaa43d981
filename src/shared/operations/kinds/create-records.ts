/** create_records: new records, up to 10 per `POST /v0/{baseId}/{table}` (Airtable "Create records"). */
import { z } from "zod";
import { defineWriteKind, recordFieldsSchema } from "./write-kind.ts";

export const createRecordsKind = defineWriteKind({
  name: "create_records",
  item: z.object({ fields: recordFieldsSchema }),
  scope: "data.records:write",
  singleItem: false,
  changesSchema: false,
  // A create sent twice creates twice; with fieldsToMergeOn the re-send is an upsert that finds the first copy.
  safeToResend: false,
  resendAsUpsert: true,
  // Without fieldsToMergeOn, a lost answer is settled by reading the table back (reconcile.ts).
  reconcileByReadBack: true,
  async send(airtable, { baseId, tableId, items, options, asUpsert }) {
    if (asUpsert) {
      const answer = await airtable.upsertRecords(baseId, tableId, items, {
        typecast: options.typecast,
        fieldsToMergeOn: options.fieldsToMergeOn ?? [],
      });
      return {
        ids: answer.records.map((r) => r.id),
        created: answer.createdRecords,
        updated: answer.updatedRecords,
      };
    }
    const records = await airtable.createRecords(baseId, tableId, items, { typecast: options.typecast });
    return { ids: records.map((r) => r.id) };
  },
});
