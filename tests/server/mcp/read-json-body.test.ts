/**
 * readJsonBody (src/server/mcp/read-json-body.ts) over a real Node HTTP server. It reads the body whatever state the
 * request stream is in when it starts, as the `for await` it replaced did (that read with read(), which a paused
 * stream answers too); a body past the limit and a client that leaves mid-body end as they did with it (these two
 * pass on the old code as well: they guard the rewrite's outcomes).
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

/** Sends a chunked POST of `chunks` over a raw socket (no Content-Length), then ends it or, with `leave`, closes it. */
async function sendChunked(port: number, chunks: string[], leave: boolean): Promise<string> {
  const { connect } = await import("node:net");
  const socket = connect(port, "127.0.0.1");
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  socket.write("POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
  for (const chunk of chunks) socket.write(`${Buffer.byteLength(chunk).toString(16)}\r\n${chunk}\r\n`);
  let answer = "";
  socket.on("data", (data: Buffer) => (answer += data.toString()));
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.on("error", () => {});
  if (leave) socket.destroy();
  else socket.write("0\r\n\r\n");
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 1_000))]);
  socket.destroy();
  return answer;
}

/** A server handing each request to readJsonBody (limit 1,000 bytes); answers 200 with what it read. */
async function startReader(): Promise<{ port: number; results: JsonBodyResult[] }> {
  const results: JsonBodyResult[] = [];
  server = createServer((req, res) => {
    void readJsonBody(req as Request, 1_000).then((read) => {
      results.push(read);
      res.end(read.kind);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as AddressInfo).port, results };
}

it("a body past the limit without Content-Length: answered too_large up to 4 times the limit, cut off beyond", async () => {
  const { port, results } = await startReader();
  const over = await sendChunked(port, ["x".repeat(600), "x".repeat(600)], false);
  expect(results.at(-1)).toEqual({ kind: "too_large" });
  expect(over).toContain("too_large"); // read to its end, so the client reads the answer
  await sendChunked(
    port,
    Array.from({ length: 6 }, () => "x".repeat(900)),
    false,
  );
  expect(results.at(-1)).toEqual({ kind: "too_large" });
});

it("a client that leaves mid-body is client_left, with the bytes read so far", async () => {
  const { port, results } = await startReader();
  await sendChunked(port, ['{"a":"', "x".repeat(100)], true);
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(results.at(-1)).toMatchObject({ kind: "client_left", readStarted: true });
});
