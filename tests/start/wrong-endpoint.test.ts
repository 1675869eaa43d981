/**
 * An MCP client given the server's address without `/mcp` (`http://localhost:PORT`, as a newcomer copies it from
 * the browser), or trying the old HTTP+SSE transport's `/sse` or `/messages` (often `/messages?sessionId=…`), used
 * to get express's HTML "Cannot POST /": it gets a JSON-RPC error (HTTP 404) naming the endpoint to connect to
 * (src/server/mcp/wrong-endpoint.ts). `GET /` stays the plain-text page for a person, and /mcp is unchanged. The demo runs in this process (startEmbedded, as
 * `npm start` with no configuration), over real HTTP; the last test connects the real SDK client to the bare
 * address and reads the hint in the error it raises.
 */
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { expect, it } from "vitest";
import { rawRequest } from "../helpers/raw-http.ts";
import { useEmbeddedDemo } from "./support/demo.ts";

const demo = useEmbeddedDemo("wrong-endpoint-");
const origin = () => new URL(demo().mcpUrl).origin;

const initialize = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } },
});
const hint = () => `This is not the MCP endpoint: connect your MCP client to ${demo().mcpUrl}`;

it.each([
  ["POST", "/"],
  ["POST", "/sse"],
  ["GET", "/sse"],
  ["POST", "/messages"],
  ["POST", "/messages?sessionId=0f8c2b1e-5d1a-4a7e-9c3b-2f6e8d9a1b4c"],
  ["GET", "/messages"],
  // Any other path an MCP client (Accept: text/event-stream) was given: one guessed, or copied from another server.
  ["POST", "/api/mcp"],
  ["POST", "/mcp/sse"],
  ["GET", "/v1/sse"],
])("%s %s answers a JSON-RPC 404 naming the /mcp URL", async (method, pathname) => {
  const res = await fetch(`${origin()}${pathname}`, {
    method,
    headers: { accept: "application/json, text/event-stream", "content-type": "application/json" },
    ...(method === "POST" && { body: initialize }),
  });
  expect(res.status).toBe(404);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expect(await res.json()).toEqual({ jsonrpc: "2.0", error: { code: -32000, message: hint() }, id: null });
});

it("a browser-based client (an allowed Origin) can read the hint: CORS as on /mcp, preflight included", async () => {
  const from = origin(); // PUBLIC_URL's own origin is always allowed (mcpOrigins)
  for (const pathname of ["/sse", "/messages?sessionId=abc"]) {
    const preflight = await rawRequest(`${origin()}${pathname}`, {
      method: "OPTIONS",
      headers: {
        origin: from,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });
    expect(preflight.status, pathname).toBe(204);
    expect(preflight.headers["access-control-allow-origin"], pathname).toBe(from);
  }
  for (const pathname of ["/", "/messages?sessionId=abc"]) {
    const answer = await rawRequest(`${origin()}${pathname}`, {
      method: "POST",
      headers: { origin: from, "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: initialize,
    });
    expect(answer.status, pathname).toBe(404);
    expect(answer.headers["access-control-allow-origin"], pathname).toBe(from);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { message: hint() } });
  }
});

it("GET / stays the page for a person, and /mcp is unchanged (a POST without a token: 401)", async () => {
  const page = await fetch(`${origin()}/`);
  expect(page.status).toBe(200);
  expect(page.headers.get("content-type")).toMatch(/^text\/plain/);
  expect(await page.text()).toContain(`Add ${demo().mcpUrl} to your MCP client`);
  const mcp = await fetch(demo().mcpUrl, {
    method: "POST",
    headers: { accept: "application/json, text/event-stream", "content-type": "application/json" },
    body: initialize,
  });
  expect(mcp.status).toBe(401);
});

it("the SDK client connected to the bare address fails with the hint in its error", async () => {
  const client = new Client({ name: "wrong-endpoint-test", version: "1.0.0" });
  const error = await client.connect(new StreamableHTTPClientTransport(new URL(origin()))).then(
    () => undefined,
    (e: unknown) => e,
  );
  await client.close();
  expect(error).toBeInstanceOf(Error);
  expect((error as Error).message).toContain(hint());
});

it("the SDK client connected to a path guessed wrong (/api/mcp) fails with the hint; curl there gets express's 404", async () => {
  const client = new Client({ name: "wrong-endpoint-test", version: "1.0.0" });
  const error = await client.connect(new StreamableHTTPClientTransport(new URL(`${origin()}/api/mcp`))).then(
    () => undefined,
    (e: unknown) => e,
  );
  await client.close();
  expect(error).toBeInstanceOf(Error);
  expect((error as Error).message).toContain(hint());
  // A request that is no MCP client's (no text/event-stream in Accept) is left to express, as before.
  const plain = await fetch(`${origin()}/api/mcp`, { method: "POST", body: "x" });
  expect(plain.status).toBe(404);
  expect(plain.headers.get("content-type")).toMatch(/^text\/html/);
});
