/**
 * upload_attachment: one file (≤ 5 MB, base64) appended to a record's attachment cell,
 * `POST {contentUrl}/v0/{baseId}/{recordId}/{fieldId}/uploadAttachment` (Airtable "Upload attachment").
 */
import { z } from "zod";
import { defineWriteKind } from "./write-kind.ts";

export const uploadAttachmentKind = defineWriteKind({
  name: "upload_attachment",
  item: z.object({
    recordId: z.string().min(1),
    fieldId: z.string().min(1),
    contentType: z.string().min(1),
    filename: z.string().min(1),
    /** base64 */
    file: z.string().min(1),
  }),
  scope: "data.records:write",
  singleItem: true,
  changesSchema: false,
  // A second send attaches the file twice.
  safeToResend: false,
  async send(airtable, { baseId, items }) {
    const { recordId, fieldId, ...file } = items[0]!;
    const answer = await airtable.uploadAttachment(baseId, recordId, fieldId, file);
    // Airtable appends the new file last; its id is what the agent may want to refer to.
    const attachment = answer.attachments?.at(-1);
    return { ids: [attachment?.id ?? answer.id] };
  },
});
