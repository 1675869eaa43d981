import { McpServer } from "@modelcontextprotocol/server";
import type { AnyToolDefinition } from "./define-tool.ts";
import { buildInstructions } from "./instructions.ts";
import { registerTools, type ToolRuntime } from "./register-tools.ts";

export const SERVER_NAME = "airtable-oauth-mcp";
export const SERVER_VERSION = "0.1.0";

/**
 * An MCP server (SDK v2 `McpServer`) offering `tools`. Cheap to build: the HTTP endpoint builds one per request
 * (stateless, either protocol era), stdio one per connection. The tools' schemas are compiled once per catalog
 * (compile-tools.ts), so this only binds `runtime`. `instructions` (see instructions.ts) is best built once by
 * the caller, with the deployment's settings. Throws when a write tool is given without `runtime.runWrite`.
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
  return server;
}
