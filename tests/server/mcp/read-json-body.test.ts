/**
 * readJsonBody (src/server/mcp/read-json-body.ts) over a real Node HTTP server: it reads the body whatever state the
 * request stream is in when it starts, as the `for await` it replaced did (that read with read(), which a paused
 * stream answers too).
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Request } from "express";
import { afterEach, expect, it } from "vitest";
import { readJsonBody, type JsonBodyResult } from "../../../src/server/mcp/read-json-body.ts";

let server: Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  server = undefined;
});

/** Posts `body` to a server that hands the request to `before`, then to readJsonBody; answers what it read. */
async function readVia(before: (req: IncomingMessage) => void, body: string): Promise<JsonBodyResult> {
  let read: Promise<JsonBodyResult> | undefined;
  server = createServer((req, res) => {
    before(req);
    read = readJsonBody(req as Request, 1_000);
    void read.then(() => res.end("ok"));
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const answered = await fetch(`http://127.0.0.1:${port}/mcp`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
    signal: AbortSignal.timeout(3_000),
  });
  expect(answered.status).toBe(200);
  return read!;
}

it("reads a body whose stream was paused before the read began", async () => {
  const read = await readVia((req) => req.pause(), JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }));
  expect(read).toEqual({ kind: "ok", body: { jsonrpc: "2.0", id: 1, method: "ping" } });
});

it("reads a body as it comes, and refuses one past the limit", async () => {
  expect(await readVia(() => {}, '{"a":1}')).toEqual({ kind: "ok", body: { a: 1 } });
  expect(await readVia(() => {}, JSON.stringify({ a: "x".repeat(2_000) }))).toEqual({ kind: "too_large" });
});
