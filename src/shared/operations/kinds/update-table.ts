/** update_table: a table's name or description, `PATCH /v0/meta/bases/{baseId}/tables/{tableId}` (Airtable "Update table"). */
import { z } from "zod";
import { defineWriteKind } from "./write-kind.ts";

export const updateTableKind = defineWriteKind({
  name: "update_table",
  item: z.object({ name: z.string().min(1).optional(), description: z.string().optional() }),
  scope: "schema.bases:write",
  singleItem: true,
  changesSchema: true,
  safeToResend: true,
  async send(airtable, { baseId, tableId, items }) {
    return { ids: [(await airtable.updateTable(baseId, tableId, items[0]!)).id] };
  },
});
