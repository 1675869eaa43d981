import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { cacheTtlSec, ClientMetadataDocuments } from "../../../src/server/auth/cimd.ts";
import { isPublicAddress } from "../../../src/server/auth/ip-policy.ts";
import { KNOWN_CLIENT_DOCUMENTS } from "../../../src/server/auth/known-client-documents.ts";
import { sha256Hex } from "../../../src/server/auth/pkce.ts";
import {
  authorizeUrl,
  DEFAULT_VERIFIER,
  exchangeCode,
  finishSignIn,
  openConsent,
  REDIRECT_URI,
  startHarness,
  tokenRequest,
  type Harness,
} from "../../support/auth-test-harness.ts";

/** A tiny web server hosting client metadata documents, counting fetches per path. */
let docs: Server;
let docsUrl: string;
const hits = new Map<string, number>();
const routes = new Map<string, (url: string) => { status?: number; headers?: Record<string, string>; body: string }>();

let dev: Harness; // CIMD_ALLOW_LOOPBACK_HTTP=true (development/tests switch)
let prod: Harness; // the default: switch off

beforeAll(async () => {
  docs = createServer((req, res) => {
    const path = req.url ?? "/";
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const route = routes.get(path);
    if (route === undefined) {
      res.writeHead(404).end();
      return;
    }
    const answer = route(`${docsUrl}${path}`);
    if (answer.status === 599) {
      req.socket.destroy(); // a connection reset, as a failing host or proxy answers
      return;
    }
    res.writeHead(answer.status ?? 200, { "content-type": "application/json", ...answer.headers });
    res.end(answer.body);
  });
  await new Promise<void>((resolve) => docs.listen(0, "127.0.0.1", resolve));
  docsUrl = `http://127.0.0.1:${(docs.address() as AddressInfo).port}`;
  dev = await startHarness({ env: { CIMD_ALLOW_LOOPBACK_HTTP: "true" } });
  prod = await startHarness({ sandbox: dev.sandbox });
});
afterAll(async () => {
  await prod.close();
  await dev.close();
  docs.closeAllConnections();
  await new Promise<void>((resolve) => docs.close(() => resolve()));
});

function serve(
  path: string,
  doc: (url: string) => Record<string, unknown>,
  headers: Record<string, string> = {},
): string {
  routes.set(path, (url) => ({ body: JSON.stringify(doc(url)), headers }));
  return `${docsUrl}${path}`;
}

async function authorizePage(h: Harness, clientId: string) {
  const res = await fetch(authorizeUrl(h, { clientId }), { redirect: "manual" });
  return { status: res.status, location: res.headers.get("location"), html: await res.text() };
}

