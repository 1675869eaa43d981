/** create_comment: a comment (or reply) on a record, `POST /v0/{baseId}/{table}/{recordId}/comments` (Airtable "Create comment"). */
import { z } from "zod";
import { defineWriteKind } from "./write-kind.ts";

export const createCommentKind = defineWriteKind({
  name: "create_comment",
  item: z.object({
    recordId: z.string().min(1),
    text: z.string().min(1),
    parentCommentId: z.string().optional(),
  }),
  scope: "data.recordComments:write",
  singleItem: true,
  changesSchema: false,
  safeToResend: false,
  async send(airtable, { baseId, tableId, items }) {
    const { recordId, text, parentCommentId } = items[0]!;
    const comment = await airtable.createComment(
      baseId,
      tableId,
      recordId,
      text,
      parentCommentId === undefined ? {} : { parentCommentId },
    );
    return { ids: [comment.id] };
  },
});
