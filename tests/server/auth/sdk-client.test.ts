import { auth, type OAuthClientProvider } from "@modelcontextprotocol/sdk/client/auth.js";
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from "@modelcontextprotocol/sdk/shared/auth.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  callMcp,
  finishSignIn,
  readConsentPage,
  REDIRECT_URI,
  startHarness,
  type Harness,
} from "../../support/auth-test-harness.ts";

/**
 * The MCP SDK client's own OAuth code (discovery from the 401, DCR, authorize URL, token exchange, refresh)
 * against this router. The full MCP-over-HTTP end-to-end test lives with the integration tests; this one
 * pins the contract between the SDK's auth() and our endpoints.
 */
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

class MemoryProvider implements OAuthClientProvider {
  client: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier = "";
  authorizationUrl: URL | undefined;
  get redirectUrl(): string {
    return REDIRECT_URI;
  }
  get clientMetadata(): OAuthClientMetadata {
    // As SDK-based clients register (Inspector, mcp-remote): refresh tokens need the refresh_token grant.
    return {
      client_name: "SDK Client",
      redirect_uris: [REDIRECT_URI],
      grant_types: ["authorization_code", "refresh_token"],
      token_endpoint_auth_method: "none",
    };
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.client = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(v: string) {
    this.verifier = v;
  }
  codeVerifier() {
    return this.verifier;
  }
}

describe("the MCP SDK client's auth()", () => {
  it("discovers, registers, authorizes, exchanges the code and refreshes", async () => {
    const unauthorized = await callMcp(h, undefined);
    expect(unauthorized.status).toBe(401);
    const provider = new MemoryProvider();
    const serverUrl = `${h.url}/mcp`;
    expect(await auth(provider, { serverUrl })).toBe("REDIRECT");
    const url = provider.authorizationUrl as URL;
    expect(url.origin + url.pathname).toBe(`${h.url}/authorize`);
    expect(url.searchParams.get("resource")).toBe(`${h.url}/mcp`);
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");

    // The user's browser: consent page → approve → Airtable → back to the client's redirect URI.
    const page = await readConsentPage(await fetch(url, { redirect: "manual" }));
    expect(page.status).toBe(200);
    const back = await finishSignIn(h, page);
    expect(back.searchParams.get("iss")).toBe(h.url);

    expect(await auth(provider, { serverUrl, authorizationCode: back.searchParams.get("code") as string })).toBe(
      "AUTHORIZED",
    );
    const first = provider.saved as OAuthTokens;
    expect((await callMcp(h, first.access_token)).status).toBe(200);

    // With tokens stored, auth() refreshes (rotation) instead of redirecting.
    expect(await auth(provider, { serverUrl })).toBe("AUTHORIZED");
    const second = provider.saved as OAuthTokens;
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect((await callMcp(h, second.access_token)).status).toBe(200);
  });
});