describe("Client ID Metadata Documents", () => {
  it("a valid document: consent names the client and its URL, then the code flow completes as a public client", async () => {
    const clientId = serve(
      "/good.json",
      (url) => ({
        client_id: url,
        client_name: "Doc Client",
        redirect_uris: [REDIRECT_URI],
        grant_types: ["authorization_code", "refresh_token"],
      }),
      { "cache-control": "max-age=600" },
    );
    const page = await openConsent(dev, { clientId });
    expect(page.status).toBe(200);
    expect(page.html).toContain("Doc Client");
    expect(page.html).toContain(clientId);
    const back = await finishSignIn(dev, page);
    const tokens = await exchangeCode(dev, clientId, back.searchParams.get("code") as string);
    expect(tokens.status).toBe(200);
    const refreshed = await tokenRequest(dev, {
      grant_type: "refresh_token",
      client_id: clientId,
      refresh_token: tokens.body.refresh_token as string,
    });
    expect(refreshed.status).toBe(200);
    // Fetched once, then served from the Redis cache (Cache-Control honoured).
    expect(hits.get("/good.json")).toBe(1);
    expect(await dev.redis.ttl(`${dev.keyPrefix}:oauth:cimd:${sha256Hex(clientId)}`)).toBeGreaterThan(500);
  });

  it("with the switch on, a loopback host name is resolved, checked and pinned", async () => {
    const port = new URL(docsUrl).port;
    routes.set("/named.json", () => ({
      body: JSON.stringify({ client_id: `http://localhost:${port}/named.json`, redirect_uris: [REDIRECT_URI] }),
    }));
    const res = await authorizePage(dev, `http://localhost:${port}/named.json`);
    expect(res.status).toBe(200);
    expect(hits.get("/named.json")).toBe(1);
  });

  it("a document whose client_id differs from its URL is refused with a page", async () => {
    const clientId = serve("/mismatch.json", () => ({
      client_id: `${docsUrl}/somewhere-else.json`,
      redirect_uris: [REDIRECT_URI],
    }));
    const res = await authorizePage(dev, clientId);
    expect(res.status).toBe(400);
    expect(res.location).toBeNull();
    expect(res.html).toContain("differs from its URL");
  });

  it("a redirect_uri outside the document is refused with a page", async () => {
    const clientId = serve("/narrow.json", (url) => ({
      client_id: url,
      redirect_uris: ["https://app.example.com/cb"],
    }));
    const res = await authorizePage(dev, clientId);
    expect(res.status).toBe(400);
    expect(res.location).toBeNull();
    expect(res.html).toContain("Redirect URI mismatch");
  });

  it("documents that redirect, are too large, are not JSON or carry a secret are refused", async () => {
    routes.set("/moved.json", () => ({ status: 302, headers: { location: `${docsUrl}/good.json` }, body: "" }));
    routes.set("/huge.json", (url) => ({
      body: JSON.stringify({ client_id: url, redirect_uris: [REDIRECT_URI], padding: "x".repeat(20_000) }),
    }));
    routes.set("/html.json", () => ({ headers: { "content-type": "text/html" }, body: "<html></html>" }));
    serve("/secret.json", (url) => ({ client_id: url, redirect_uris: [REDIRECT_URI], client_secret: "s" }));
    const expectations: [string, RegExp][] = [
      ["/moved.json", /HTTP 302/],
      ["/huge.json", /larger than/],
      ["/html.json", /content type/],
      ["/secret.json", /secret/],
    ];
    for (const [path, message] of expectations) {
      const res = await authorizePage(dev, `${docsUrl}${path}`);
      expect(res.status, path).toBe(400);
      expect(res.location).toBeNull();
      expect(res.html).toMatch(message);
    }
    expect(hits.get("/good.json")).toBe(1); // the redirect was not followed
  });

  it("ChatGPT's document (names private_key_jwt, offers none): served as a public client with PKCE, its assertion naming it at /token", async () => {
    // The shape ChatGPT publishes (cloudflare/workers-oauth-provider#293, stacklok/toolhive#6278), on our host.
    const clientId = serve("/chatgpt/client.json", (url) => ({
      client_id: url,
      client_uri: "https://chatgpt.com/",
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: "private_key_jwt",
      token_endpoint_auth_methods_supported: ["none", "private_key_jwt"],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      client_name: "ChatGPT",
      token_endpoint_auth_signing_alg: "RS256",
      jwks_uri: "https://chatgpt.com/oauth/jwks.json",
    }));
    const page = await openConsent(dev, { clientId });
    expect(page.status, page.html).toBe(200);
    expect(page.html).toContain("ChatGPT");
    const back = await finishSignIn(dev, page);
    const tokens = await exchangeCode(dev, clientId, back.searchParams.get("code") as string);
    expect(tokens.status, JSON.stringify(tokens.body)).toBe(200);
    // A refresh that names the client only in a client assertion (RFC 7523 §2.2: client_id is then optional).
    const claims = { iss: clientId, sub: clientId, aud: `${dev.url}/token`, exp: Math.floor(Date.now() / 1000) + 60 };
    const assertion = [{ alg: "RS256", typ: "JWT" }, claims, "signature"]
      .map((part) => Buffer.from(typeof part === "string" ? part : JSON.stringify(part)).toString("base64url"))
      .join(".");
    const refreshed = await tokenRequest(dev, {
      grant_type: "refresh_token",
      refresh_token: tokens.body.refresh_token as string,
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_assertion: assertion,
    });
    expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
  });

  it("a document naming a method it cannot drop, or a shared-secret method, is refused with a page that says so", async () => {
    serve("/jwt-only.json", (url) => ({
      client_id: url,
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: "private_key_jwt",
      jwks_uri: "https://app.example.com/jwks.json",
    }));
    serve("/shared-secret.json", (url) => ({
      client_id: url,
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: "client_secret_basic",
      token_endpoint_auth_methods_supported: ["none", "client_secret_basic"],
    }));
    const expectations: [string, RegExp][] = [
      [
        "/jwt-only.json",
        /private_key_jwt is not supported here, and token_endpoint_auth_methods_supported does not offer none/,
      ],
      ["/shared-secret.json", /client_secret_basic uses a shared secret/],
    ];
    for (const [path, message] of expectations) {
      const res = await authorizePage(dev, `${docsUrl}${path}`);
      expect(res.status, path).toBe(400);
      expect(res.location).toBeNull();
      expect(res.html).toMatch(message);
    }
  });

  it("with the loopback switch off (the default), loopback and private addresses are refused before any request", async () => {
    const served = serve("/prod.json", (url) => ({ client_id: url, redirect_uris: [REDIRECT_URI] }));
    const port = new URL(docsUrl).port;
    const cases: [string, RegExp][] = [
      [served, /must use https/],
      [`https://127.0.0.1:${port}/prod.json`, /not a public address/],
      [`https://localhost:${port}/prod.json`, /not a public address/],
      ["https://10.0.0.7/client.json", /not a public address/],
      ["https://169.254.169.254/latest/meta-data", /not a public address/],
      ["https://[::1]/client.json", /not a public address/],
      ["https://[::ffff:192.168.0.1]/client.json", /not a public address/],
      ["https://[fd00:ec2::254]/client.json", /not a public address/],
    ];
    const before = hits.get("/prod.json") ?? 0;
    for (const [clientId, message] of cases) {
      const res = await authorizePage(prod, clientId);
      expect(res.status, clientId).toBe(400);
      expect(res.location).toBeNull();
      expect(res.html, clientId).toMatch(message);
    }
    expect(hits.get("/prod.json") ?? 0).toBe(before);
  });

  it("even with the switch on, only loopback is allowed, never other private addresses", async () => {
    const res = await authorizePage(dev, "https://192.168.1.20/client.json");
    expect(res.status).toBe(400);
    expect(res.html).toMatch(/not a public address/);
  });

  it("client_id URLs must have a path and no fragment or dot segments", async () => {
    for (const clientId of [`${docsUrl}/`, `${docsUrl}/a.json#frag`, `${docsUrl}/a/../good.json`]) {
      const res = await authorizePage(dev, clientId);
      expect(res.status, clientId).toBe(400);
      expect(res.html).toContain("not a valid client metadata URL");
    }
  });
});

