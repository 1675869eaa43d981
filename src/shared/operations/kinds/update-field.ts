/**
 * update_field: a field's name or description, `PATCH /v0/meta/bases/{baseId}/tables/{tableId}/fields/{fieldId}`
 * (Airtable "Update field").
 */
import { z } from "zod";
import { defineWriteKind } from "./write-kind.ts";

export const updateFieldKind = defineWriteKind({
  name: "update_field",
  item: z.object({
    fieldId: z.string().min(1),
    name: z.string().min(1).optional(),
    description: z.string().optional(),
  }),
  scope: "schema.bases:write",
  singleItem: true,
  changesSchema: true,
  safeToResend: true,
  async send(airtable, { baseId, tableId, items }) {
    const { fieldId, ...patch } = items[0]!;
    return { ids: [(await airtable.updateField(baseId, tableId, fieldId, patch)).id] };
  },
});
