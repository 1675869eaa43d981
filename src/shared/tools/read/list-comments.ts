import { z } from "zod";
import { resolveTable } from "../../schema-cache.ts";
import { defineTool, readOnlyAnnotations } from "../define-tool.ts";
import { baseIdInput, cursorInput, recordIdInput, tableIdInput } from "../shapes.ts";
import { withSchema } from "../with-schema.ts";

const commentOutput = z.object({
  id: z.string(),
  text: z.string(),
  createdTime: z.string(),
  lastUpdatedTime: z.string().optional(),
  parentCommentId: z.string().optional(),
  author: z.object({ id: z.string(), email: z.string().optional(), name: z.string().optional() }),
});

export const listComments = defineTool({
  name: "list_comments",
  title: "List comments on a record",
  description: "Lists the comments on a record, newest first. Pass nextCursor back as cursor for older ones.",
  kind: "read",
  scopes: ["comments:read"],
  inputSchema: {
    baseId: baseIdInput,
    tableId: tableIdInput,
    recordId: recordIdInput,
    pageSize: z.number().int().min(1).max(100).default(100).describe("Comments per answer (1–100)."),
    cursor: cursorInput,
  },
  outputSchema: { comments: z.array(commentOutput), nextCursor: z.string().optional() },
  annotations: readOnlyAnnotations,
  async handler(input, ctx) {
    const table = await withSchema(ctx, input.baseId, (schema) => resolveTable(schema, input.tableId, input.baseId));
    const page = await ctx.airtable.listComments(input.baseId, table.id, input.recordId, {
      pageSize: input.pageSize,
      ...(input.cursor !== undefined && { offset: input.cursor }),
    });
    const comments = page.comments.map((c) => ({
      id: c.id,
      text: c.text,
      createdTime: c.createdTime,
      ...(typeof c.lastUpdatedTime === "string" && { lastUpdatedTime: c.lastUpdatedTime }),
      ...(c.parentCommentId !== undefined && { parentCommentId: c.parentCommentId }),
      author: {
        id: c.author.id,
        ...(c.author.email !== undefined && { email: c.author.email }),
        ...(c.author.name !== undefined && { name: c.author.name }),
      },
    }));
    return page.offset === undefined ? { comments } : { comments, nextCursor: page.offset };
  },
});