describe("the SSRF address policy", () => {
  it("refuses every non-public range and accepts public addresses", () => {
    for (const ip of [
      "127.0.0.1",
      "10.1.2.3",
      "172.16.0.1",
      "172.31.255.255",
      "192.168.1.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "224.0.0.1",
      "255.255.255.255",
      "::1",
      "::",
      "fe80::1",
      "fc00::1",
      "fd00:ec2::254",
      "::ffff:127.0.0.1",
      "::ffff:8.8.8.8",
      "64:ff9b::a00:1",
      "2002:a00:1::1",
      "ff02::1",
      "not-an-ip",
    ]) {
      expect(isPublicAddress(ip), ip).toBe(false);
    }
    for (const ip of ["8.8.8.8", "1.1.1.1", "172.32.0.1", "2606:4700:4700::1111", "2a00:1450:4001:82a::200e"]) {
      expect(isPublicAddress(ip), ip).toBe(true);
    }
  });

  it("cache lifetimes honour Cache-Control within [60 s, 24 h]", () => {
    expect(cacheTtlSec(undefined)).toBe(3600);
    expect(cacheTtlSec("max-age=600")).toBe(600);
    expect(cacheTtlSec("public, max-age=5")).toBe(60);
    expect(cacheTtlSec("max-age=99999999")).toBe(86400);
    expect(cacheTtlSec("no-store")).toBe(60);
  });
});

