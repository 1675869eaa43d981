/**
 * POST /mcp with the Accept headers real clients send, as raw HTTP requests (node:http adds no Accept of its own)
 * to the real server app with a token from the real sign-in: JSON-only, the any-type wildcard and no Accept get a
 * JSON answer, not 406; SSE-only gets an event stream; an Accept naming neither type gets 406 saying what to send.
 * A JSON answer (either protocol era) comes in one piece with its Content-Length.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../../src/sandbox/index.ts";
import { signInAndConnect } from "../../e2e/helpers/mcp-client.ts";
import { TestOAuthProvider } from "../../e2e/helpers/test-oauth-provider.ts";
import { rawRequest } from "../../helpers/raw-http.ts";
import { MODERN, modernMeta } from "../../support/tasks-client.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";
import { startServerHarness, type ServerHarness } from "../../support/admin-test-harness.ts";

const keyPrefix = uniquePrefix("accept");
const redis = createTestRedis();
let sandbox: Sandbox;
let server: ServerHarness;
let token: string;

beforeAll(async () => {
  sandbox = await startSandbox();
  const user = sandbox.addUser({ email: "accept@example.com", name: "Accept User" });
  server = await startServerHarness({ sandbox, keyPrefix });
  const provider = new TestOAuthProvider({ sandboxUser: user.id });
  const { client } = await signInAndConnect(`${server.url}/mcp`, provider);
  await client.close();
  token = provider.tokens()!.access_token;
});

afterAll(async () => {
  await server?.close();
  await sandbox?.close();
  await deleteKeys(redis, keyPrefix);
  redis.disconnect();
});

const initialize = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw-client", version: "1.0.0" } },
});
/** tools/list asking for progress: with an event stream acceptable, the answer is one. */
const toolsListWithProgress = JSON.stringify({
  jsonrpc: "2.0",
  id: 2,
  method: "tools/list",
  params: { _meta: { progressToken: "p1" } },
});

/** POST /mcp with exactly these headers besides the token and Content-Type (`accept` undefined: none sent). */
function post(body: string, accept: string | undefined) {
  return rawRequest(`${server.url}/mcp`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${token}`,
      ...(accept !== undefined && { accept }),
    },
    body,
  });
}

describe("POST /mcp content negotiation", () => {
  it.each([
    ["application/json", "application/json"],
    ["the any-type wildcard", "*/*"],
    ["no Accept", undefined],
    ["both types (what the spec asks clients for)", "application/json, text/event-stream"],
  ])("%s → 200 JSON answer to initialize", async (_label, accept) => {
    const answer = await post(initialize, accept);
    expect(answer.status, answer.body).toBe(200);
    expect(answer.headers["content-type"]).toMatch(/^application\/json/);
    expect(JSON.parse(answer.body)).toMatchObject({
      jsonrpc: "2.0",
      id: 1,
      result: { protocolVersion: "2025-11-25", serverInfo: expect.any(Object) },
    });
  });

  it("JSON-only Accept gets JSON even when progress is asked for (it could not read a stream)", async () => {
    const answer = await post(toolsListWithProgress, "application/json");
    expect(answer.status, answer.body).toBe(200);
    expect(answer.headers["content-type"]).toMatch(/^application\/json/);
    expect(JSON.parse(answer.body)).toMatchObject({ id: 2, result: { tools: expect.any(Array) } });
  });

  it("with progress asked for, a client that takes both gets an event stream", async () => {
    const answer = await post(toolsListWithProgress, "application/json, text/event-stream");
    expect(answer.status, answer.body).toBe(200);
    expect(answer.headers["content-type"]).toMatch(/^text\/event-stream/);
    expect(answer.body).toContain('"id":2');
  });

  it("SSE-only Accept gets an event stream", async () => {
    const answer = await post(initialize, "text/event-stream");
    expect(answer.status, answer.body).toBe(200);
    expect(answer.headers["content-type"]).toMatch(/^text\/event-stream/);
    const data = answer.body.split("\n").find((line) => line.startsWith("data: {"));
    expect(JSON.parse((data ?? "").slice("data: ".length))).toMatchObject({ id: 1, result: expect.any(Object) });
  });

  it.each(["text/html", "application/json;q=0, text/event-stream;q=0"])(
    "Accept %s names neither type → 406 saying what to send",
    async (accept) => {
      const answer = await post(initialize, accept);
      expect(answer.status).toBe(406);
      expect(JSON.parse(answer.body)).toMatchObject({
        jsonrpc: "2.0",
        error: { code: -32000, message: expect.stringContaining("Accept: application/json, text/event-stream") },
      });
    },
  );
});

describe("POST /mcp answer framing", () => {
  /** A 2026-07-28 tools/list: the per-request envelope and the headers that era requires. */
  const modernToolsList = JSON.stringify({
    jsonrpc: "2.0",
    id: 3,
    method: "tools/list",
    params: { _meta: modernMeta(false) },
  });

  it.each([
    ["2025-era initialize", initialize, {}],
    ["2026-07-28 tools/list", modernToolsList, { "mcp-protocol-version": MODERN, "mcp-method": "tools/list" }],
  ])("a JSON answer (%s) carries its Content-Length and is not sent chunked", async (_label, body, headers) => {
    const answer = await rawRequest(`${server.url}/mcp`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${token}`,
        accept: "application/json, text/event-stream",
        ...headers,
      },
      body,
    });
    expect(answer.status, answer.body).toBe(200);
    expect(answer.headers["content-type"]).toMatch(/^application\/json/);
    expect(answer.headers["transfer-encoding"]).toBeUndefined();
    expect(Number(answer.headers["content-length"])).toBe(Buffer.byteLength(answer.body));
    expect(JSON.parse(answer.body)).toMatchObject({ jsonrpc: "2.0", result: expect.any(Object) });
  });
});
