/**
 * CORS as a browser-based MCP client (MCP Inspector's browser mode, a web app) meets it, on the real server app
 * (createServerApp over real HTTP, real Redis, the Airtable sandbox): preflights the way a browser sends them,
 * then the calls, with a token from the real sign-in. Requests go through node:http so Origin, Host and the
 * preflight headers are exactly what a browser would send.
 */
import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernHttpTransport,
} from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { signInAndConnect } from "../e2e/helpers/mcp-client.ts";
import { TestOAuthProvider } from "../e2e/helpers/test-oauth-provider.ts";
import { headerList, rawRequest, type RawAnswer } from "../helpers/raw-http.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../helpers/redis.ts";
import { startServerHarness, type ServerHarness } from "../support/admin-test-harness.ts";
import { startHarness } from "../support/auth-test-harness.ts";

const ALLOWED = "https://inspector.example";
const FOREIGN = "https://evil.example";
const keyPrefix = uniquePrefix("cors");
const redis = createTestRedis();

let sandbox: Sandbox;
/** ALLOWED_ORIGINS=https://inspector.example */
let server: ServerHarness;
/** ALLOWED_ORIGINS=* */
let open: ServerHarness;
let token: string;
let openToken: string;
let userId: string;

async function signedInToken(harness: ServerHarness, sandboxUser: string): Promise<string> {
  const provider = new TestOAuthProvider({ sandboxUser });
  const { client } = await signInAndConnect(`${harness.url}/mcp`, provider);
  await client.close();
  return provider.tokens()!.access_token;
}

beforeAll(async () => {
  sandbox = await startSandbox();
  userId = sandbox.addUser({ email: "cors@example.com", name: "Cors User" }).id;
  server = await startServerHarness({ sandbox, keyPrefix, env: { ALLOWED_ORIGINS: ALLOWED } });
  open = await startServerHarness({ sandbox, keyPrefix, env: { ALLOWED_ORIGINS: "*" } });
  token = await signedInToken(server, userId);
  openToken = await signedInToken(open, userId);
});

afterAll(async () => {
  await open?.close();
  await server?.close();
  await sandbox?.close();
  await deleteKeys(redis, keyPrefix);
  redis.disconnect();
});

const REQUEST_HEADERS = ["authorization", "content-type", "mcp-protocol-version", "mcp-session-id", "last-event-id"];
const toolsList = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} });

/** A browser's preflight before a request with the MCP client's headers. */
function preflight(url: string, origin: string, method: string): Promise<RawAnswer> {
  return rawRequest(url, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": method,
      "access-control-request-headers": REQUEST_HEADERS.join(","),
    },
  });
}

/** POST /mcp as a browser's fetch sends it from `origin` (with the token, when given). */
function postMcp(
  baseUrl: string,
  opts: { origin?: string; token?: string; host?: string; body?: string } = {},
): Promise<RawAnswer> {
  return rawRequest(`${baseUrl}/mcp`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": "2025-11-25",
      ...(opts.origin !== undefined && { origin: opts.origin }),
      ...(opts.token !== undefined && { authorization: `Bearer ${opts.token}` }),
      ...(opts.host !== undefined && { host: opts.host }),
    },
    body: opts.body ?? toolsList,
  });
}

function expectReadableBy(answer: RawAnswer, origin: string): void {
  expect(answer.headers["access-control-allow-origin"]).toBe(origin);
  expect(headerList(answer.headers, "access-control-expose-headers")).toEqual(
    expect.arrayContaining(["www-authenticate", "mcp-session-id", "mcp-protocol-version"]),
  );
}

describe("preflight from an allowed origin", () => {
  const paths: [string, string, string][] = [
    ["/mcp", "POST", ALLOWED],
    ["/.well-known/oauth-protected-resource", "GET", "*"],
    ["/.well-known/oauth-protected-resource/mcp", "GET", "*"],
    ["/.well-known/oauth-authorization-server", "GET", "*"],
    ["/register", "POST", "*"],
    ["/token", "POST", "*"],
    ["/revoke", "POST", "*"],
  ];
  it.each(paths)(
    "%s (%s): 204 with the MCP client's headers allowed, before authentication",
    async (path, method, acao) => {
      const answer = await preflight(`${server.url}${path}`, ALLOWED, method);
      expect(answer.status).toBe(204);
      expect(answer.headers["access-control-allow-origin"]).toBe(acao);
      expect(headerList(answer.headers, "access-control-allow-methods")).toContain(method.toLowerCase());
      expect(headerList(answer.headers, "access-control-allow-headers")).toEqual(
        expect.arrayContaining(REQUEST_HEADERS),
      );
      expect(answer.headers["access-control-max-age"]).toBe("600");
      expect(answer.headers["access-control-allow-credentials"]).toBeUndefined();
    },
  );
});

