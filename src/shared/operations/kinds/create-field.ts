/** create_field: one field of a table, `POST /v0/meta/bases/{baseId}/tables/{tableId}/fields` (Airtable "Create field"). */
import { defineWriteKind, fieldSpecSchema } from "./write-kind.ts";

export const createFieldKind = defineWriteKind({
  name: "create_field",
  item: fieldSpecSchema,
  scope: "schema.bases:write",
  singleItem: true,
  changesSchema: true,
  safeToResend: false,
  async send(airtable, { baseId, tableId, items }) {
    return { ids: [(await airtable.createField(baseId, tableId, items[0]!)).id] };
  },
});
