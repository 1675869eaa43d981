import type { CallToolResult } from "@modelcontextprotocol/server";

/** The successful answer: structuredContent that matches outputSchema, and the same JSON as text. */
export function toolSuccessResult(output: Record<string, unknown>): CallToolResult {
  return { structuredContent: output, content: [{ type: "text", text: JSON.stringify(output) }] };
}
