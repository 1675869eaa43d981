import { z } from "zod";
import { resolveTable } from "../../schema-cache.ts";
import { defineWriteTool } from "../define-tool.ts";
import { operationResultShape } from "../operation-result.ts";
import { baseIdInput, recordIdInput, tableIdInput } from "../shapes.ts";
import { ToolInputError } from "../tool-input-error.ts";
import { withSchema } from "../with-schema.ts";
import { createAnnotations, QUEUED_ITEM_NOTE, singleItemOptions } from "./write-inputs.ts";

export const createComment = defineWriteTool({
  name: "create_comment",
  title: "Comment on a record",
  description:
    "Adds a comment to a record, or a reply to a comment with parentCommentId. results[0].id is the comment's " +
    "id. " +
    QUEUED_ITEM_NOTE,
  kind: "write",
  scopes: ["comments:write"],
  inputSchema: {
    baseId: baseIdInput,
    tableId: tableIdInput,
    recordId: recordIdInput,
    text: z
      .string()
      .min(1)
      .describe(
        "The comment. Mention someone with @[usrXXXXXXXXXXXXXX] or @[their email]; Airtable keeps it as @[usr…] " +
          "(list_comments' mentioned says who).",
      ),
    parentCommentId: z
      .string()
      .regex(/^com[A-Za-z0-9]{14}$/, "a comment id looks like comXXXXXXXXXXXXXX (17 characters)")
      .optional()
      .describe("Reply to this comment (com…, from list_comments)."),
  },
  outputSchema: operationResultShape,
  annotations: createAnnotations,
  async plan(input, ctx) {
    if (input.text.trim() === "") throw new ToolInputError("text is blank: give the comment's text.");
    const table = await withSchema(ctx, input.baseId, (schema) => resolveTable(schema, input.tableId, input.baseId));
    return {
      kind: "create_comment",
      baseId: input.baseId,
      tableId: table.id,
      input: [
        {
          recordId: input.recordId,
          text: input.text,
          ...(input.parentCommentId !== undefined && { parentCommentId: input.parentCommentId }),
        },
      ],
      options: singleItemOptions,
    };
  },
});
