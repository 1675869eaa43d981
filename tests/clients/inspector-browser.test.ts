/**
 * MCP Inspector in its browser mode (`npx @modelcontextprotocol/inspector`, the web UI on http://localhost:6274,
 * connection type "Direct", transport Streamable HTTP, URL `<PUBLIC_URL>/mcp`), and any other web client: every
 * request comes from a page on another origin.
 *
 * - It registers by DCR with `${window.location.origin}/oauth/callback`, i.e. `http://localhost:6274/oauth/callback`
 *   (modelcontextprotocol/inspector client/src/lib/auth.ts, InspectorOAuthClientProvider), public client.
 * - The browser preflights /mcp, both protected-resource metadata paths, the authorization-server metadata,
 *   /register, /token and /revoke (the SDK adds MCP-Protocol-Version to metadata requests), and the page's script
 *   must be able to read a 401's status and WWW-Authenticate (issue 9 item 5).
 * - The operator allows the page's origin with ALLOWED_ORIGINS; an origin not allowed still gets 403 on /mcp
 *   (DNS-rebinding protection).
 * Raw HTTP with the Origin and preflight headers a browser sends; tests/clients/real-browser.test.ts does the
 * same from a real Chromium.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { printServerOutputOnFailure, startClientLab, type ClientLab } from "./support/client-lab.ts";
import { postMcp, recordNamesOf, WireSession } from "./support/mcp-wire.ts";
import {
  authorizationUrl,
  codeFrom,
  newPkce,
  newState,
  refreshRequest,
  registerClient,
  signInWithBrowser,
  tokenRequest,
  expectTokens,
  type TokenSet,
} from "./support/oauth-wire.ts";

const INSPECTOR_ORIGIN = "http://localhost:6274";
const INSPECTOR_CALLBACK = `${INSPECTOR_ORIGIN}/oauth/callback`;
const FOREIGN_ORIGIN = "http://evil.example";
const FROM_INSPECTOR = { origin: INSPECTOR_ORIGIN };

let lab: ClientLab;
let clientId: string;
let tokens: TokenSet;

beforeAll(async () => {
  lab = await startClientLab("inspector-browser", { env: { ALLOWED_ORIGINS: INSPECTOR_ORIGIN } });
});

afterAll(async () => {
  await lab?.stop();
});

printServerOutputOnFailure(() => lab);

/** The browser's CORS preflight (Fetch standard, CORS protocol) for `method` with `headers` from `origin`. */
async function preflight(path: string, method: string, headers: string[], origin = INSPECTOR_ORIGIN) {
  return fetch(`${lab.publicUrl}${path}`, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": method,
      ...(headers.length > 0 ? { "access-control-request-headers": headers.join(",") } : {}),
    },
  });
}

function listOf(header: string | null): string[] {
  return (header ?? "")
    .split(",")
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
}

/** What a browser checks before it lets the page read an answer from another origin. */
function expectReadableBy(res: Response, origin: string): void {
  const allowed = res.headers.get("access-control-allow-origin");
  expect([origin, "*"], `Access-Control-Allow-Origin on ${res.url} (${res.status})`).toContain(allowed);
}

