import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { TestOAuthProvider } from "./test-oauth-provider.ts";

/** An MCP client connected to one server instance's /mcp, authenticating through `provider`. */
export async function connectClient(mcpUrl: string, provider: TestOAuthProvider): Promise<Client> {
  const client = new Client({ name: "e2e-test-client", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider }));
  return client;
}

/**
 * What an MCP client does the first time: connect, get 401, discover and register (or use its metadata
 * document URL), send the user to authorize (the provider's headless browser), then exchange the code and
 * connect again. Returns the connected client and the error the first attempt ended with.
 */
export async function signInAndConnect(
  mcpUrl: string,
  provider: TestOAuthProvider,
): Promise<{ client: Client; firstAttempt: unknown }> {
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
  const first = new Client({ name: "e2e-test-client", version: "1.0.0" });
  let firstAttempt: unknown;
  try {
    await first.connect(transport);
  } catch (error) {
    firstAttempt = error;
  }
  if (!(firstAttempt instanceof UnauthorizedError)) {
    await first.close();
    throw new Error(`expected the first connect to need authorization, got ${String(firstAttempt)}`);
  }
  await transport.finishAuth(provider.lastCode());
  return { client: await connectClient(mcpUrl, provider), firstAttempt };
}

/** When the browser comes back to the client: exchange its code for tokens (the transport's finishAuth). */
export async function finishSignIn(mcpUrl: string, provider: TestOAuthProvider): Promise<void> {
  await new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider }).finishAuth(provider.lastCode());
}

/** `tools/call`, typed as the plain (non-task) result every tool of this server returns. */
export async function callTool(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

/** The text of a tool result's first content block (error messages live there). */
export function resultText(result: CallToolResult): string {
  const first = result.content[0];
  return first?.type === "text" ? first.text : "";
}

/** A bare `tools/list` POST with a bearer token (no MCP client, no refresh): what a server answers that token. */
export function postToolsList(mcpUrl: string, accessToken: string): Promise<Response> {
  return fetch(mcpUrl, {
    method: "POST",
    headers: {
      authorization: `Bearer ${accessToken}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
  });
}

/**
 * A bare 2025-era JSON-RPC POST (`MCP-Protocol-Version: 2025-11-25`, no MCP client, no refresh) of `body` with a
 * bearer token; `signal` aborts it (the client leaving: its connection closes).
 */
export function postMcp2025(
  mcpUrl: string,
  accessToken: string,
  body: unknown,
  signal?: AbortSignal,
): Promise<Response> {
  return fetch(mcpUrl, {
    method: "POST",
    ...(signal !== undefined && { signal }),
    headers: {
      authorization: `Bearer ${accessToken}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": "2025-11-25",
    },
    body: JSON.stringify(body),
  });
}

/** A `tools/call` JSON-RPC request of `name` with `args`, id `id`. */
export const toolsCall = (name: string, args: Record<string, unknown>, id: number | string = 1) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name, arguments: args },
});
