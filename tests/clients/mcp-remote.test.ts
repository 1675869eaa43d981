/**
 * mcp-remote (npm), the stdio bridge for clients that only launch local servers (Claude Desktop's
 * claude_desktop_config.json, Windsurf, older tools): `{"command": "npx", "args": ["-y", "mcp-remote",
 * "<PUBLIC_URL>/mcp"]}`. The real package runs here as a child process speaking stdio to the MCP SDK's client.
 *
 * - On the first request it gets our 401, discovers, registers by DCR with
 *   `http://localhost:<callback port>/oauth/callback` (its callback server on 127.0.0.1), and opens the user's
 *   browser with the `open` package, whose xdg-open runs `$BROWSER <url>` when there is no desktop session: BROWSER
 *   points at a headless browser that approves consent, signs in at the sandbox and loads the callback
 *   (mcp-remote 0.15 dist: openBrowser, NodeOAuthClientProvider.clientMetadata).
 * - Its state (client registration, tokens) lives in MCP_REMOTE_CONFIG_DIR (default ~/.mcp-auth): a temp dir here.
 * - Its quirk: every launch of the host app starts a new mcp-remote process, which must find its sign-in on disk
 *   and not send the user to the browser again.
 */
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../e2e/helpers/server-process.ts";
import { printServerOutputOnFailure, startClientLab, type ClientLab } from "./support/client-lab.ts";
import { recordNamesOf } from "./support/mcp-wire.ts";
import { browserCommand, clientEnv, openerVisits, repoRoot, scratchDir, type Scratch } from "./support/real-clients.ts";

const MCP_REMOTE = path.join(repoRoot, "node_modules/mcp-remote/dist/proxy.js");

let lab: ClientLab;
let scratch: Scratch;
let callbackPort: number;
const stderr: string[] = [];

beforeAll(async () => {
  lab = await startClientLab("mcp-remote");
  scratch = scratchDir("mcp-remote");
  callbackPort = await freePort();
});

afterAll(async () => {
  await lab?.stop();
  scratch?.remove();
});

printServerOutputOnFailure(() => lab);

/** One launch of mcp-remote by the host app, connected over stdio. */
async function launch(): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [MCP_REMOTE, lab.mcpUrl, String(callbackPort), "--auth-timeout", "90"],
    env: clientEnv(scratch, {
      MCP_REMOTE_CONFIG_DIR: scratch.file("mcp-auth"),
      BROWSER: browserCommand(scratch),
      HEADLESS_SANDBOX_USER: lab.user.user.id,
      HEADLESS_OPENER_LOG: scratch.file("opener.log"),
    }),
    stderr: "pipe",
  });
  transport.stderr?.on("data", (d: Buffer) => stderr.push(d.toString()));
  const client = new Client({ name: "claude-desktop", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

function explain(): string {
  return `mcp-remote stderr:\n${stderr.join("").slice(-6_000)}\nbrowser visits: ${JSON.stringify(
    openerVisits(scratch.file("opener.log")),
  )}`;
}

async function expectToolsWork(client: Client): Promise<void> {
  const { tools } = await client.listTools();
  expect(
    tools.map((t) => t.name),
    explain(),
  ).toEqual(expect.arrayContaining(["list_bases", "list_records", "delete_records"]));
  const result = (await client.callTool({
    name: "list_records",
    arguments: { baseId: lab.user.base.id, tableId: lab.user.tableName },
  })) as CallToolResult;
  expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
  expect(recordNamesOf(result)).toEqual(lab.recordNames());
}

describe("mcp-remote as a child process (stdio ↔ Streamable HTTP with OAuth)", () => {
  it("opens the browser to sign in, then lists tools and calls one through it", { timeout: 120_000 }, async () => {
    const client = await launch().catch((error: unknown) => {
      throw new Error(`mcp-remote did not connect: ${String(error)}\n${explain()}`);
    });
    try {
      await expectToolsWork(client);
    } finally {
      await client.close();
    }
    const visits = openerVisits(scratch.file("opener.log"));
    expect(visits, explain()).toHaveLength(1);
    const opened = new URL(visits[0]!.opened);
    expect(`${opened.origin}${opened.pathname}`).toBe(`${lab.publicUrl}/authorize`);
    expect(opened.searchParams.get("redirect_uri")).toBe(`http://localhost:${callbackPort}/oauth/callback`);
    expect(opened.searchParams.get("code_challenge_method")).toBe("S256");
    expect(opened.searchParams.get("resource")).toBe(lab.mcpUrl);
    // The browser ended on mcp-remote's own callback page, which accepted the code.
    expect(visits[0]!.error, explain()).toBeUndefined();
    expect(visits[0]!.callbackStatus).toBeLessThan(400);
  });

  it("launched again, it uses the sign-in it stored and does not open the browser", { timeout: 120_000 }, async () => {
    const before = openerVisits(scratch.file("opener.log")).length;
    expect(before, "the sign-in test runs first").toBe(1);
    const client = await launch();
    try {
      await expectToolsWork(client);
    } finally {
      await client.close();
    }
    expect(openerVisits(scratch.file("opener.log")), explain()).toHaveLength(before);
  });
});
