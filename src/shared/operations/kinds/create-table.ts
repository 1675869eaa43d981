/** create_table: one table with its fields, `POST /v0/meta/bases/{baseId}/tables` (Airtable "Create table"). */
import { z } from "zod";
import { defineWriteKind, fieldSpecSchema } from "./write-kind.ts";

export const createTableKind = defineWriteKind({
  name: "create_table",
  item: z.object({
    name: z.string().min(1),
    description: z.string().optional(),
    fields: z.array(fieldSpecSchema).min(1),
  }),
  scope: "schema.bases:write",
  singleItem: true,
  changesSchema: true,
  safeToResend: false,
  async send(airtable, { baseId, items }) {
    return { ids: [(await airtable.createTable(baseId, items[0]!)).id] };
  },
});
