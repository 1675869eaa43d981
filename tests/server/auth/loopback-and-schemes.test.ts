import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniquePrefix } from "../../helpers/redis.ts";
import {
  authorizeUrl,
  callMcp,
  decide,
  DEFAULT_VERIFIER,
  finishSignIn,
  openConsent,
  registerClient,
  startHarness,
  tokenRequest,
  type Harness,
} from "../../support/auth-test-harness.ts";

/**
 * Redirect URIs the way real clients use them, through the real authorization server: Claude Code's metadata
 * document with port-less loopback URIs and an OS-chosen port, VS Code's registration and its random port, Cursor's
 * private-use scheme, and the operator's REDIRECT_URI_SCHEMES (default, strict, custom).
 */

// Each client's registration, as that client sends it (see the issue and the clients' sources).
const CURSOR_CALLBACK = "cursor://anysphere.cursor-mcp/oauth/callback";
const cursorRegistration = {
  client_name: "Cursor",
  redirect_uris: [
    CURSOR_CALLBACK,
    "https://www.cursor.com/agents/mcp/oauth/callback",
    "http://localhost:8787/callback",
  ],
  grant_types: ["authorization_code", "refresh_token"],
  response_types: ["code"],
  token_endpoint_auth_method: "none",
};
const vscodeRegistration = {
  client_name: "Visual Studio Code",
  client_uri: "https://code.visualstudio.com",
  // VS Code keeps the grant types our metadata advertises (grant_types_supported) out of the ones it implements.
  grant_types: ["authorization_code", "refresh_token"],
  response_types: ["code"],
  redirect_uris: [
    "https://insiders.vscode.dev/redirect",
    "https://vscode.dev/redirect",
    "http://127.0.0.1/",
    "http://127.0.0.1:33418/",
  ],
  token_endpoint_auth_method: "none",
  application_type: "native",
};
/** Claude Code's document at https://claude.ai/oauth/claude-code-client-metadata, served here on loopback. */
const claudeCodeDocument = (clientId: string) => ({
  client_id: clientId,
  client_name: "Claude Code",
  client_uri: "https://claude.ai",
  grant_types: ["authorization_code", "refresh_token"],
  redirect_uris: ["http://localhost/callback", "http://127.0.0.1/callback"],
  response_types: ["code"],
  token_endpoint_auth_method: "none",
});

/** A native app's one-shot callback listener on an OS-chosen loopback port: records what the browser brought. */
interface NativeApp {
  port: number;
  received: URL[];
  close(): Promise<void>;
}

