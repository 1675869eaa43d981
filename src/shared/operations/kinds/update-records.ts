/** update_records: cells of existing records by id, up to 10 per PATCH (PUT with `replace`) (Airtable "Update multiple records"). */
import { z } from "zod";
import { defineWriteKind, recordFieldsSchema } from "./write-kind.ts";

export const updateRecordsKind = defineWriteKind({
  name: "update_records",
  item: z.object({ id: z.string().min(1), fields: recordFieldsSchema }),
  scope: "data.records:write",
  singleItem: false,
  changesSchema: false,
  safeToResend: true,
  recordIdOf: (item) => item.id,
  async send(airtable, { baseId, tableId, items, options }) {
    const records = await airtable.updateRecords(baseId, tableId, items, {
      typecast: options.typecast,
      replace: options.replace === true,
    });
    return { ids: records.map((r) => r.id) };
  },
});
