/**
 * A client that closes its connection before the server has read its request (it aborted its fetch, a laptop lid
 * closed) while the body is still arriving, or while the bearer check still waits on Redis. That is a normal event,
 * not a failure of the server: before session 20 the body read threw `aborted` (ECONNRESET) and the router logged it
 * at error level with a stack, "MCP request failed", and wrote a 500 to the closed connection. Now it is one info
 * line, "client left before its request was read", with the request id, the caller, where the client left and how
 * much of the body had been read; nothing is written. A client leaving while the SDK serves its call was already
 * quiet (the call's own `tool call` line, CANCELLED): checked here too, as the SDK adapter's "MCP request failed"
 * line is the other place this could have shown.
 *
 * The real server app (as start-server.ts wires it) over real HTTP, its Redis behind a TCP proxy this test can
 * freeze (the bearer check's Redis read then waits for as long as the test needs), raw `node:net` requests whose
 * socket is destroyed, the MCP SDK client for the calls that follow, and the sandbox as Airtable. What the server
 * has done is read from its own request object (the HTTP server's `request` event), not guessed by waiting.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type BaseInfo, type Sandbox } from "../../../src/sandbox/index.ts";
import { nowMs } from "../../../src/sandbox/recorder.ts";
import { createLogger } from "../../../src/shared/logger.ts";
import { callTool, resultText, signInAndConnect } from "../../e2e/helpers/mcp-client.ts";
import { startRedisProxy, type RedisProxy } from "../../e2e/helpers/redis-proxy.ts";
import { TestOAuthProvider } from "../../e2e/helpers/test-oauth-provider.ts";
import { createTestRedis, deleteKeys, testRedisUrl, uniquePrefix } from "../../helpers/redis.ts";
import { startServerHarness, type ServerHarness } from "../../support/admin-test-harness.ts";
import { rawMcpPost, toolsCallRequest, type RawEra } from "../../support/raw-mcp-post.ts";
import { MODERN } from "../../support/tasks-client.ts";

const LEFT_MESSAGE = "client left before its request was read";

const keyPrefix = uniquePrefix("client-left-before-read");
const redis = createTestRedis();
let proxy: RedisProxy;
let sandbox: Sandbox;
let h: ServerHarness;
let base: BaseInfo;
let userId: string;
let provider: TestOAuthProvider;
let client: Client;
/** Every line the server logged, parsed. */
const logs: Record<string, unknown>[] = [];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits (≤ 10 s) until `done()` holds; fails naming `what` otherwise. */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await sleep(20);
  expect(done(), what).toBe(true);
}

/** The server's log lines of the request whose X-Request-Id is `requestId`. */
const linesOf = (requestId: string) => logs.filter((line) => line.requestId === requestId);

/** An X-Request-Id of this test's own: the server keeps it, so its log lines can be told apart. */
const newRequestId = (label: string) => `${label}-${randomBytes(6).toString("hex")}`;

/** The server's own request object for `requestId`'s request, once the HTTP server has its headers. */
function serverSide(requestId: string): Promise<IncomingMessage> {
  return new Promise((resolve) => {
    const onRequest = (req: IncomingMessage) => {
      if (req.headers["x-request-id"] !== requestId) return;
      h.server.off("request", onRequest);
      resolve(req);
    };
    h.server.on("request", onRequest);
  });
}

const listArgs = () => ({ baseId: base.id, tableId: "Tasks" });

/** A `tools/call` of list_records as `era` sends it: its JSON body and the headers that go with it. */
const callRequest = (era: RawEra) => toolsCallRequest(era, "list_records", listArgs());

/**
 * A POST /mcp of `request` on a socket of its own (rawMcpPost) with a valid bearer and X-Request-Id `requestId`,
 * `sent` of its body written (possibly less than its Content-Length announces). Its socket, to destroy: a client
 * leaving without a word.
 */
const rawPost = (requestId: string, request: { headers: string[]; body: string; sent?: string }) =>
  rawMcpPost(`${h.url}/mcp`, provider.tokens()!.access_token, {
    ...request,
    headers: [`X-Request-Id: ${requestId}`, ...request.headers],
  });

/**
 * The log lines of `requestId`'s request once it has one, after 200 ms more (room for a second line, an error after
 * the info, to show); none of them at error level.
 */
async function quietLinesOf(requestId: string): Promise<Record<string, unknown>[]> {
  await until(() => linesOf(requestId).length > 0, "a log line for the request");
  await sleep(200);
  const lines = linesOf(requestId);
  expect(lines.filter((line) => line.level === "error")).toEqual([]);
  return lines;
}

