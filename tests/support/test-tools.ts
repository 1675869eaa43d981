/**
 * Tools that exist only for tests, registered beside the real catalog through the MCP harness's `extraTools`.
 */
import { z } from "zod";
import { defineTool, readOnlyAnnotations } from "../../src/shared/tools/define-tool.ts";

/** Sends two progress notifications (1/2 "half way", 2/2 "done"); answers whether progress was available. */
export const progressTool = defineTool({
  name: "test_progress",
  title: "Progress test",
  description: "Sends two progress notifications.",
  kind: "read",
  scopes: ["records:read"],
  inputSchema: {},
  outputSchema: { progressAvailable: z.boolean() },
  annotations: readOnlyAnnotations,
  async handler(_input, ctx) {
    await ctx.sendProgress?.(1, 2, "half way");
    await ctx.sendProgress?.(2, 2, "done");
    return { progressAvailable: ctx.sendProgress !== undefined };
  },
});
