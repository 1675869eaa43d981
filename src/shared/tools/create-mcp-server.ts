import { McpServer, type CacheHint, type McpRequestContext } from "@modelcontextprotocol/server";
import { registerTaskHandlers } from "../tasks/task-handlers.ts";
import type { AnyToolDefinition } from "./define-tool.ts";
import { buildInstructions } from "./instructions.ts";
import { registerTools, type RuntimeLookup, type ToolRuntime } from "./register-tools.ts";
import { refuseToolsListCursors } from "./tools-list-cursor.ts";

export const SERVER_NAME = "airtable-oauth-mcp";
export const SERVER_VERSION = "0.1.0";

let builds = 0;

/**
 * How many McpServers this process has built (createMcpServer and createReadCallServer): tests and benchmarks read
 * it to see which requests still get a server of their own (issue 15).
 */
export function mcpServerBuildCount(): number {
  return builds;
}

/**
 * The caching hint of `tools/list` and `server/discover` answers (MCP 2026-07-28 server/utilities/caching; 2025-era
 * answers carry none). `public`: both are the same for every caller of a deployment (every tool is listed whatever
 * the token's scopes, which are checked when a tool is called; the instructions and capabilities are the
 * deployment's settings), and "Choosing a Cache Scope" names `public` for lists of tools identical for all users.
 * 5 minutes fresh (the spec's own `tools/list` example): the list changes only when the deployment does, and
 * `listChanged` is false, so this bounds how long a client keeps a list a new deployment changed; a client meeting
 * an unknown tool or a refused argument before then MAY fetch again (same page, "Time-to-Live"). The SDK's default,
 * 0 and `private`, had every client fetch both again on each use and keep them apart per token.
 */
export const LIST_CACHE_HINT: CacheHint = { ttlMs: 300_000, cacheScope: "public" };

/** A new, empty McpServer as this server presents itself (name, version, tools capability), counted. */
function newMcpServer(instructions?: string): McpServer {
  builds += 1;
  return new McpServer(
    { name: SERVER_NAME, title: "Airtable", version: SERVER_VERSION },
    {
      ...(instructions !== undefined && { instructions }),
      capabilities: { tools: { listChanged: false } },
      cacheHints: { "tools/list": LIST_CACHE_HINT, "server/discover": LIST_CACHE_HINT },
    },
  );
}

/**
 * Whether the one read-call server offers `tool` (createReadCallServer): the read tools. The transport in front of
 * it (src/server/mcp/read-call-transport.ts) takes calls of exactly these.
 */
export function servedOnReadCallServer(tool: AnyToolDefinition): boolean {
  return tool.kind === "read";
}

/**
 * An MCP server (SDK v2 `McpServer`) offering `tools`. Cheap to build: the HTTP endpoint builds one per request
 * (stateless, either protocol era), stdio one per connection. The tools' schemas are compiled once per catalog
 * (compile-tools.ts), so this only binds `runtime`. `instructions` (see instructions.ts) is best built once by
 * the caller, with the deployment's settings. `era` is the protocol era the server will serve (the SDK's factory
 * context says it): a 2026-07-28 server with `runtime.tasks` also offers the MCP Tasks extension
 * (../tasks/task-handlers.ts); 2025-era servers never do. `onlyTool`: a server built for one `tools/call` binds
 * only that tool (see registerTools); every other server's tools/list refuses a `cursor` with -32602, as MCP
 * "Pagination" asks (tools-list-cursor.ts: every tool is in one page, so no cursor is ours). Throws when a write tool
 * is given without `runtime.runWrite`.
 */
export function createMcpServer(
  tools: readonly AnyToolDefinition[],
  runtime: ToolRuntime,
  instructions: string = buildInstructions(tools),
  era: McpRequestContext["era"] = "legacy",
  onlyTool?: string,
): McpServer {
  const server = newMcpServer(instructions);
  registerTools(server, tools, runtime, onlyTool, era);
  // A server built for one tools/call (the read path's, per request) is never asked for tools/list.
  if (onlyTool === undefined) refuseToolsListCursors(server);
  if (era === "modern" && runtime.tasks !== undefined) registerTaskHandlers(server, runtime.tasks);
  return server;
}

/**
 * The one McpServer per process that serves plain 2025-era read calls (src/server/mcp/read-call-transport.ts): the
 * catalog's read tools only (a write goes the per-request way, whose cancel and disconnect rules it needs), each
 * call's runtime looked up by `runtimeOf` when it starts. Built once; never asked for tools/list or initialize.
 */
export function createReadCallServer(tools: readonly AnyToolDefinition[], runtimeOf: RuntimeLookup): McpServer {
  const server = newMcpServer();
  registerTools(server, tools, runtimeOf, servedOnReadCallServer, "legacy");
  return server;
}
