/** delete_records: records by id, up to 10 per `DELETE /v0/{baseId}/{table}?records[]=…` (Airtable "Delete multiple records"). */
import { z } from "zod";
import { defineWriteKind } from "./write-kind.ts";

export const deleteRecordsKind = defineWriteKind({
  name: "delete_records",
  item: z.object({ id: z.string().min(1) }),
  scope: "data.records:write",
  singleItem: false,
  changesSchema: false,
  safeToResend: true,
  // A re-sent delete that finds its record gone: the first request deleted it.
  appliedIdWhenGone: (item) => item.id,
  recordIdOf: (item) => item.id,
  async send(airtable, { baseId, tableId, items }) {
    const ids = items.map((r) => r.id);
    await airtable.deleteRecords(baseId, tableId, ids);
    return { ids };
  },
});
