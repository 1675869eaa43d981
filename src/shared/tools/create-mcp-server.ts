import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { AnyToolDefinition } from "./define-tool.ts";
import { buildInstructions } from "./instructions.ts";
import { registerTools, type ToolRuntime } from "./register-tools.ts";

export const SERVER_NAME = "airtable-oauth-mcp";
export const SERVER_VERSION = "0.1.0";

let builds = 0;

/**
 * How many MCP servers (each with every tool registered: zod objects, the SDK's Ajv validator) this process has
 * built. The HTTP endpoint builds one per router, not per request (see src/server/mcp/request-multiplexer.ts);
 * tests count constructions with it.
 */
export function mcpServerBuilds(): number {
  return builds;
}

/**
 * An MCP server offering `tools`. Not cheap (a new Ajv, every tool registered and its zod object built): build one
 * per process and reuse it — the HTTP endpoint multiplexes every request onto one, stdio mode has one. `instructions` (see instructions.ts) is best built once by the caller, with the
 * deployment's settings.
 */
export function createMcpServer(
  tools: readonly AnyToolDefinition[],
  runtime: ToolRuntime,
  instructions: string = buildInstructions(tools),
): McpServer {
  const server = new McpServer(
    { name: SERVER_NAME, title: "Airtable", version: SERVER_VERSION },
    { instructions, capabilities: { tools: { listChanged: false } } },
  );
  registerTools(server, tools, runtime);
  builds += 1;
  return server;
}
