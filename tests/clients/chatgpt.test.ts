/**
 * ChatGPT connectors (developer mode: Settings → Apps & Connectors → Create, URL `<PUBLIC_URL>/mcp`,
 * authentication OAuth) and the OpenAI platform's MCP connector behind them.
 *
 * - It registers by DCR with `https://chatgpt.com/connector_platform_oauth_redirect` or a per-connector
 *   `https://chatgpt.com/connector/oauth/<id>` (danielealbano/android-remote-control-mcp#166,
 *   kunickiaj/codemem#1286, BasedHardware/omi#8824), from a few shared egress IPs.
 * - OpenAI's connector posts to /mcp with `Accept: application/json` or `*\/*` (arabold/docs-mcp-server#349: the
 *   SDK's 406 broke it); we answer JSON (issue 9 item 6). Requests without Accept get JSON too.
 * - Issue 9 also lists clients that send `resource` with a trailing slash; this profile's token request does.
 * Raw HTTP: the backend is not the TypeScript SDK, and its headers are the point.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { printServerOutputOnFailure, startClientLab, type ClientLab } from "./support/client-lab.ts";
import { recordNamesOf, WireSession } from "./support/mcp-wire.ts";
import {
  authorizationUrl,
  codeFrom,
  exchangeCode,
  newPkce,
  newState,
  registerClient,
  signInWithBrowser,
  type TokenSet,
} from "./support/oauth-wire.ts";

const LEGACY_CALLBACK = "https://chatgpt.com/connector_platform_oauth_redirect";
/** Each connector a user creates gets its own callback. */
const CONNECTOR_CALLBACK = `https://chatgpt.com/connector/oauth/${randomBytes(9).toString("base64url")}`;
const BACKEND = { "user-agent": "openai-mcp/1.0.0" };

let lab: ClientLab;
let tokens: TokenSet;
let connectorClientId: string;

beforeAll(async () => {
  lab = await startClientLab("chatgpt");
});

afterAll(async () => {
  await lab?.stop();
});

printServerOutputOnFailure(() => lab);

function listRecordsArgs() {
  return { baseId: lab.user.base.id, tableId: lab.user.tableName };
}

describe("ChatGPT (DCR, chatgpt.com callbacks, JSON-only Accept)", () => {
  it("registers with its chatgpt.com callbacks, signs in through the per-connector one and gets tokens", async () => {
    const registration = await registerClient(
      lab.publicUrl,
      {
        client_name: "ChatGPT",
        redirect_uris: [LEGACY_CALLBACK, CONNECTOR_CALLBACK],
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        token_endpoint_auth_method: "none",
      },
      BACKEND,
    );
    expect(registration.status, JSON.stringify(registration.body)).toBe(201);
    const clientId = String(registration.body.client_id);

    const pkce = newPkce();
    const state = newState();
    const visit = await signInWithBrowser(
      authorizationUrl(lab.publicUrl, {
        clientId,
        redirectUri: CONNECTOR_CALLBACK,
        pkce,
        state,
        resource: lab.mcpUrl,
      }),
      lab.user.user.id,
    );
    expect(visit.consentPage).toContain("ChatGPT");
    expect(visit.consentPage).toContain("chatgpt.com");
    expect(`${visit.redirect.origin}${visit.redirect.pathname}`).toBe(CONNECTOR_CALLBACK);
    const code = codeFrom(visit.redirect, { state, issuer: lab.publicUrl });
    tokens = await exchangeCode(
      lab.publicUrl,
      { clientId, code, verifier: pkce.verifier, redirectUri: CONNECTOR_CALLBACK, resource: lab.mcpUrl },
      BACKEND,
    );
    expect(tokens.refresh_token).toBeTruthy();
    connectorClientId = clientId;
  });

  it("Accept: application/json only: initialize, tools/list and a tool call are answered as JSON", async () => {
    expect(tokens, "the sign-in test runs first").toBeDefined();
    const wire = new WireSession(lab.mcpUrl, {
      token: tokens.access_token,
      accept: "application/json",
      headers: BACKEND,
    });
    await wire.initialize("openai-mcp");
    expect(await wire.listToolNames()).toEqual(
      expect.arrayContaining(["list_bases", "list_records", "search_records"]),
    );
    const result = await wire.callTool("list_records", listRecordsArgs());
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    expect(recordNamesOf(result)).toEqual(lab.recordNames());
    for (const answer of wire.answers.filter((a) => a.message !== undefined)) {
      expect(answer.status).toBe(200);
      expect(answer.contentType).toBe("application/json");
    }
  });

  it("Accept: */* and no Accept at all are answered as JSON too", async () => {
    expect(tokens, "the sign-in test runs first").toBeDefined();
    for (const accept of ["*/*", null]) {
      const wire = new WireSession(lab.mcpUrl, { token: tokens.access_token, accept, headers: BACKEND });
      await wire.initialize("openai-mcp");
      const result = await wire.callTool("list_bases", {});
      expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
      const bases = (result.structuredContent?.bases ?? []) as { id: string }[];
      expect(bases.map((b) => b.id)).toContain(lab.user.base.id);
      for (const answer of wire.answers.filter((a) => a.message !== undefined)) {
        expect(answer.status, `Accept ${accept}`).toBe(200);
        expect(answer.contentType, `Accept ${accept}`).toBe("application/json");
      }
    }
  });

  it("a resource sent with a trailing slash names the same resource, at /authorize and /token", async () => {
    expect(connectorClientId, "the sign-in test runs first").toBeDefined();
    const pkce = newPkce();
    const state = newState();
    const resource = `${lab.mcpUrl}/`;
    const visit = await signInWithBrowser(
      authorizationUrl(lab.publicUrl, {
        clientId: connectorClientId,
        redirectUri: CONNECTOR_CALLBACK,
        pkce,
        state,
        resource,
      }),
      lab.user.user.id,
    );
    const code = codeFrom(visit.redirect, { state, issuer: lab.publicUrl });
    const slashed = await exchangeCode(
      lab.publicUrl,
      { clientId: connectorClientId, code, verifier: pkce.verifier, redirectUri: CONNECTOR_CALLBACK, resource },
      BACKEND,
    );
    // The token is for our /mcp (its audience is the canonical resource): it works there.
    const wire = new WireSession(lab.mcpUrl, { token: slashed.access_token, headers: BACKEND });
    await wire.initialize("openai-mcp");
    const result = await wire.callTool("list_records", listRecordsArgs());
    expect(recordNamesOf(result)).toEqual(lab.recordNames());
  });

  it("many registrations from one shared egress IP are served (70 in a row, beyond the old 60 an hour)", async () => {
    const answers = await Promise.all(
      Array.from({ length: 70 }, (_, i) =>
        registerClient(
          lab.publicUrl,
          {
            client_name: "ChatGPT",
            redirect_uris: [`https://chatgpt.com/connector/oauth/egress-${i}`],
            grant_types: ["authorization_code", "refresh_token"],
            response_types: ["code"],
            token_endpoint_auth_method: "none",
          },
          BACKEND,
        ),
      ),
    );
    const statuses = answers.map((a) => a.status);
    expect(
      statuses.filter((s) => s !== 201),
      JSON.stringify(answers.find((a) => a.status !== 201)?.body),
    ).toEqual([]);
  });
});
