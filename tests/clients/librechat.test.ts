/**
 * LibreChat, with `mcpServers: {airtable: {type: streamable-http, url: <PUBLIC_URL>/mcp}}` in librechat.yaml; each
 * user signs in from LibreChat's MCP server list. Its server-side OAuth client (packages/api/src/mcp/oauth/handler.ts,
 * MCPOAuthHandler) does, in this order:
 * - the protected-resource metadata, then the authorization-server metadata (the MCP SDK's discovery helpers);
 * - DCR with `token_endpoint_auth_method: client_secret_basic` (its first choice when offered),
 *   `grant_types: ["authorization_code", "refresh_token"]`, its callback `<DOMAIN_SERVER>/api/mcp/<name>/oauth/callback`
 *   and `scope` = the metadata's `scopes_supported` joined;
 * - /authorize with that scope and `resource`, the code exchange through the SDK (Basic auth);
 * - every refresh: `grant_type`, `refresh_token` and `scope` = the REGISTRATION's `scope` (danny-avila/LibreChat#7924
 *   added it, #13412 retries without it only when a server refuses the parameter itself), Basic auth.
 * So after a person unticks a box on our consent page, each refresh asks for more than the grant holds. It used to
 * be refused `invalid_scope`, and LibreChat answered that by asking the user to sign in again, every hour.
 * Raw HTTP: the requests are the point.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { approveConsent, openConsentForm } from "../e2e/helpers/headless-browser.ts";
import { printServerOutputOnFailure, startClientLab, type ClientLab } from "./support/client-lab.ts";
import { postMcp, recordNamesOf, WireSession } from "./support/mcp-wire.ts";
import {
  authorizationUrl,
  codeFrom,
  expectTokens,
  newPkce,
  newState,
  registerClient,
  type HttpAnswer,
} from "./support/oauth-wire.ts";

const CALLBACK = "https://chat.example.org/api/mcp/airtable/oauth/callback";
const READ_SCOPES = ["records:read", "schema:read", "comments:read"];

let lab: ClientLab;

beforeAll(async () => {
  lab = await startClientLab("librechat");
});

afterAll(async () => {
  await lab?.stop();
});

printServerOutputOnFailure(() => lab);

/** LibreChat's token requests: a form, Accept JSON, client_secret_basic. */
async function tokenPost(
  tokenEndpoint: string,
  client: { id: string; secret: string },
  form: Record<string, string>,
): Promise<HttpAnswer> {
  const res = await fetch(tokenEndpoint, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-www-form-urlencoded",
      Accept: "application/json",
      Authorization: `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString("base64")}`,
    },
    body: new URLSearchParams(form),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

describe("LibreChat (server-side DCR client, client_secret_basic, scope sent on every refresh)", () => {
  it("stays signed in when the person unticked the write boxes: its refresh repeating all six scopes gets the granted ones", async () => {
    const prm = (await (await fetch(`${lab.publicUrl}/.well-known/oauth-protected-resource/mcp`)).json()) as {
      resource: string;
      scopes_supported: string[];
      authorization_servers: string[];
    };
    const as = (await (
      await fetch(`${prm.authorization_servers[0] as string}/.well-known/oauth-authorization-server`)
    ).json()) as Record<string, unknown>;
    expect(as.token_endpoint_auth_methods_supported).toContain("client_secret_basic");

    const registration = await registerClient(lab.publicUrl, {
      client_name: "LibreChat MCP Client",
      redirect_uris: [CALLBACK],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: as.response_types_supported,
      token_endpoint_auth_method: "client_secret_basic",
      scope: prm.scopes_supported.join(" "),
    });
    expect(registration.status).toBe(201);
    const client = { id: String(registration.body.client_id), secret: String(registration.body.client_secret) };
    const registeredScope = String(registration.body.scope);
    expect(registeredScope.split(" ").sort()).toEqual([...prm.scopes_supported].sort());

    // The person opens the sign-in LibreChat shows, unticks the three write boxes and presses Allow.
    const pkce = newPkce();
    const state = newState();
    const authorize = authorizationUrl(lab.publicUrl, {
      clientId: client.id,
      redirectUri: CALLBACK,
      pkce,
      state,
      scope: prm.scopes_supported.join(" "),
      resource: prm.resource,
    });
    const form = await openConsentForm(authorize.toString());
    form.checked = form.checked.filter(([name, value]) => name !== "scope" || READ_SCOPES.includes(value));
    const redirect = await approveConsent(form, lab.user.user.id);
    expect(`${redirect.origin}${redirect.pathname}`).toBe(CALLBACK);
    const code = codeFrom(redirect, { state, issuer: lab.publicUrl });

    const tokenEndpoint = String(as.token_endpoint);
    const first = expectTokens(
      await tokenPost(tokenEndpoint, client, {
        grant_type: "authorization_code",
        code,
        code_verifier: pkce.verifier,
        redirect_uri: CALLBACK,
        resource: prm.resource,
      }),
      "authorization_code",
    );
    expect((first.scope ?? "").split(" ").sort()).toEqual([...READ_SCOPES].sort());
    expect(first.refresh_token).toBeTruthy();

    // Its refresh: the registration's scope, all six, though three were not granted.
    const refreshed = await tokenPost(tokenEndpoint, client, {
      grant_type: "refresh_token",
      refresh_token: first.refresh_token as string,
      scope: registeredScope,
    });
    expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
    const second = expectTokens(refreshed, "refresh_token");
    // Exactly the grant, never more: the response says so (RFC 6749 §3.3).
    expect((second.scope ?? "").split(" ").sort()).toEqual([...READ_SCOPES].sort());

    // And again with the rotated token, as it does every hour.
    const third = expectTokens(
      await tokenPost(tokenEndpoint, client, {
        grant_type: "refresh_token",
        refresh_token: second.refresh_token as string,
        scope: registeredScope,
      }),
      "refresh_token",
    );

    const wire = new WireSession(lab.mcpUrl, { token: third.access_token });
    await wire.initialize("LibreChat");
    const result = await wire.callTool("list_records", { baseId: lab.user.base.id, tableId: lab.user.tableName });
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    expect(recordNamesOf(result)).toEqual(lab.recordNames());

    // The refreshed token still cannot write: 403 insufficient_scope, as before the refresh.
    const write = await postMcp(
      lab.mcpUrl,
      {
        jsonrpc: "2.0",
        id: 7,
        method: "tools/call",
        params: {
          name: "create_records",
          arguments: { baseId: lab.user.base.id, tableId: lab.user.tableName, records: [{ fields: { Name: "x" } }] },
        },
      },
      { token: third.access_token, headers: { "mcp-protocol-version": "2025-11-25" } },
    );
    expect(write.status).toBe(403);
    const challenge = write.headers.get("www-authenticate") ?? "";
    expect(challenge).toContain('error="insufficient_scope"');

    // A client stepping up by refresh with the 403's scope (the grant plus records:write: neither what LibreChat
    // registered nor all six) asks for a scope the grant lacks: refused, so it signs in again instead of getting
    // the read scopes back and meeting the same 403.
    const stepUpScope = /scope="([^"]*)"/.exec(challenge)?.[1] ?? "";
    expect(stepUpScope.split(" ").sort()).toEqual([...READ_SCOPES, "records:write"].sort());
    const stepUp = await tokenPost(tokenEndpoint, client, {
      grant_type: "refresh_token",
      refresh_token: third.refresh_token as string,
      scope: stepUpScope,
    });
    expect(stepUp.status, JSON.stringify(stepUp.body)).toBe(400);
    expect(stepUp.body.error).toBe("invalid_scope");
    expect(String(stepUp.body.error_description)).toContain("records:write");
  });
});
