/**
 * Claude.ai and Claude Desktop custom connectors (Settings → Connectors → Add custom connector, URL
 * `<PUBLIC_URL>/mcp`). Claude Desktop uses the same hosted flow: it does not connect to remote servers listed in
 * claude_desktop_config.json (support.claude.com, "building custom connectors via remote MCP servers").
 *
 * - Claude's backend (python-httpx/0.28.1) registers by DCR with `https://claude.ai/api/mcp/auth_callback` and its
 *   twin `https://claude.com/api/mcp/auth_callback` (anthropics/claude-ai-mcp#124, #313; RevenueCat/ai-toolkit#58)
 *   as a confidential client, `token_endpoint_auth_method: client_secret_post` (anthropics/claude-ai-mcp#1043,
 *   #667), and may register again on every connect.
 * - It refreshes from several egress nodes, so one refresh token can arrive twice within seconds, at two of our
 *   processes at once (issue 9). Both answers must be valid and the user must stay signed in (issue 9 item 3,
 *   REFRESH_REUSE_GRACE_SECONDS); this file runs two server processes behind one PUBLIC_URL for that.
 * - It asks for the authorization-server metadata's `scopes_supported`, the whole list in its order, not the
 *   resource metadata's (anthropics/claude-ai-mcp#228, measured 2026-08).
 * Raw HTTP: the backend is not the TypeScript SDK, and what it sends is what matters here.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { printServerOutputOnFailure, startClientLab, type ClientLab } from "./support/client-lab.ts";
import { recordNamesOf, WireSession } from "./support/mcp-wire.ts";
import {
  authorizationUrl,
  codeFrom,
  exchangeCode,
  expectTokens,
  newPkce,
  newState,
  refreshRequest,
  registerClient,
  signInWithBrowser,
  type ClientCredentials,
  type TokenSet,
} from "./support/oauth-wire.ts";

const CLAUDE_AI_CALLBACK = "https://claude.ai/api/mcp/auth_callback";
const CLAUDE_COM_CALLBACK = "https://claude.com/api/mcp/auth_callback";
/** Claude's backend is a Python service; its requests carry httpx's User-Agent. */
const BACKEND = { "user-agent": "python-httpx/0.28.1" };

let lab: ClientLab;
/** The connector's stored state after the first sign-in. */
let connector: Connection;

beforeAll(async () => {
  lab = await startClientLab("claude-ai", { instances: 2 });
});

afterAll(async () => {
  await lab?.stop();
});

printServerOutputOnFailure(() => lab);

/** Base URL of server process i (0 is PUBLIC_URL's; 1 is another process of the same deployment). */
function processBase(i: number): string {
  return lab.instanceMcpUrl(i).replace(/\/mcp$/, "");
}

interface Connection {
  client: ClientCredentials;
  tokens: TokenSet;
}

/** Registers as Claude does, signs the user in through `redirectUri`, exchanges the code at process `at`. */
async function connect(redirectUri: string, at: number): Promise<Connection> {
  const registration = await registerClient(
    lab.publicUrl,
    {
      client_name: "Claude",
      redirect_uris: [CLAUDE_AI_CALLBACK, CLAUDE_COM_CALLBACK],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_post",
    },
    BACKEND,
  );
  expect(registration.status, JSON.stringify(registration.body)).toBe(201);
  expect(registration.body.client_secret).toEqual(expect.any(String));
  const client = {
    clientId: String(registration.body.client_id),
    clientSecret: String(registration.body.client_secret),
  };
  const { clientId } = client;
  const pkce = newPkce();
  const state = newState();
  const visit = await signInWithBrowser(
    authorizationUrl(lab.publicUrl, { clientId, redirectUri, pkce, state, resource: lab.mcpUrl }),
    lab.user.user.id,
  );
  // The browser lands on Claude's hosted callback (not fetched here): our code, Claude's state, our issuer.
  expect(`${visit.redirect.origin}${visit.redirect.pathname}`).toBe(redirectUri);
  expect(visit.consentPage).toContain(new URL(redirectUri).host);
  const code = codeFrom(visit.redirect, { state, issuer: lab.publicUrl });
  const tokens = await exchangeCode(
    processBase(at),
    { ...client, code, verifier: pkce.verifier, redirectUri, resource: lab.mcpUrl },
    BACKEND,
  );
  return { client, tokens };
}

/** A tool call with `accessToken` at process i; expects the user's records. */
async function readRecordsAt(i: number, accessToken: string): Promise<void> {
  const wire = new WireSession(lab.instanceMcpUrl(i), { token: accessToken, headers: BACKEND });
  await wire.initialize("claude-ai");
  const result = await wire.callTool("list_records", { baseId: lab.user.base.id, tableId: lab.user.tableName });
  expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
  expect(recordNamesOf(result)).toEqual(lab.recordNames());
}

