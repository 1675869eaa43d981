import { z } from "zod";
import { resolveTable } from "../../schema-cache.ts";
import { defineWriteTool } from "../define-tool.ts";
import { operationResultShape } from "../operation-result.ts";
import { baseIdInput, recordIdInput, tableIdInput } from "../shapes.ts";
import { ToolInputError } from "../tool-input-error.ts";
import { describeItem, FieldChecker, givenByName, withWriteSchemaForNames } from "./check-fields.ts";
import { createAnnotations, QUEUED_ITEM_NOTE, singleItemOptions } from "./write-inputs.ts";
import { formatCount } from "../../format-count.ts";

/** Airtable's limit for uploadAttachment: 5 MB of decoded file. Bigger files need a public URL in the cell instead. */
export const MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024;

/** Standard base64 characters with at most two `=` at the end; the length (a multiple of 4) is checked apart. */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export const uploadAttachment = defineWriteTool({
  name: "upload_attachment",
  title: "Upload an attachment",
  description:
    `Uploads a file (base64, up to 5 MB decoded) into an attachment field of a record; it is added after the ` +
    `files already there. For bigger files, or files already online, update the cell with update_records ` +
    `instead: [{"url": "https://…"}]. results[0].id is the new attachment's id (att…). Not safe to repeat: a second call ` +
    `attaches the file twice. ` +
    QUEUED_ITEM_NOTE,
  kind: "write",
  scopes: ["records:write"],
  inputSchema: {
    baseId: baseIdInput,
    tableId: tableIdInput,
    recordId: recordIdInput,
    fieldId: z
      .string()
      .min(1)
      .describe(
        "The attachment field (type multipleAttachments): its id (fld…) or name (exact, or ignoring case and " +
          "surrounding spaces when only one field matches).",
      ),
    filename: z.string().min(1).describe('The file name shown in Airtable, e.g. "report.pdf".'),
    contentType: z
      .string()
      .regex(/^[\w.+-]+\/[\w.+-]+/, 'a MIME type such as "application/pdf" or "image/png"')
      .describe('The MIME type, e.g. "image/png" or "application/pdf".'),
    file: z.string().describe("The file's bytes in standard base64 (no data: prefix), at most 5 MB decoded."),
  },
  outputSchema: operationResultShape,
  annotations: createAnnotations,
  async plan(input, ctx) {
    const file = checkBase64File(input.file);
    const { table, field } = await withWriteSchemaForNames(
      ctx,
      input.baseId,
      (schema) => {
        const table = resolveTable(schema, input.tableId, input.baseId);
        const field = new FieldChecker(table).field(input.fieldId, "fieldId");
        if (field.type !== "multipleAttachments") {
          const attachmentFields = table.fields.filter((f) => f.type === "multipleAttachments").map(describeItem);
          throw new ToolInputError(
            `fieldId: the field ${describeItem(field)} is a ${field.type} field; files go into an attachment ` +
              `(multipleAttachments) field. ` +
              (attachmentFields.length === 0
                ? `Table ${describeItem(table)} has none: create one with create_field (type multipleAttachments).`
                : `Table ${describeItem(table)} has: ${attachmentFields.join(", ")}.`),
          );
        }
        return { table, field };
      },
      givenByName(input),
    );
    return {
      kind: "upload_attachment",
      baseId: input.baseId,
      tableId: table.id,
      input: [
        { recordId: input.recordId, fieldId: field.id, contentType: input.contentType, filename: input.filename, file },
      ],
      options: singleItemOptions,
    };
  },
});

/** The file as Airtable takes it (line breaks removed); refuses what is not base64 or is over the limit. */
export function checkBase64File(file: string): string {
  const compact = file.replace(/\s+/g, "");
  if (/^data:[^,]*,/.test(compact)) {
    throw new ToolInputError(
      'file starts with a "data:…," prefix: send only the base64 text after the comma (the type goes in contentType).',
    );
  }
  if (compact === "") throw new ToolInputError("file is empty: give the file's content in base64.");
  if (!BASE64.test(compact) || compact.length % 4 !== 0) {
    throw new ToolInputError(
      "file is not valid base64: use the standard alphabet (A–Z, a–z, 0–9, + and /) with = padding to a " +
        "multiple of 4 characters; base64url (- and _) is not accepted.",
    );
  }
  const padding = compact.endsWith("==") ? 2 : compact.endsWith("=") ? 1 : 0;
  const bytes = (compact.length / 4) * 3 - padding;
  if (bytes > MAX_ATTACHMENT_BYTES) {
    throw new ToolInputError(
      `file is ${formatCount(bytes)} bytes once decoded; upload_attachment takes at most 5 MB (${formatCount(MAX_ATTACHMENT_BYTES)} bytes). ` +
        `For a bigger file, put it at a public URL and set the cell with update_records: [{"url": "https://…"}].`,
    );
  }
  return compact;
}