describe("a document whose host misbehaves after sign-in (stale if error)", () => {
  let clock = Date.now();
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ sandbox: dev.sandbox, env: { CIMD_ALLOW_LOOPBACK_HTTP: "true" }, now: () => clock });
  });
  afterAll(async () => {
    await h.close();
  });

  const HOUR = 3_600_000;
  type Mode = "ok" | "no-refresh" | "reset" | "challenge-200" | "big-challenge-200" | "big-503" | 403 | 404 | 503 | 520;

  /**
   * A document served per `mode()`: the document (max-age 60 s), a reset connection, a bot-challenge page (as 403,
   * or as 200 text/html), an error page larger than any document may be, or a bare status.
   */
  function flakyDocument(path: string, mode: () => Mode): string {
    routes.set(path, (url): { status?: number; headers?: Record<string, string>; body: string } => {
      const m = mode();
      const html = { "content-type": "text/html" };
      if (m === "ok" || m === "no-refresh") {
        const doc = {
          client_id: url,
          client_name: "Flaky Doc",
          redirect_uris: [REDIRECT_URI],
          // "no-refresh": the document withdrew its grants (every client with authorization_code may refresh here).
          grant_types: m === "ok" ? ["authorization_code", "refresh_token"] : ["implicit"],
        };
        return { body: JSON.stringify(doc), headers: { "cache-control": "max-age=60" } };
      }
      if (m === "reset") return { status: 599, body: "" };
      if (m === "challenge-200") return { status: 200, headers: html, body: "<html>Just a moment...</html>" };
      if (m === "big-challenge-200") return { status: 200, headers: html, body: `<html>${"x".repeat(40_000)}</html>` };
      if (m === "big-503") return { status: 503, headers: html, body: `<html>${"x".repeat(40_000)}</html>` };
      return { status: m, headers: html, body: "<html>Just a moment...</html>" };
    });
    return `${docsUrl}${path}`;
  }

  async function signIn(clientId: string): Promise<string> {
    const back = await finishSignIn(h, await openConsent(h, { clientId }));
    const tokens = await exchangeCode(h, clientId, back.searchParams.get("code") as string);
    expect(tokens.status, JSON.stringify(tokens.body)).toBe(200);
    return tokens.body.refresh_token as string;
  }

  function refresh(clientId: string, refreshToken: string) {
    return tokenRequest(h, { grant_type: "refresh_token", client_id: clientId, refresh_token: refreshToken });
  }

  const lastGoodKey = (clientId: string) => `${h.keyPrefix}:oauth:cimd-last-good:${sha256Hex(clientId)}`;

  it("no answer in any form the host may give: refreshes go on from the last good copy for 7 days, then invalid_client", async () => {
    let mode: Mode = "ok";
    const clientId = flakyDocument("/flaky.json", () => mode);
    let refreshToken = await signIn(clientId);
    const failures: Mode[] = [403, "reset", 503, 520, "challenge-200", "big-challenge-200", "big-503"];
    for (const failure of failures) {
      mode = failure;
      clock += 2 * HOUR; // well past the document's 60 s
      const refreshed = await refresh(clientId, refreshToken);
      expect(refreshed.status, `${failure}: ${JSON.stringify(refreshed.body)}`).toBe(200);
      refreshToken = refreshed.body.refresh_token as string;
    }
    // A new sign-in needs the document itself: a stale copy never sends a code to a redirect URI.
    const page = await openConsent(h, { clientId });
    expect(page.status).toBe(400);
    expect(page.html).toMatch(/big|larger than|cannot be used/);

    const fetches = hits.get("/flaky.json");
    mode = 503;
    // 7 days after the sign-in's fresh copy, but not 7 days after the last refresh: a copy that renewed itself when
    // served stale would still stand in here.
    clock += 7 * 24 * HOUR - 7 * HOUR;
    const late = await refresh(clientId, refreshToken);
    expect(late.status).toBe(401);
    expect(late.body.error).toBe("invalid_client");
    expect(String(late.body.error_description)).toContain("HTTP 503");
    expect(hits.get("/flaky.json")).toBeGreaterThan(fetches as number);
  });

  it("404 (the document was withdrawn): refused at once, and the last good copy is forgotten", async () => {
    let mode: Mode = "ok";
    const clientId = flakyDocument("/withdrawn.json", () => mode);
    const refreshToken = await signIn(clientId);
    // Written just after the token answer (not before it): wait for it.
    await vi.waitFor(async () => expect(await h.redis.exists(lastGoodKey(clientId))).toBe(1));
    mode = 404;
    clock += 2 * HOUR;
    const gone = await refresh(clientId, refreshToken);
    expect(gone.status).toBe(401);
    expect(gone.body.error).toBe("invalid_client");
    expect(await h.redis.exists(lastGoodKey(clientId))).toBe(0);
    // A passing failure later does not bring the withdrawn client back.
    mode = 503;
    const later = await refresh(clientId, refreshToken);
    expect(later.status).toBe(401);
    expect(later.body.error).toBe("invalid_client");
  });

  it("a document that changed (its grant types withdrawn) is not stood in for by its old self when its host then fails", async () => {
    let mode: Mode = "ok";
    const clientId = flakyDocument("/changed.json", () => mode);
    const refreshToken = await signIn(clientId);
    mode = "no-refresh";
    clock += 2 * HOUR;
    const refused = await refresh(clientId, refreshToken);
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe("invalid_client");
    expect(refused.body.error_description).toMatch(/grant_types lacks authorization_code/);
    mode = 503;
    clock += 2 * HOUR;
    const later = await refresh(clientId, refreshToken);
    expect(later.status).toBe(401);
    expect(later.body.error).toBe("invalid_client");
  });

  it("a document nobody gets tokens for leaves no last good copy behind", async () => {
    const clientId = flakyDocument("/unused.json", () => "ok");
    const refused = await refresh(clientId, "not-a-refresh-token");
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe("invalid_grant");
    expect(await h.redis.exists(lastGoodKey(clientId))).toBe(0);
  });
});

