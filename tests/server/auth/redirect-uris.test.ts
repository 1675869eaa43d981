import { describe, expect, it } from "vitest";
import {
  isRegisteredRedirectUri,
  redirectTarget,
  redirectUriMatches,
  redirectUriProblem,
} from "../../../src/server/auth/redirect-uris.ts";

/**
 * The redirect URI rules on their own; the flows through the HTTP server that use them are in
 * loopback-and-schemes.test.ts.
 */
const cursorAllowed = { privateUseSchemes: ["cursor"] };
const strict = { privateUseSchemes: [] };
const publicClient = { publicClient: true };

describe("redirectUriMatches", () => {
  it("a loopback http URI matches a request that differs only in its port, registered with or without one", () => {
    const cases: [registered: string, requested: string][] = [
      // Claude Code's metadata document registers port-less URIs and listens on an OS-chosen port.
      ["http://localhost/callback", "http://localhost:54321/callback"],
      ["http://127.0.0.1/callback", "http://127.0.0.1:54321/callback"],
      // VS Code registers both; when 33418 is busy it takes a random port.
      ["http://127.0.0.1/", "http://127.0.0.1:54321/"],
      ["http://127.0.0.1:33418/", "http://127.0.0.1:54321/"],
      ["http://127.0.0.1:33418/", "http://127.0.0.1/"],
      ["http://[::1]/cb", "http://[::1]:8080/cb"],
      ["http://127.0.0.1/cb?x=1", "http://127.0.0.1:9000/cb?x=1"],
      // An empty path is "/" (RFC 3986 §6.2.3).
      ["http://127.0.0.1:33418/", "http://127.0.0.1:5000"],
    ];
    for (const [registered, requested] of cases) {
      expect(redirectUriMatches(registered, requested), `${registered} ~ ${requested}`).toBe(true);
    }
  });

  it("everything else must match exactly: host literal, scheme, path, query, and the port of non-loopback URIs", () => {
    const cases: [registered: string, requested: string][] = [
      ["http://localhost/callback", "http://127.0.0.1:54321/callback"],
      ["http://127.0.0.1/callback", "http://[::1]:54321/callback"],
      ["http://127.0.0.1/callback", "http://127.0.0.1:54321/callback/"],
      ["http://127.0.0.1/callback", "http://127.0.0.1:54321/Callback"],
      ["http://127.0.0.1/callback", "http://127.0.0.1:54321/callback?x=1"],
      ["http://127.0.0.1/callback", "http://127.0.0.1:54321/x/../callback"],
      ["http://127.0.0.1/callback", "https://127.0.0.1:54321/callback"],
      ["http://127.0.0.1/callback", "http://127.0.0.1.evil.example:54321/callback"],
      ["http://127.0.0.1/callback", "http://evil@127.0.0.1:54321/callback"],
      ["http://127.0.0.1/callback", "http://127.0.0.1:0/callback"],
      ["http://127.0.0.1/callback", "http://127.0.0.1:65536/callback"],
      ["http://127.0.0.1/callback", "http://LOCALHOST:5000/callback"],
      ["https://claude.ai/api/mcp/auth_callback", "https://claude.ai:8443/api/mcp/auth_callback"],
      ["https://localhost/cb", "https://localhost:8443/cb"],
      ["cursor://anysphere.cursor-mcp/oauth/callback", "cursor://anysphere.cursor-mcp:1/oauth/callback"],
      ["cursor://anysphere.cursor-mcp/oauth/callback", "cursor://anysphere.cursor-mcp/oauth/callback/"],
    ];
    for (const [registered, requested] of cases) {
      expect(redirectUriMatches(registered, requested), `${registered} !~ ${requested}`).toBe(false);
    }
    expect(isRegisteredRedirectUri(["https://vscode.dev/redirect", "http://127.0.0.1/"], "http://127.0.0.1:1/")).toBe(
      true,
    );
    expect(isRegisteredRedirectUri(["https://vscode.dev/redirect"], "https://vscode.dev/redirect/")).toBe(false);
  });
});