describe("a 2026-07-28 client in a page (the MCP SDK v2 client)", () => {
  it("every header it sends on /mcp is allowed by the preflight (Mcp-Method and Mcp-Name included)", async () => {
    // What a browser would preflight: each request header the SDK's own client sets, except the CORS-safelisted
    // Accept (Fetch standard). Recorded from real calls, so a header a later SDK adds is checked too.
    const sent = new Set<string>();
    const client = new ModernClient({ name: "page", version: "1.0.0" }, { versionNegotiation: { mode: "auto" } });
    await client.connect(
      new ModernHttpTransport(new URL(`${server.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
        fetch: (url, init) => {
          for (const name of new Headers(init?.headers).keys()) sent.add(name);
          return fetch(url, {
            ...init,
            headers: { ...Object.fromEntries(new Headers(init?.headers)), origin: ALLOWED },
          });
        },
      }),
    );
    try {
      expect(client.getProtocolEra()).toBe("modern");
      await client.listTools();
      await client.callTool({ name: "list_bases", arguments: {} });
    } finally {
      await client.close();
    }
    const needed = [...sent].filter((name) => name !== "accept");
    expect(needed).toEqual(expect.arrayContaining(["authorization", "mcp-method", "mcp-name"]));

    const answer = await rawRequest(`${server.url}/mcp`, {
      method: "OPTIONS",
      headers: {
        origin: ALLOWED,
        "access-control-request-method": "POST",
        "access-control-request-headers": needed.join(","),
      },
    });
    expect(answer.status).toBe(204);
    expect(headerList(answer.headers, "access-control-allow-headers")).toEqual(expect.arrayContaining(needed));
  });
});

describe("/mcp answers an allowed origin can read", () => {
  it("401 without a token: the challenge is exposed to the page's script, and the answer varies by Origin", async () => {
    const answer = await postMcp(server.url, { origin: ALLOWED });
    expect(answer.status).toBe(401);
    expectReadableBy(answer, ALLOWED);
    expect(answer.headers["www-authenticate"]).toContain(
      `resource_metadata="${server.url}/.well-known/oauth-protected-resource/mcp"`,
    );
    expect(headerList(answer.headers, "vary")).toContain("origin");
  });

  it("401 for a bad token", async () => {
    const answer = await postMcp(server.url, { origin: ALLOWED, token: "not-a-token" });
    expect(answer.status).toBe(401);
    expectReadableBy(answer, ALLOWED);
    expect(answer.headers["www-authenticate"]).toContain('error="invalid_token"');
  });

  it("200 with the token", async () => {
    const answer = await postMcp(server.url, { origin: ALLOWED, token });
    expect(answer.status, answer.body).toBe(200);
    expectReadableBy(answer, ALLOWED);
    expect(JSON.parse(answer.body)).toMatchObject({ jsonrpc: "2.0", id: 1, result: { tools: expect.any(Array) } });
  });

  it("403 for a Host that is not ours: readable, and it names the host expected from PUBLIC_URL", async () => {
    const answer = await postMcp(server.url, { origin: ALLOWED, token, host: "rebound.example" });
    expect(answer.status).toBe(403);
    expectReadableBy(answer, ALLOWED);
    const message = (JSON.parse(answer.body) as { error: { message: string } }).error.message;
    expect(message).toContain('Host "rebound.example" is not allowed');
    expect(message).toContain(`"${new URL(server.url).host}"`);
    expect(message).toContain("PUBLIC_URL");
    expect(message).toContain("ALLOWED_HOSTS");
  });

  it("PUBLIC_URL's own origin is always allowed, though not in ALLOWED_ORIGINS", async () => {
    const own = new URL(server.url).origin;
    const pre = await preflight(`${server.url}/mcp`, own, "POST");
    expect(pre.status).toBe(204);
    expect(pre.headers["access-control-allow-origin"]).toBe(own);
    const answer = await postMcp(server.url, { origin: own, token });
    expect(answer.status, answer.body).toBe(200);
    expectReadableBy(answer, own);
  });

  it("the app's own error answers carry CORS too: the 401 after the Airtable sign-in was lost", async () => {
    const lost = sandbox.addUser({ email: "cors-lost@example.com", name: "Lost" });
    const lostToken = await signedInToken(server, lost.id);
    await server.store.deleteAirtableAccount(lost.id);
    const answer = await postMcp(server.url, {
      origin: ALLOWED,
      token: lostToken,
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 2,
        method: "tools/call",
        params: { name: "list_bases", arguments: {} },
      }),
    });
    expect(answer.status).toBe(401);
    expectReadableBy(answer, ALLOWED);
    expect(answer.headers["www-authenticate"]).toContain('error="invalid_token"');
  });
});

describe("a foreign origin", () => {
  it("is refused with 403 on /mcp, its preflight and its call alike, with no CORS headers (DNS-rebinding rule)", async () => {
    const pre = await preflight(`${server.url}/mcp`, FOREIGN, "POST");
    expect(pre.status).toBe(403);
    expect(pre.headers["access-control-allow-origin"]).toBeUndefined();
    const answer = await postMcp(server.url, { origin: FOREIGN, token });
    expect(answer.status).toBe(403);
    expect(answer.headers["access-control-allow-origin"]).toBeUndefined();
    expect(headerList(answer.headers, "vary")).toContain("origin");
    expect(JSON.parse(answer.body)).toMatchObject({
      jsonrpc: "2.0",
      id: null,
      error: { code: -32000, message: expect.stringContaining("ALLOWED_ORIGINS") },
    });
  });

  it("is answered with * by the public OAuth endpoints (metadata, registration), which use no cookies", async () => {
    const metadata = await rawRequest(`${server.url}/.well-known/oauth-authorization-server`, {
      headers: { origin: FOREIGN },
    });
    expect(metadata.status).toBe(200);
    expect(metadata.headers["access-control-allow-origin"]).toBe("*");
    const registered = await rawRequest(`${server.url}/register`, {
      method: "POST",
      headers: { origin: FOREIGN, "content-type": "application/json" },
      body: JSON.stringify({ redirect_uris: ["http://127.0.0.1:9/cb"], token_endpoint_auth_method: "none" }),
    });
    expect(registered.status).toBe(201);
    expect(registered.headers["access-control-allow-origin"]).toBe("*");
  });
});

describe("ALLOWED_ORIGINS=*", () => {
  it("any origin's preflight and call are answered with *, while a foreign Host is still refused", async () => {
    const origin = "https://any-web-client.example";
    const pre = await preflight(`${open.url}/mcp`, origin, "POST");
    expect(pre.status).toBe(204);
    expect(pre.headers["access-control-allow-origin"]).toBe("*");
    const answer = await postMcp(open.url, { origin, token: openToken });
    expect(answer.status, answer.body).toBe(200);
    expectReadableBy(answer, "*");
    const rebound = await postMcp(open.url, { origin, token: openToken, host: "rebound.example" });
    expect(rebound.status).toBe(403);
  });
});

describe("rate-limited OAuth endpoint", () => {
  it("the 429 carries Access-Control-Allow-Origin", async () => {
    const auth = await startHarness({ rateLimits: { registerPerHour: 1 } });
    try {
      const register = () =>
        rawRequest(`${auth.url}/register`, {
          method: "POST",
          headers: { origin: ALLOWED, "content-type": "application/json" },
          body: JSON.stringify({ redirect_uris: ["http://127.0.0.1:9/cb"], token_endpoint_auth_method: "none" }),
        });
      expect((await register()).status).toBe(201);
      const limited = await register();
      expect(limited.status).toBe(429);
      expect(limited.headers["access-control-allow-origin"]).toBe("*");
    } finally {
      await auth.close();
    }
  });
});