describe("a pinned copy of a known client's document (Claude's host answers some cloud addresses with a bot challenge)", () => {
  let h: Harness;
  let mode: "challenge" | "withdrawn" | "live" = "challenge";
  let clientId: string;
  beforeAll(async () => {
    clientId = `${docsUrl}/pinned-client.json`;
    routes.set("/pinned-client.json", (url): { status?: number; headers?: Record<string, string>; body: string } => {
      if (mode === "withdrawn") return { status: 404, headers: { "content-type": "text/html" }, body: "gone" };
      if (mode === "challenge") {
        return {
          status: 403,
          headers: { "content-type": "text/html", "cf-mitigated": "challenge" },
          body: "<html>Just a moment...</html>",
        };
      }
      return { body: JSON.stringify({ client_id: url, client_name: "Live Claude", redirect_uris: [REDIRECT_URI] }) };
    });
    h = await startHarness({
      sandbox: dev.sandbox,
      env: { CIMD_ALLOW_LOOPBACK_HTTP: "true" },
      knownClientDocuments: {
        [clientId]: {
          client_id: clientId,
          client_name: "Pinned Claude",
          redirect_uris: [REDIRECT_URI],
          grant_types: ["authorization_code", "refresh_token"],
          token_endpoint_auth_method: "none",
        },
      },
    });
  });
  afterAll(async () => {
    await h.close();
  });

  it("a first sign-in and its refreshes go through on the pinned copy while the host answers 403 cf-mitigated", async () => {
    mode = "challenge";
    const page = await openConsent(h, { clientId });
    expect(page.status, page.html).toBe(200);
    expect(page.html).toContain("Pinned Claude");
    const back = await finishSignIn(h, page);
    const tokens = await exchangeCode(h, clientId, back.searchParams.get("code") as string);
    expect(tokens.status, JSON.stringify(tokens.body)).toBe(200);
    const refreshed = await tokenRequest(h, {
      grant_type: "refresh_token",
      client_id: clientId,
      refresh_token: tokens.body.refresh_token as string,
    });
    expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
  });

  it("a document the host does serve wins over the pin, and a withdrawn one (404) is obeyed", async () => {
    mode = "live";
    const live = await openConsent(h, { clientId });
    expect(live.status).toBe(200);
    expect(live.html).toContain("Live Claude");
    await h.redis.del(`${h.keyPrefix}:oauth:cimd:${sha256Hex(clientId)}`); // the cached copy, so it is fetched again
    mode = "withdrawn";
    const gone = await authorizePage(h, clientId);
    expect(gone.status).toBe(400);
    expect(gone.html).toContain("HTTP 404");
  });

  it("every built-in pin passes the checks a fetched document must pass; a pin that does not stops the server", () => {
    const opts = {
      kv: h.deps.kv,
      keyPrefix: "pins",
      allowLoopback: false,
      redirectUriSchemes: [],
      logger: h.deps.logger,
    };
    const builtIn = new ClientMetadataDocuments(opts);
    expect(builtIn).toBeDefined();
    const url = "https://client.example/metadata.json";
    expect(
      () =>
        new ClientMetadataDocuments({
          ...opts,
          knownDocuments: {
            [url]: {
              client_id: url,
              redirect_uris: ["https://client.example/cb"],
              token_endpoint_auth_method: "client_secret_post",
            },
          },
        }),
    ).toThrow(/shared secret/);
  });
});