describe("Claude.ai / Claude Desktop (DCR, hosted https callbacks, refresh from several egress nodes)", () => {
  it("registers with the claude.ai and claude.com callbacks, signs in, lists tools and reads records", async () => {
    connector = await connect(CLAUDE_AI_CALLBACK, 0);
    expect(connector.tokens.refresh_token).toBeTruthy();

    const wire = new WireSession(lab.instanceMcpUrl(1), { token: connector.tokens.access_token, headers: BACKEND });
    await wire.initialize("claude-ai");
    expect(await wire.listToolNames()).toEqual(
      expect.arrayContaining(["list_bases", "list_records", "update_records"]),
    );
    await readRecordsAt(1, connector.tokens.access_token);
  });

  it("connecting again registers a new client; the claude.com callback works as well", async () => {
    const again = await connect(CLAUDE_COM_CALLBACK, 1);
    expect(again.client.clientId).not.toBe(connector.client.clientId);
    await readRecordsAt(0, again.tokens.access_token);
    // The earlier connection is untouched by the new registration.
    await readRecordsAt(1, connector.tokens.access_token);
  });

  it("one refresh token at two server processes at once: both answers are valid, the user stays signed in", async () => {
    const refreshToken = connector.tokens.refresh_token as string;
    const [atA, atB] = await Promise.all(
      [0, 1].map((i) => refreshRequest(processBase(i), { ...connector.client, refreshToken }, BACKEND)),
    );
    const first = expectTokens(atA!, "refresh_token (process A)");
    const second = expectTokens(atB!, "refresh_token (process B)");
    for (const answer of [first, second]) {
      expect(answer.refresh_token).toBeTruthy();
      expect(answer.scope).toBe(connector.tokens.scope);
    }
    // Both access tokens work on both processes.
    for (const token of [first.access_token, second.access_token]) {
      await readRecordsAt(0, token);
      await readRecordsAt(1, token);
    }
    // The connector keeps whichever answer it stored last and refreshes with it later: still signed in.
    const later = expectTokens(
      await refreshRequest(
        processBase(0),
        { ...connector.client, refreshToken: second.refresh_token as string },
        BACKEND,
      ),
      "refresh_token (later)",
    );
    await readRecordsAt(1, later.access_token);
    // The first caller's access token was not revoked by any of this.
    await readRecordsAt(0, first.access_token);
  });

  it("the same refresh token arriving again a second later at the other process is answered too", async () => {
    // A connection of its own, so this test does not depend on the one above.
    const own = await connect(CLAUDE_AI_CALLBACK, 0);
    const refreshToken = own.tokens.refresh_token as string;
    const first = expectTokens(
      await refreshRequest(processBase(0), { ...own.client, refreshToken }, BACKEND),
      "refresh_token (first)",
    );
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const replay = expectTokens(
      await refreshRequest(processBase(1), { ...own.client, refreshToken }, BACKEND),
      "refresh_token (replay within the grace window)",
    );
    await readRecordsAt(1, first.access_token);
    await readRecordsAt(0, replay.access_token);
    const later = expectTokens(
      await refreshRequest(processBase(1), { ...own.client, refreshToken: replay.refresh_token as string }, BACKEND),
      "refresh_token (after the replay)",
    );
    await readRecordsAt(0, later.access_token);
  });

  it("the scopes it asks for, the authorization-server metadata's, are the resource metadata's six", async () => {
    const prm = (await (await fetch(`${lab.publicUrl}/.well-known/oauth-protected-resource/mcp`)).json()) as {
      scopes_supported: string[];
    };
    const as = (await (await fetch(`${lab.publicUrl}/.well-known/oauth-authorization-server`)).json()) as {
      scopes_supported: string[];
    };
    expect(as.scopes_supported).toEqual(prm.scopes_supported);
    // Its authorization request with that list: the consent page offers every one of them, ticked.
    const registration = await registerClient(
      lab.publicUrl,
      {
        client_name: "Claude",
        redirect_uris: [CLAUDE_AI_CALLBACK],
        token_endpoint_auth_method: "client_secret_post",
      },
      BACKEND,
    );
    const page = await fetch(
      authorizationUrl(lab.publicUrl, {
        clientId: String(registration.body.client_id),
        redirectUri: CLAUDE_AI_CALLBACK,
        pkce: newPkce(),
        state: newState(),
        scope: as.scopes_supported.join(" "),
        resource: lab.mcpUrl,
      }),
    );
    expect(page.status).toBe(200);
    const html = await page.text();
    for (const scope of as.scopes_supported) expect(html).toMatch(new RegExp(`value="${scope}"[^>]*checked`));
  });
});
