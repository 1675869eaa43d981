/**
 * A browser-based MCP client in one small page, served on its own loopback port (so on another origin than the
 * server): what the MCP Inspector's web UI and any web app do, written out in plain browser JavaScript. On `/`
 * its script calls /mcp without a token (401), reads the challenge, the protected-resource and the
 * authorization-server metadata, registers (DCR) and sends the tab to /authorize with PKCE; on `/callback` it
 * checks state and iss, exchanges the code at /token and calls tools on /mcp with the token. Every request is a
 * cross-origin fetch, so the browser enforces CORS on each; what the script could read is published on
 * `window.__result` for the test.
 */
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface WebClientConfig {
  /** The server's /mcp URL. */
  mcpUrl: string;
  /** list_records arguments for the tool call after sign-in. */
  baseId: string;
  tableId: string;
}

export interface WebClientApp {
  /** `http://127.0.0.1:<port>`: the app's origin (put it in ALLOWED_ORIGINS). */
  origin: string;
  /** Set before the browser opens the page (the server's URL is known only after the app's port). */
  configure(config: WebClientConfig): void;
  close(): Promise<void>;
}

/** What the page's script saw, step by step. */
export interface WebClientResult {
  error?: string;
  unauthenticated?: { status: number; wwwAuthenticate: string | null; allowOrigin?: string | null };
  registered?: { status: number; clientId?: string };
  token?: { status: number; scope?: string; hasRefreshToken: boolean };
  initialize?: { status: number; protocolVersion?: string };
  toolsList?: { status: number; names: string[] };
  toolCall?: { status: number; isError?: boolean; recordNames: string[] };
}

const SCRIPT = String.raw`
const config = JSON.parse(document.getElementById("config").textContent);
const PROTOCOL = "2025-11-25";
const state = JSON.parse(sessionStorage.getItem("web-client") || "{}");
const result = state.result || {};
const save = () => sessionStorage.setItem("web-client", JSON.stringify({ ...state, result }));
const b64url = (bytes) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

async function rpc(token, protocolVersion, message) {
  const headers = { "content-type": "application/json", accept: "application/json, text/event-stream" };
  if (token) headers.authorization = "Bearer " + token;
  if (protocolVersion) headers["mcp-protocol-version"] = protocolVersion;
  const res = await fetch(config.mcpUrl, { method: "POST", headers, body: JSON.stringify(message) });
  const text = await res.text();
  const type = res.headers.get("content-type") || "";
  let body;
  if (type.startsWith("text/event-stream")) {
    const data = text.split(/\r?\n/).filter((l) => l.startsWith("data:")).pop();
    body = data ? JSON.parse(data.slice(5)) : undefined;
  } else if (text) {
    try { body = JSON.parse(text); } catch { body = undefined; }
  }
  return { status: res.status, headers: res.headers, body };
}

async function start() {
  const init = { jsonrpc: "2.0", id: 1, method: "initialize",
    params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: "web-client", version: "1.0.0" } } };
  const first = await rpc(undefined, undefined, init);
  const challenge = first.headers.get("www-authenticate");
  result.unauthenticated = { status: first.status, wwwAuthenticate: challenge };
  save();
  const prmUrl = /resource_metadata="([^"]+)"/.exec(challenge || "")[1];
  const prm = await (await fetch(prmUrl, { headers: { "mcp-protocol-version": PROTOCOL } })).json();
  const issuer = prm.authorization_servers[0];
  const as = await (await fetch(issuer + "/.well-known/oauth-authorization-server",
    { headers: { "mcp-protocol-version": PROTOCOL } })).json();
  const redirectUri = location.origin + "/callback";
  const registration = await fetch(as.registration_endpoint, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ client_name: "Web MCP client", redirect_uris: [redirectUri],
      token_endpoint_auth_method: "none", grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"] }),
  });
  const client = await registration.json();
  result.registered = { status: registration.status, clientId: client.client_id };
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const codeChallenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  Object.assign(state, { verifier, clientId: client.client_id, redirectUri, issuer: as.issuer,
    tokenEndpoint: as.token_endpoint, resource: prm.resource, state: b64url(crypto.getRandomValues(new Uint8Array(16))) });
  save();
  const url = new URL(as.authorization_endpoint);
  const params = { response_type: "code", client_id: client.client_id, redirect_uri: redirectUri,
    code_challenge: codeChallenge, code_challenge_method: "S256", state: state.state, resource: prm.resource };
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  location.assign(url.href);
}

async function finish() {
  const q = new URLSearchParams(location.search);
  if (q.get("error")) throw new Error("authorization failed: " + q.get("error") + " " + q.get("error_description"));
  if (q.get("state") !== state.state) throw new Error("state mismatch");
  if (q.get("iss") !== state.issuer) throw new Error("iss mismatch: " + q.get("iss"));
  const tokenRes = await fetch(state.tokenEndpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", client_id: state.clientId, code: q.get("code"),
      code_verifier: state.verifier, redirect_uri: state.redirectUri, resource: state.resource }),
  });
  const tokens = await tokenRes.json();
  result.token = { status: tokenRes.status, scope: tokens.scope, hasRefreshToken: Boolean(tokens.refresh_token) };
  const token = tokens.access_token;
  const init = await rpc(token, undefined, { jsonrpc: "2.0", id: 1, method: "initialize",
    params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: "web-client", version: "1.0.0" } } });
  const version = init.body && init.body.result && init.body.result.protocolVersion;
  result.initialize = { status: init.status, protocolVersion: version };
  await rpc(token, version, { jsonrpc: "2.0", method: "notifications/initialized" });
  const list = await rpc(token, version, { jsonrpc: "2.0", id: 2, method: "tools/list", params: {} });
  result.toolsList = { status: list.status, names: ((list.body && list.body.result && list.body.result.tools) || []).map((t) => t.name) };
  const call = await rpc(token, version, { jsonrpc: "2.0", id: 3, method: "tools/call",
    params: { name: "list_records", arguments: { baseId: config.baseId, tableId: config.tableId } } });
  const callResult = (call.body && call.body.result) || {};
  const records = (callResult.structuredContent && callResult.structuredContent.records) || [];
  result.toolCall = { status: call.status, isError: callResult.isError,
    recordNames: records.map((r) => String(r.fields.Name)).sort() };
}

(location.pathname === "/callback" ? finish() : start()).then(
  () => { if (location.pathname === "/callback") { save(); window.__result = result; } },
  (error) => { result.error = String(error && error.stack || error); save(); window.__result = result; },
);
`;

function page(config: WebClientConfig): string {
  // JSON inside a non-executed script element: "<" escaped so no value can close the element.
  const json = JSON.stringify(config).replace(/</g, "\\u003c");
  return `<!doctype html><html><head><meta charset="utf-8"><title>Web MCP client</title></head><body>
<p>Web MCP client</p>
<script type="application/json" id="config">${json}</script>
<script type="module">${SCRIPT}</script>
</body></html>`;
}

/** Starts the app on 127.0.0.1 at an OS-chosen port. */
export async function startWebClientApp(): Promise<WebClientApp> {
  let config: WebClientConfig | undefined;
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (req.method !== "GET" || (path !== "/" && path !== "/callback") || config === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
    res.end(page(config));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    configure: (c) => {
      config = c;
    },
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}