/**
 * A harness whose pinned copies hold the built-in copy of `knownUrl`, re-keyed to `path` on our document host (the
 * test cannot answer for chatgpt.com), which then answers as chatgpt.com has: 403 with a challenge page.
 */
async function builtInCopyBehindChallenge(knownUrl: string, path: string): Promise<{ h: Harness; clientId: string }> {
  const builtIn = KNOWN_CLIENT_DOCUMENTS[knownUrl];
  if (builtIn === undefined) throw new Error(`no pinned copy of ${knownUrl}`);
  const clientId = `${docsUrl}${path}`;
  routes.set(path, () => ({
    status: 403,
    headers: { "content-type": "text/html", "cf-mitigated": "challenge" },
    body: "<html>Just a moment...</html>",
  }));
  const h = await startHarness({
    sandbox: dev.sandbox,
    env: { CIMD_ALLOW_LOOPBACK_HTTP: "true" },
    knownClientDocuments: { [clientId]: { ...builtIn, client_id: clientId } },
  });
  return { h, clientId };
}

describe("Codex's pinned document (chatgpt.com has answered servers' fetches of it with 403)", () => {
  const CODEX = "https://chatgpt.com/oauth/codex/client.json";
  let h: Harness;
  let clientId: string;
  beforeAll(async () => {
    ({ h, clientId } = await builtInCopyBehindChallenge(CODEX, "/oauth/codex/client.json"));
  });
  afterAll(async () => {
    await h.close();
  });

  it("the built-in copy is keyed by Codex's exact URL and sends codes only to loopback /callback URIs", () => {
    const pinned = KNOWN_CLIENT_DOCUMENTS[CODEX];
    expect(pinned?.client_id).toBe(CODEX);
    expect(pinned?.redirect_uris).toEqual(["http://127.0.0.1/callback", "http://localhost/callback"]);
  });

  it("a first sign-in at 127.0.0.1 and at localhost (any port), and the refreshes, go through on the copy", async () => {
    for (const redirectUri of ["http://127.0.0.1:9/callback", "http://localhost:54321/callback"]) {
      const page = await openConsent(h, { clientId, redirectUri });
      expect(page.status, page.html).toBe(200);
      expect(page.html).toContain("Codex");
      const back = await finishSignIn(h, page);
      expect(`${back.origin}${back.pathname}`).toBe(redirectUri);
      const tokens = await tokenRequest(h, {
        grant_type: "authorization_code",
        client_id: clientId,
        code: back.searchParams.get("code") as string,
        code_verifier: DEFAULT_VERIFIER,
        redirect_uri: redirectUri,
        resource: `${h.url}/mcp`,
      });
      expect(tokens.status, JSON.stringify(tokens.body)).toBe(200);
      // Codex's refresh: the scopes it was granted and the resource (rmcp AuthorizationManager::refresh_token).
      const refreshed = await tokenRequest(h, {
        grant_type: "refresh_token",
        refresh_token: tokens.body.refresh_token as string,
        client_id: clientId,
        scope: tokens.body.scope as string,
        resource: `${h.url}/mcp`,
      });
      expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
    }
  });

  it("a callback path the document does not list is still refused (no code leaves for it)", async () => {
    const res = await fetch(authorizeUrl(h, { clientId, redirectUri: "http://127.0.0.1:9/callback/other" }), {
      redirect: "manual",
    });
    expect(res.status).toBe(400);
    expect(res.headers.get("location")).toBeNull();
  });
});