describe("MCP Inspector, browser mode (cross-origin from http://localhost:6274)", () => {
  it("every endpoint it calls answers the preflight for its method and headers", async () => {
    const endpoints: [string, string, string[]][] = [
      ["/mcp", "POST", ["authorization", "content-type", "mcp-protocol-version", "mcp-session-id", "last-event-id"]],
      ["/.well-known/oauth-protected-resource/mcp", "GET", ["mcp-protocol-version"]],
      ["/.well-known/oauth-protected-resource", "GET", ["mcp-protocol-version"]],
      ["/.well-known/oauth-authorization-server", "GET", ["mcp-protocol-version"]],
      ["/register", "POST", ["content-type"]],
      ["/token", "POST", ["content-type"]],
      ["/revoke", "POST", ["content-type"]],
    ];
    for (const [path, method, headers] of endpoints) {
      const res = await preflight(path, method, headers);
      expect(res.status, `preflight of ${path}`).toBeGreaterThanOrEqual(200);
      expect(res.status, `preflight of ${path}`).toBeLessThan(300);
      expectReadableBy(res, INSPECTOR_ORIGIN);
      const methods = listOf(res.headers.get("access-control-allow-methods"));
      expect(methods, `Allow-Methods of ${path}`).toContain(method.toLowerCase());
      const allowedHeaders = listOf(res.headers.get("access-control-allow-headers"));
      for (const header of headers) {
        expect(allowedHeaders.includes(header) || allowedHeaders.includes("*"), `${header} on ${path}`).toBe(true);
      }
    }
  });

  it("POST /mcp without a token: the 401 and its WWW-Authenticate are readable by the page's script", async () => {
    const res = await postMcp(
      lab.mcpUrl,
      { jsonrpc: "2.0", id: 1, method: "initialize", params: {} },
      { origin: INSPECTOR_ORIGIN },
    );
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain(
      `resource_metadata="${lab.publicUrl}/.well-known/oauth-protected-resource/mcp"`,
    );
    expect([INSPECTOR_ORIGIN, "*"]).toContain(res.headers.get("access-control-allow-origin"));
    const exposed = listOf(res.headers.get("access-control-expose-headers"));
    for (const header of ["www-authenticate", "mcp-session-id", "mcp-protocol-version"]) {
      expect(exposed, header).toContain(header);
    }
    // The metadata it then reads cross-origin.
    for (const path of ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-authorization-server"]) {
      const metadata = await fetch(`${lab.publicUrl}${path}`, {
        headers: { ...FROM_INSPECTOR, "mcp-protocol-version": "2025-11-25" },
      });
      expect(metadata.status).toBe(200);
      expectReadableBy(metadata, INSPECTOR_ORIGIN);
    }
  });

  it("registers, signs in and exchanges the code from the page's origin, then lists tools and reads records", async () => {
    const registration = await registerClient(
      lab.publicUrl,
      {
        redirect_uris: [INSPECTOR_CALLBACK],
        token_endpoint_auth_method: "none",
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        client_name: "MCP Inspector",
        client_uri: "https://github.com/modelcontextprotocol/inspector",
      },
      FROM_INSPECTOR,
    );
    expect(registration.status, JSON.stringify(registration.body)).toBe(201);
    expect([INSPECTOR_ORIGIN, "*"]).toContain(registration.headers.get("access-control-allow-origin"));
    clientId = String(registration.body.client_id);

    const pkce = newPkce();
    const state = newState();
    // The page navigates the tab to /authorize: a top-level navigation, no CORS involved.
    const visit = await signInWithBrowser(
      authorizationUrl(lab.publicUrl, {
        clientId,
        redirectUri: INSPECTOR_CALLBACK,
        pkce,
        state,
        resource: lab.mcpUrl,
      }),
      lab.user.user.id,
    );
    expect(visit.consentPage).toContain("MCP Inspector");
    expect(`${visit.redirect.origin}${visit.redirect.pathname}`).toBe(INSPECTOR_CALLBACK);
    const code = codeFrom(visit.redirect, { state, issuer: lab.publicUrl });

    // Back on its /oauth/callback page, the script exchanges the code cross-origin.
    const exchanged = await tokenRequest(
      lab.publicUrl,
      {
        grant_type: "authorization_code",
        client_id: clientId,
        code,
        code_verifier: pkce.verifier,
        redirect_uri: INSPECTOR_CALLBACK,
        resource: lab.mcpUrl,
      },
      FROM_INSPECTOR,
    );
    expect([INSPECTOR_ORIGIN, "*"]).toContain(exchanged.headers.get("access-control-allow-origin"));
    tokens = expectTokens(exchanged, "authorization_code");

    const wire = new WireSession(lab.mcpUrl, { token: tokens.access_token, origin: INSPECTOR_ORIGIN });
    await wire.initialize("mcp-inspector");
    expect(await wire.listToolNames()).toEqual(expect.arrayContaining(["list_bases", "list_records"]));
    const result = await wire.callTool("list_records", { baseId: lab.user.base.id, tableId: lab.user.tableName });
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    expect(recordNamesOf(result)).toEqual(lab.recordNames());
    for (const answer of wire.answers) {
      expect([INSPECTOR_ORIGIN, "*"], `status ${answer.status}`).toContain(
        answer.headers.get("access-control-allow-origin"),
      );
    }
  });

  it("refreshes and revokes from the page's origin; the answers are readable", async () => {
    expect(tokens, "the sign-in test runs first").toBeDefined();
    const refreshed = await refreshRequest(
      lab.publicUrl,
      { clientId, refreshToken: tokens.refresh_token as string },
      FROM_INSPECTOR,
    );
    expect([INSPECTOR_ORIGIN, "*"]).toContain(refreshed.headers.get("access-control-allow-origin"));
    const fresh = expectTokens(refreshed, "refresh_token");
    const revoke = await fetch(`${lab.publicUrl}/revoke`, {
      method: "POST",
      headers: { ...FROM_INSPECTOR, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ client_id: clientId, token: fresh.refresh_token as string }),
    });
    expect(revoke.status).toBe(200);
    expectReadableBy(revoke, INSPECTOR_ORIGIN);
  });

  it("a page on an origin the operator did not allow gets 403 from /mcp, even with a valid token", async () => {
    expect(tokens, "the sign-in test runs first").toBeDefined();
    const res = await postMcp(
      lab.mcpUrl,
      {
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "x", version: "1" } },
      },
      { origin: FOREIGN_ORIGIN, token: tokens.access_token },
    );
    expect(res.status).toBe(403);
    expect([FOREIGN_ORIGIN, "*"]).not.toContain(res.headers.get("access-control-allow-origin"));
    const pre = await preflight("/mcp", "POST", ["authorization", "content-type"], FOREIGN_ORIGIN);
    expect([FOREIGN_ORIGIN, "*"]).not.toContain(pre.headers.get("access-control-allow-origin"));
  });
});
