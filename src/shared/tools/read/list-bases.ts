import { z } from "zod";
import { defineTool, readOnlyAnnotations } from "../define-tool.ts";

export const listBases = defineTool({
  name: "list_bases",
  title: "List bases",
  description:
    "Lists every Airtable base the signed-in user can access, with its id (app…), name and permission level. " +
    "Start here: the other tools take a baseId.",
  kind: "read",
  scopes: ["schema:read"],
  inputSchema: {},
  outputSchema: {
    bases: z.array(z.object({ id: z.string(), name: z.string(), permissionLevel: z.string() })),
  },
  annotations: readOnlyAnnotations,
  async handler(_input, ctx) {
    const bases = await ctx.airtable.listAllBases();
    // The write tools refuse, before queueing, a write this answer shows the user may not make (run-write.ts); a
    // new list_bases call is also how an agent tells them that access was granted since.
    await ctx.schemas.rememberBases(ctx.userId, bases);
    return { bases: bases.map((b) => ({ id: b.id, name: b.name, permissionLevel: b.permissionLevel })) };
  },
});