describe("ChatGPT's pinned document (the same host as Codex's)", () => {
  const CHATGPT = "https://chatgpt.com/oauth/client.json";
  const CALLBACK = "https://chatgpt.com/connector_platform_oauth_redirect";
  let h: Harness;
  let clientId: string;
  beforeAll(async () => {
    ({ h, clientId } = await builtInCopyBehindChallenge(CHATGPT, "/oauth/client.json"));
  });
  afterAll(async () => {
    await h.close();
  });

  it("keyed by ChatGPT's exact URL, one https callback; a first sign-in and a refresh by client assertion go through on it", async () => {
    const pinned = KNOWN_CLIENT_DOCUMENTS[CHATGPT];
    expect(pinned?.client_id).toBe(CHATGPT);
    expect(pinned?.redirect_uris).toEqual([CALLBACK]);

    const page = await openConsent(h, { clientId, redirectUri: CALLBACK });
    expect(page.status, page.html).toBe(200);
    expect(page.html).toContain("ChatGPT");
    const back = await finishSignIn(h, page);
    expect(`${back.origin}${back.pathname}`).toBe(CALLBACK);
    const tokens = await tokenRequest(h, {
      grant_type: "authorization_code",
      client_id: clientId,
      code: back.searchParams.get("code") as string,
      code_verifier: DEFAULT_VERIFIER,
      redirect_uri: CALLBACK,
      resource: `${h.url}/mcp`,
    });
    expect(tokens.status, JSON.stringify(tokens.body)).toBe(200);
    const claims = { iss: clientId, sub: clientId, aud: `${h.url}/token`, exp: Math.floor(Date.now() / 1000) + 60 };
    const assertion = [{ alg: "RS256", typ: "JWT" }, claims, "signature"]
      .map((part) => Buffer.from(typeof part === "string" ? part : JSON.stringify(part)).toString("base64url"))
      .join(".");
    const refreshed = await tokenRequest(h, {
      grant_type: "refresh_token",
      refresh_token: tokens.body.refresh_token as string,
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_assertion: assertion,
    });
    expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
  });
});