async function startNativeApp(): Promise<NativeApp> {
  const received: URL[] = [];
  const server: Server = createServer((req, res) => {
    received.push(new URL(req.url ?? "/", `http://${req.headers.host}`));
    res.end("Signed in. You can close this window.");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    received,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A web site hosting client metadata documents (the server under test runs with CIMD_ALLOW_LOOPBACK_HTTP). */
let docs: Server;
let docsUrl: string;
const documents = new Map<string, (url: string) => Record<string, unknown>>();
function serveDocument(path: string, doc: (url: string) => Record<string, unknown>): string {
  documents.set(path, doc);
  return `${docsUrl}${path}`;
}

let h: Harness; // REDIRECT_URI_SCHEMES unset: the default (cursor,warp,vscode,vscode-insiders,windsurf)
let strict: Harness; // REDIRECT_URI_SCHEMES= (strict MCP mode), sharing h's clients (same store, same prefix)
let custom: Harness; // REDIRECT_URI_SCHEMES=com.example.app
beforeAll(async () => {
  docs = createServer((req, res) => {
    const doc = documents.get(req.url ?? "");
    if (doc === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(doc(`${docsUrl}${req.url}`)));
  });
  await new Promise<void>((resolve) => docs.listen(0, "127.0.0.1", resolve));
  docsUrl = `http://127.0.0.1:${(docs.address() as AddressInfo).port}`;
  const keyPrefix = uniquePrefix("auth-redirects");
  h = await startHarness({ env: { CIMD_ALLOW_LOOPBACK_HTTP: "true" }, keyPrefix });
  strict = await startHarness({ env: { REDIRECT_URI_SCHEMES: "" }, sandbox: h.sandbox, keyPrefix });
  custom = await startHarness({ env: { REDIRECT_URI_SCHEMES: "com.example.app" }, sandbox: h.sandbox });
});
afterAll(async () => {
  await custom.close();
  await strict.close();
  await h.close();
  docs.closeAllConnections();
  await new Promise<void>((resolve) => docs.close(() => resolve()));
});

async function exchange(hx: Harness, clientId: string, code: string, redirectUri: string) {
  return tokenRequest(hx, {
    grant_type: "authorization_code",
    client_id: clientId,
    code,
    code_verifier: DEFAULT_VERIFIER,
    redirect_uri: redirectUri,
    resource: `${hx.url}/mcp`,
  });
}

async function refresh(hx: Harness, clientId: string, refreshToken: string) {
  return tokenRequest(hx, { grant_type: "refresh_token", client_id: clientId, refresh_token: refreshToken });
}

async function authorizePage(hx: Harness, clientId: string, redirectUri: string) {
  const res = await fetch(authorizeUrl(hx, { clientId, redirectUri }), { redirect: "manual" });
  return { status: res.status, location: res.headers.get("location"), html: await res.text() };
}

describe("loopback redirect URIs match on any port (RFC 8252 §7.3, OAuth 2.1 §8.4.2)", () => {
  it("Claude Code: port-less URIs in its metadata document, an OS-chosen port at runtime, sign-in, tokens, refresh", async () => {
    const clientId = serveDocument("/oauth/claude-code-client-metadata", claudeCodeDocument);
    const app = await startNativeApp();
    try {
      const redirectUri = `http://127.0.0.1:${app.port}/callback`;
      const page = await openConsent(h, { clientId, redirectUri, state: "cc-state" });
      expect(page.status).toBe(200);
      expect(page.html).toContain("Claude Code");
      expect(page.html).toContain(`an app on this computer, at <strong>127.0.0.1:${app.port}</strong>`);
      expect(page.html).toContain(`<code>${redirectUri}</code>`);

      const back = await finishSignIn(h, page);
      expect(back.origin + back.pathname).toBe(redirectUri);
      // The browser lands on the app's listener, on the port the app chose.
      expect((await fetch(back)).status).toBe(200);
      const received = app.received[0] as URL;
      expect(received.pathname).toBe("/callback");
      expect(received.searchParams.get("state")).toBe("cc-state");
      expect(received.searchParams.get("iss")).toBe(h.url);

      const tokens = await exchange(h, clientId, received.searchParams.get("code") as string, redirectUri);
      expect(tokens.status).toBe(200);
      expect(tokens.body.refresh_token).toEqual(expect.any(String)); // its document lists refresh_token
      expect((await callMcp(h, tokens.body.access_token as string)).status).toBe(200);
      const refreshed = await refresh(h, clientId, tokens.body.refresh_token as string);
      expect(refreshed.status).toBe(200);
      expect((await callMcp(h, refreshed.body.access_token as string)).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it("Claude Code via localhost: /token must repeat the redirect URI /authorize got, port included", async () => {
    const clientId = serveDocument("/oauth/claude-code-client-metadata-2", claudeCodeDocument);
    const app = await startNativeApp();
    try {
      const redirectUri = `http://localhost:${app.port}/callback`;
      const codeFor = async (): Promise<string> => {
        const page = await openConsent(h, { clientId, redirectUri });
        expect(page.status).toBe(200);
        return (await finishSignIn(h, page)).searchParams.get("code") as string;
      };
      // The registered (port-less) form, or another port, is not what /authorize got.
      for (const other of ["http://localhost/callback", `http://localhost:${app.port + 1}/callback`]) {
        const res = await exchange(h, clientId, await codeFor(), other);
        expect(res.status, other).toBe(400);
        expect(res.body.error).toBe("invalid_grant");
        expect(res.body.error_description).toMatch(/redirect_uri differs/);
      }
      expect((await exchange(h, clientId, await codeFor(), redirectUri)).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it("VS Code: its DCR registration, a random port when 33418 is busy, tokens and refresh", async () => {
    const reg = await registerClient(h, vscodeRegistration);
    expect(reg.status).toBe(201);
    expect(reg.body.grant_types).toEqual(["authorization_code", "refresh_token"]);
    const app = await startNativeApp();
    try {
      const redirectUri = `http://127.0.0.1:${app.port}/`;
      const page = await openConsent(h, { clientId: reg.clientId, redirectUri });
      expect(page.status).toBe(200);
      const back = await finishSignIn(h, page);
      expect(back.origin + back.pathname).toBe(redirectUri);
      await fetch(back);
      const code = app.received[0]?.searchParams.get("code") as string;
      const tokens = await exchange(h, reg.clientId, code, redirectUri);
      expect(tokens.status).toBe(200);
      const refreshed = await refresh(h, reg.clientId, tokens.body.refresh_token as string);
      expect(refreshed.status).toBe(200);
      expect((await callMcp(h, refreshed.body.access_token as string)).status).toBe(200);
    } finally {
      await app.close();
    }
    // Its fixed port still works, as does its web redirect.
    expect((await authorizePage(h, reg.clientId, "http://127.0.0.1:33418/")).status).toBe(200);
    expect((await authorizePage(h, reg.clientId, "https://vscode.dev/redirect")).status).toBe(200);
  });

  it("only the port may differ: another path, host literal or scheme is refused with a page, never a redirect", async () => {
    const reg = await registerClient(h, vscodeRegistration);
    for (const redirectUri of [
      "http://127.0.0.1:50123/other",
      "http://localhost:50123/",
      "http://[::1]:50123/",
      "https://127.0.0.1:50123/",
      "https://vscode.dev:8443/redirect",
    ]) {
      const res = await authorizePage(h, reg.clientId, redirectUri);
      expect(res.status, redirectUri).toBe(400);
      expect(res.location).toBeNull();
      expect(res.html).toContain("Redirect URI mismatch");
    }
  });
});

describe("private-use URI schemes (RFC 8252 §7.1) from REDIRECT_URI_SCHEMES", () => {
  it("Cursor: registers cursor://, its user sees cursor:// on the consent page, and it gets a code and tokens", async () => {
    const reg = await registerClient(h, cursorRegistration);
    expect(reg.status).toBe(201);
    expect(reg.body.redirect_uris).toEqual(cursorRegistration.redirect_uris);

    const page = await openConsent(h, { clientId: reg.clientId, redirectUri: CURSOR_CALLBACK, state: "cursor-1" });
    expect(page.status).toBe(200);
    expect(page.html).toContain("open the app that handles <strong>cursor:</strong> links");
    expect(page.html).toContain(`<code>${CURSOR_CALLBACK}</code>`);

    const back = await finishSignIn(h, page);
    expect(back.href.startsWith(`${CURSOR_CALLBACK}?`)).toBe(true);
    expect(back.searchParams.get("state")).toBe("cursor-1");
    expect(back.searchParams.get("iss")).toBe(h.url);

    const tokens = await exchange(h, reg.clientId, back.searchParams.get("code") as string, CURSOR_CALLBACK);
    expect(tokens.status).toBe(200);
    expect((await callMcp(h, tokens.body.access_token as string)).status).toBe(200);
    const refreshed = await refresh(h, reg.clientId, tokens.body.refresh_token as string);
    expect(refreshed.status).toBe(200);
  });

  it("Warp: registers warp://mcp/oauth2callback with the default settings, signs in and gets tokens", async () => {
    const callback = "warp://mcp/oauth2callback";
    const reg = await registerClient(h, { client_name: "Warp", redirect_uris: [callback] });
    expect(reg.status, JSON.stringify(reg.body)).toBe(201);
    const page = await openConsent(h, { clientId: reg.clientId, redirectUri: callback, state: "warp-1" });
    expect(page.status).toBe(200);
    const back = await finishSignIn(h, page);
    expect(back.href.startsWith(`${callback}?`)).toBe(true);
    const tokens = await exchange(h, reg.clientId, back.searchParams.get("code") as string, callback);
    expect(tokens.status).toBe(200);
  });

  it("Cline (a VS Code extension): registers vscode://saoudrizwan.claude-dev/… with the default settings, signs in and gets tokens", async () => {
    // cline/cline McpOAuthManager: `${vscode.env.uriScheme}://saoudrizwan.claude-dev` + `/mcp-auth/callback/<hash>`,
    // a public client by DCR (cline/cline#8103). The same in VS Code Insiders and Windsurf, under their schemes.
    for (const scheme of ["vscode", "vscode-insiders", "windsurf"]) {
      const callback = `${scheme}://saoudrizwan.claude-dev/mcp-auth/callback/3f2a9c1e`;
      const reg = await registerClient(h, {
        client_name: "Cline",
        client_uri: "https://cline.bot",
        software_id: "cline",
        redirect_uris: [callback],
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        token_endpoint_auth_method: "none",
      });
      expect(reg.status, JSON.stringify(reg.body)).toBe(201);
      const page = await openConsent(h, { clientId: reg.clientId, redirectUri: callback, state: `cline-${scheme}` });
      expect(page.status).toBe(200);
      expect(page.html).toContain(`open the app that handles <strong>${scheme}:</strong> links`);
      const back = await finishSignIn(h, page);
      expect(back.href.startsWith(`${callback}?`)).toBe(true);
      expect(back.searchParams.get("state")).toBe(`cline-${scheme}`);
      const tokens = await exchange(h, reg.clientId, back.searchParams.get("code") as string, callback);
      expect(tokens.status).toBe(200);
      expect((await callMcp(h, tokens.body.access_token as string)).status).toBe(200);
    }
  });

  it("Cursor: deny goes back to the app through its scheme", async () => {
    const reg = await registerClient(h, cursorRegistration);
    const page = await openConsent(h, { clientId: reg.clientId, redirectUri: CURSOR_CALLBACK, state: "cursor-deny" });
    const res = await decide(h, page, "deny");
    expect(res.status).toBe(303);
    const back = new URL(res.headers.get("location") as string);
    expect(back.protocol).toBe("cursor:");
    expect(back.searchParams.get("error")).toBe("access_denied");
    expect(back.searchParams.get("state")).toBe("cursor-deny");
  });

  it("dangerous schemes, http(s) look-alikes and unlisted schemes are refused at registration, naming the setting", async () => {
    for (const uri of [
      "javascript:alert(document.cookie)",
      "data:text/html,<script>alert(1)</script>",
      "file:///etc/passwd",
      "vbscript:msgbox(1)",
      "https-evil://claude.ai/api/mcp/auth_callback",
      "HTTP://localhost/callback",
      "HTTPS://claude.ai/api/mcp/auth_callback",
      "vscodium://saoudrizwan.claude-dev/mcp-auth/callback/1",
    ]) {
      const reg = await registerClient(h, { redirect_uris: [uri] });
      expect(reg.status, uri).toBe(400);
      expect(reg.body.error).toBe("invalid_redirect_uri");
      expect(reg.body.error_description, uri).toContain("REDIRECT_URI_SCHEMES");
    }
    const unlisted = await registerClient(h, { redirect_uris: ["vscodium://saoudrizwan.claude-dev/cb"] });
    expect(unlisted.body.error_description).toContain(
      "adding vscodium to REDIRECT_URI_SCHEMES (comma-separated; the default is cursor,warp,vscode,vscode-insiders,windsurf)",
    );
    const fragment = await registerClient(h, { redirect_uris: [`${CURSOR_CALLBACK}#done`] });
    expect(fragment.body).toMatchObject({ error: "invalid_redirect_uri", error_description: /fragment/ });
    // A private-use scheme is for public clients only (RFC 8252 §8.4): no secret to hand to a native app.
    const confidential = await registerClient(h, {
      ...cursorRegistration,
      token_endpoint_auth_method: "client_secret_basic",
    });
    expect(confidential.status).toBe(400);
    expect(confidential.body.error_description).toMatch(/only public clients/);
  });

  it("Cursor 3.20+: its five callbacks at once, grokbot:// among them, are registered without grokbot://; cursor:// signs in", async () => {
    // Cursor 3.20+ registers these together (its desktop app, its web agents, its Grok Bot), and a refusal of any
    // one refused the whole registration; its Grok Bot's scheme is not in the default REDIRECT_URI_SCHEMES.
    const five = [
      "https://www.cursor.com/agents/mcp/oauth/callback",
      "https://www.cursor.com/bot/mcp/oauth/callback",
      CURSOR_CALLBACK,
      "http://localhost:8787/callback",
      "grokbot://mcp/oauth/callback",
    ];
    const reg = await registerClient(h, { ...cursorRegistration, redirect_uris: five });
    expect(reg.status, JSON.stringify(reg.body)).toBe(201);
    expect(reg.body.redirect_uris).toEqual(five.slice(0, 4)); // the answer says what was registered
    const page = await openConsent(h, { clientId: reg.clientId, redirectUri: CURSOR_CALLBACK, state: "c5" });
    expect(page.status).toBe(200);
    const back = await finishSignIn(h, page);
    expect(back.href.startsWith(`${CURSOR_CALLBACK}?`)).toBe(true);
    expect((await exchange(h, reg.clientId, back.searchParams.get("code") as string, CURSOR_CALLBACK)).status).toBe(
      200,
    );
    // No code ever goes to the scheme left out; the page says why, and which setting would allow it.
    const grok = await authorizePage(h, reg.clientId, "grokbot://mcp/oauth/callback");
    expect(grok.status).toBe(400);
    expect(grok.location).toBeNull();
    expect(grok.html).toContain("Redirect URI not allowed");
    expect(grok.html).toContain("adding grokbot to REDIRECT_URI_SCHEMES");
    // The registration keeps what was allowed when it was made: adding grokbot alone would not let it in.
    expect(grok.html).toContain("the app must register again");
    // A dangerous URI among good ones still refuses the whole registration.
    const bad = await registerClient(h, { ...cursorRegistration, redirect_uris: [CURSOR_CALLBACK, "javascript:x"] });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe("invalid_redirect_uri");
  });

  it("a metadata document listing an unlisted scheme beside others signs in through the others", async () => {
    const clientId = serveDocument("/oauth/mcp-client.json", (url) => ({
      client_id: url,
      client_name: "Cursor",
      token_endpoint_auth_method: "none",
      redirect_uris: [
        "https://www.cursor.com/agents/mcp/oauth/callback",
        "grokbot://mcp/oauth/callback",
        "http://localhost:8787/callback",
        "http://127.0.0.1:8787/callback",
      ],
    }));
    const redirectUri = "http://127.0.0.1:8787/callback";
    const page = await openConsent(h, { clientId, redirectUri });
    expect(page.status, page.html).toBe(200);
    const back = await finishSignIn(h, page);
    expect((await exchange(h, clientId, back.searchParams.get("code") as string, redirectUri)).status).toBe(200);
    const grok = await authorizePage(h, clientId, "grokbot://mcp/oauth/callback");
    expect(grok.status).toBe(400);
    expect(grok.html).toContain("REDIRECT_URI_SCHEMES");
    expect(grok.html).not.toContain("register again"); // a metadata document is read again by itself
  });

  it("a metadata document declaring a refused scheme is refused with a page naming the setting", async () => {
    const clientId = serveDocument("/bad-scheme.json", (url) => ({
      client_id: url,
      redirect_uris: ["javascript:alert(1)"],
    }));
    const res = await authorizePage(h, clientId, "javascript:alert(1)");
    expect(res.status).toBe(400);
    expect(res.location).toBeNull();
    expect(res.html).toContain("REDIRECT_URI_SCHEMES");
  });
});

describe("the operator's REDIRECT_URI_SCHEMES", () => {
  it("empty is strict MCP mode: https and loopback only; Cursor is told which setting would let it in", async () => {
    // Its list of three is registered without cursor://: it signs in through the other two.
    const three = await registerClient(strict, cursorRegistration);
    expect(three.status, JSON.stringify(three.body)).toBe(201);
    expect(three.body.redirect_uris).toEqual(cursorRegistration.redirect_uris.filter((u) => u !== CURSOR_CALLBACK));
    const cursor = await registerClient(strict, { ...cursorRegistration, redirect_uris: [CURSOR_CALLBACK] });
    expect(cursor.status).toBe(400);
    expect(cursor.body.error).toBe("invalid_redirect_uri");
    expect(cursor.body.error_description).toContain("strict MCP mode");
    expect(cursor.body.error_description).toContain("adding cursor to REDIRECT_URI_SCHEMES");
    expect((await registerClient(strict, vscodeRegistration)).status).toBe(201);
    expect((await registerClient(strict, { redirect_uris: ["https://claude.ai/api/mcp/auth_callback"] })).status).toBe(
      201,
    );
  });

  it("narrowing it stops clients registered before: their next /authorize is refused with a page", async () => {
    // Registered while cursor was allowed (h); the same client store is served by `strict`, where it is not.
    const reg = await registerClient(h, cursorRegistration);
    const res = await authorizePage(strict, reg.clientId, CURSOR_CALLBACK);
    expect(res.status).toBe(400);
    expect(res.location).toBeNull();
    expect(res.html).toContain("Redirect URI not allowed");
    expect(res.html).toContain("REDIRECT_URI_SCHEMES");
    // Its https and loopback redirect URIs keep working there (the loopback one on any port).
    expect((await authorizePage(strict, reg.clientId, "http://localhost:40123/callback")).status).toBe(200);
    expect((await authorizePage(strict, reg.clientId, "https://www.cursor.com/agents/mcp/oauth/callback")).status).toBe(
      200,
    );
  });

  it("a reverse-DNS scheme (RFC 8252 §7.1's recommended form) works once listed; unlisted cursor is refused", async () => {
    const redirectUri = "com.example.app:/oauth2redirect/example-provider";
    const reg = await registerClient(custom, { redirect_uris: [redirectUri] });
    expect(reg.status).toBe(201);
    const page = await openConsent(custom, { clientId: reg.clientId, redirectUri });
    expect(page.status).toBe(200);
    expect(page.html).toContain("<strong>com.example.app:</strong>");
    const back = await finishSignIn(custom, page);
    expect(back.href.startsWith(`${redirectUri}?`)).toBe(true);
    const tokens = await exchange(custom, reg.clientId, back.searchParams.get("code") as string, redirectUri);
    expect(tokens.status).toBe(200);

    const cursor = await registerClient(custom, { ...cursorRegistration, redirect_uris: [CURSOR_CALLBACK] });
    expect(cursor.status).toBe(400);
    expect(cursor.body.error_description).toContain("REDIRECT_URI_SCHEMES allows com.example.app");
  });
});
