import { z } from "zod";
import { resolveTable } from "../../schema-cache.ts";
import { defineTool, readOnlyAnnotations } from "../define-tool.ts";
import { baseIdInput, cursorInput, recordIdInput, tableIdInput } from "../shapes.ts";
import { withSchema } from "../with-schema.ts";

/** Who a mention in a comment's text (`@[usr…]`, `@[ugp…]`) stands for: Airtable's "user mentioned" model. */
interface Mention {
  type: string;
  id: string;
  name?: string;
  email?: string;
}

const commentOutput = z.object({
  id: z.string(),
  text: z.string(),
  createdTime: z.string(),
  lastUpdatedTime: z.string().optional(),
  parentCommentId: z.string().optional(),
  author: z.object({ id: z.string(), email: z.string().optional(), name: z.string().optional() }),
  // A record of unknown, not of Mention objects: a schema-valued additionalProperties is a keyword some clients refuse
  // (tests/server/mcp/tools-list-portable.test.ts); the values are Mentions (mentionsOf).
  mentioned: z
    .record(z.string(), z.unknown())
    .optional()
    .describe("Who each @[id] in text is, by that id: {type, id, name, email} (users and user groups)."),
});

/**
 * A comment's `mentioned` object map as this tool shows it: Airtable gives a comment's mentions in its text as
 * `@[userId]` (an email given when commenting comes back as the user's id) and maps each id to `{type, id, name,
 * email}` ("user mentioned", https://airtable.com/developers/web/api/model/user-mentioned; a user group has no
 * email). Without it an agent reading `@[usrXXXXXXXXXXXXXX]` could not say who was meant. Entries that are not
 * objects with a string id are left out; undefined when none is left.
 */
function mentionsOf(mentioned: Record<string, unknown> | undefined): Record<string, Mention> | undefined {
  if (mentioned === undefined) return undefined;
  const out: Record<string, Mention> = {};
  for (const [key, value] of Object.entries(mentioned)) {
    if (typeof value !== "object" || value === null) continue;
    const m = value as Record<string, unknown>;
    const id = typeof m.id === "string" ? m.id : key;
    out[key] = {
      type: typeof m.type === "string" ? m.type : "user",
      id,
      ...(typeof m.name === "string" && { name: m.name }),
      ...(typeof m.email === "string" && { email: m.email }),
    };
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

export const listComments = defineTool({
  name: "list_comments",
  title: "List comments on a record",
  description:
    "Lists the comments on a record, newest first. Pass nextCursor back as cursor for older ones. A mention in a " +
    "comment's text reads @[usrXXXXXXXXXXXXXX]; mentioned says who each is (name, email).",
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
    const comments = page.comments.map((c) => {
      const mentioned = mentionsOf(c.mentioned);
      return {
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
        ...(mentioned !== undefined && { mentioned }),
      };
    });
    return page.offset === undefined ? { comments } : { comments, nextCursor: page.offset };
  },
});
