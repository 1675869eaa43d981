import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { AnyToolDefinition } from "./define-tool.ts";
import { serverInstructions } from "./instructions.ts";
import { registerTools, type ToolRuntime } from "./register-tools.ts";

export const SERVER_NAME = "airtable-oauth-mcp";
export const SERVER_VERSION = "0.1.0";

/**
 * An MCP server offering `tools`. Cheap to build: the HTTP endpoint builds one per request (stateless), stdio
 * mode one per process.
 */
export function createMcpServer(tools: readonly AnyToolDefinition[], runtime: ToolRuntime): McpServer {
  const server = new McpServer(
    { name: SERVER_NAME, title: "Airtable", version: SERVER_VERSION },
    { instructions: serverInstructions, capabilities: { tools: { listChanged: false } } },
  );
  registerTools(server, tools, runtime);
  return server;
}