describe("redirectUriProblem", () => {
  it("accepts https, loopback http with or without a port, and listed private-use schemes for public clients", () => {
    for (const uri of [
      "https://claude.ai/api/mcp/auth_callback",
      "https://chatgpt.com/connector_platform_oauth_redirect",
      "http://localhost/callback",
      "http://127.0.0.1:33418/",
      "http://[::1]:8080/cb",
      "cursor://anysphere.cursor-mcp/oauth/callback",
    ]) {
      expect(redirectUriProblem(uri, cursorAllowed, publicClient), uri).toBeUndefined();
    }
    // RFC 8252 §7.1's reverse-DNS form, with a single slash, once listed.
    expect(
      redirectUriProblem(
        "com.example.app:/oauth2redirect/example-provider",
        { privateUseSchemes: ["com.example.app"] },
        publicClient,
      ),
    ).toBeUndefined();
  });

  it("refuses dangerous schemes, http(s) look-alikes and unlisted schemes, naming REDIRECT_URI_SCHEMES", () => {
    for (const uri of [
      "javascript:alert(1)",
      "JavaScript:alert(1)",
      "data:text/html,<script>alert(1)</script>",
      "file:///etc/passwd",
      "vbscript:msgbox(1)",
      "blob:https://evil.example/1",
      "https-evil://claude.ai/cb",
      "httpx://claude.ai/cb",
      "HTTP://localhost/cb",
      "HTTPS://claude.ai/cb",
      "Cursor://anysphere.cursor-mcp/oauth/callback",
      "vscode://vscode.github-authentication/did-authenticate",
      "com.example.app:/oauth2redirect",
    ]) {
      const problem = redirectUriProblem(uri, cursorAllowed, publicClient);
      expect(problem, uri).toBeDefined();
      expect(problem, uri).toContain("REDIRECT_URI_SCHEMES");
    }
    expect(redirectUriProblem("vscode://x/cb", cursorAllowed, publicClient)).toContain(
      "adding vscode to REDIRECT_URI_SCHEMES",
    );
    expect(redirectUriProblem("javascript:alert(1)", cursorAllowed, publicClient)).toContain("cannot allow it");
  });

  it("strict mode (an empty list) refuses every private-use scheme, and says how to allow one", () => {
    const problem = redirectUriProblem("cursor://anysphere.cursor-mcp/oauth/callback", strict, publicClient);
    expect(problem).toContain("strict MCP mode");
    expect(problem).toContain("adding cursor to REDIRECT_URI_SCHEMES");
    expect(redirectUriProblem("https://claude.ai/api/mcp/auth_callback", strict, publicClient)).toBeUndefined();
    expect(redirectUriProblem("http://127.0.0.1/callback", strict, publicClient)).toBeUndefined();
  });

  it("refuses fragments, credentials, plain http off loopback, and private-use schemes for confidential clients", () => {
    const cases: [string, RegExp][] = [
      ["cursor://anysphere.cursor-mcp/oauth/callback#x", /fragment/],
      ["https://app.example.com/cb#", /fragment/],
      ["https://user:pw@app.example.com/cb", /credentials/],
      ["http://app.example.com/cb", /loopback/],
      ["http://127.0.0.2/cb", /loopback/],
      ["http://localhost.evil.example/cb", /loopback/],
      ["not a url", /absolute URL/],
    ];
    for (const [uri, message] of cases)
      expect(redirectUriProblem(uri, cursorAllowed, publicClient), uri).toMatch(message);
    expect(
      redirectUriProblem("cursor://anysphere.cursor-mcp/oauth/callback", cursorAllowed, { publicClient: false }),
    ).toMatch(/only public clients/);
  });
});

describe("redirectTarget (the consent page's words)", () => {
  it("names a web host, a loopback address with its port, or the app scheme", () => {
    expect(redirectTarget("https://claude.ai/api/mcp/auth_callback")).toEqual({ kind: "web", host: "claude.ai" });
    expect(redirectTarget("http://127.0.0.1:54321/callback")).toEqual({
      kind: "loopback",
      hostAndPort: "127.0.0.1:54321",
    });
    expect(redirectTarget("http://localhost/callback")).toEqual({ kind: "loopback", hostAndPort: "localhost" });
    expect(redirectTarget("cursor://anysphere.cursor-mcp/oauth/callback")).toEqual({ kind: "app", scheme: "cursor" });
  });
});