/** The next call of the MCP SDK client answers as usual: the server is none the worse. */
async function nextCallAnswers(): Promise<void> {
  const next = await callTool(client, "list_records", listArgs());
  expect(next.isError, resultText(next)).toBeFalsy();
}

beforeAll(async () => {
  proxy = await startRedisProxy(testRedisUrl());
  sandbox = await startSandbox();
  const user = sandbox.addUser({ email: "leaves-early@example.com", name: "Leaving Early" });
  userId = user.id;
  base = sandbox.createBase(user.id, {
    name: "Left base",
    tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }], records: [{ Name: "one" }] }],
  });
  const logger = createLogger(
    { level: "info", name: "left" },
    { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
  );
  h = await startServerHarness({ sandbox, keyPrefix, redisUrl: proxy.url, logger });
  provider = new TestOAuthProvider({ sandboxUser: user.id });
  ({ client } = await signInAndConnect(`${h.url}/mcp`, provider));
  await nextCallAnswers(); // the schema is cached from here on
}, 30_000);

afterAll(async () => {
  proxy?.thaw();
  sandbox?.setFaults({ latencyMs: 0 });
  await client?.close();
  await h?.close();
  await proxy?.close();
  await sandbox?.close();
  await deleteKeys(redis, keyPrefix);
  redis.disconnect();
});

describe("a client that leaves before its request was read: one info line, no error, nothing written", () => {
  it("while the body is arriving (Content-Length larger than what was sent)", async () => {
    const requestId = newRequestId("left-in-body");
    const { body, headers } = callRequest("2025-11-25");
    const sent = body.slice(0, 40);
    const seen = serverSide(requestId);
    const { socket, received } = await rawPost(requestId, { headers, body, sent });
    const req = await seen;
    // Past the bearer check, the router has read what arrived and waits for the rest.
    await until(() => req.readableDidRead && req.readableLength === 0, "the router read the part that was sent");
    socket.destroy();

    const lines = await quietLinesOf(requestId);
    expect(lines).toEqual([
      expect.objectContaining({
        level: "info",
        severity: "INFO",
        message: LEFT_MESSAGE,
        requestId,
        userId,
        clientLeft: true,
        leftDuring: "body",
        bodyBytesRead: sent.length,
        contentLength: Buffer.byteLength(body),
      }),
    ]);
    expect(lines[0]).not.toHaveProperty("err");
    expect(received()).toBe(""); // no 500 (or anything) was written to the closed connection
    await nextCallAnswers();
  });

  it("while the bearer check waits on Redis (the whole request sent, the socket destroyed at once)", async () => {
    const requestId = newRequestId("left-in-auth");
    const { body, headers } = callRequest(MODERN);
    const seen = serverSide(requestId);
    // Nothing passes between the server and Redis until thaw: the bearer check's Redis read waits.
    proxy.freeze();
    let req: IncomingMessage;
    try {
      const { socket } = await rawPost(requestId, { headers, body });
      req = await seen; // the app has the request: its bearer check has started, and cannot end yet
      socket.destroy();
      await until(() => req.destroyed, "the server saw the connection close");
      expect(req.complete, "the whole body had arrived").toBe(true);
    } finally {
      proxy.thaw();
    }

    const lines = await quietLinesOf(requestId);
    expect(lines).toEqual([
      expect.objectContaining({
        level: "info",
        message: LEFT_MESSAGE,
        requestId,
        userId,
        clientLeft: true,
        leftDuring: "authentication",
        bodyBytesRead: 0,
        contentLength: Buffer.byteLength(body),
      }),
    ]);
    await nextCallAnswers();
  });
});

describe("a client that leaves while the SDK serves its call (the SDK adapter's path): no error line either", () => {
  for (const era of ["2025-11-25", MODERN] as const) {
    it(`${era}: the call's own line says it was cancelled`, async () => {
      sandbox.setFaults({ latencyMs: 3_000 });
      try {
        const requestId = newRequestId("left-in-sdk");
        const { body, headers } = callRequest(era);
        const before = nowMs();
        const { socket } = await rawPost(requestId, { headers, body });
        // The tool runs: its read has reached Airtable (answered 3 s from now).
        await until(
          () => sandbox.requests.some((r) => r.baseId === base.id && r.time >= before),
          "the call's read reached the sandbox",
        );
        socket.destroy();
        const lines = await quietLinesOf(requestId);
        expect(lines).toEqual([
          expect.objectContaining({
            level: "info",
            message: "tool call",
            tool: "list_records",
            errorType: "CANCELLED",
          }),
        ]);
      } finally {
        sandbox.setFaults({ latencyMs: 0 });
      }
      await nextCallAnswers();
    });
  }
});
