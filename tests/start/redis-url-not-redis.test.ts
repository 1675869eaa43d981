/**
 * A REDIS_URL where something other than Redis answers, as `npm start` shows it (a real process, `node src/main.ts`,
 * against a real HTTP server): a newcomer's REDIS_URL naming the server's own PORT or the sandbox's 8787. ioredis
 * cannot read the `HTTP/1.1 400` that comes back, reconnects and fails again several times a second; each failure
 * was logged with a stack and ioredis's "Please report this" (dozens of lines in ten seconds, naming no setting).
 * Now one sentence names REDIS_URL, the address and what to set, and the process keeps waiting for Redis.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { compileCacheEnv } from "../helpers/compile-cache.ts";

const main = fileURLToPath(new URL("../../src/main.ts", import.meta.url));
let web: Server;
let webPort: number;

beforeAll(async () => {
  web = createServer((_request, response) => response.end("a web page"));
  web.listen(0, "127.0.0.1");
  await once(web, "listening");
  webPort = (web.address() as { port: number }).port;
});
afterAll(() => {
  web?.close();
});

it("REDIS_URL at a web server: one sentence naming REDIS_URL and the fix, no stack trace, no 'Please report this'", async () => {
  const child = spawn(process.execPath, [main], {
    env: {
      PATH: process.env.PATH ?? "",
      ...compileCacheEnv,
      REDIS_URL: `redis://127.0.0.1:${webPort}`,
      PUBLIC_URL: "http://localhost:1",
      PORT: "0",
      AIRTABLE_CLIENT_ID: "not-redis-test",
      TOKEN_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  // The first failure, however long the start takes on a loaded machine (~5 s at load 12), then long enough for
  // ioredis to reconnect and fail many times more (it retried within 50 ms to 2 s each time).
  const startedBy = Date.now() + 45_000;
  while (!output.includes("Something other than Redis answers") && Date.now() < startedBy) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await new Promise((resolve) => setTimeout(resolve, 6_000));
  child.kill("SIGKILL");
  await once(child, "exit");

  const sentence =
    `Something other than Redis answers at REDIS_URL (127.0.0.1:${webPort}): it looks like a web server (HTTP), ` +
    "not Redis. Set REDIS_URL to your Redis (redis://127.0.0.1:6379 for one on this machine, its default port; " +
    "not the server's PORT or the sandbox's 8787); retrying";
  expect(output).toContain(sentence);
  // Once, not at every reconnect.
  expect(output.split("Something other than Redis answers").length - 1).toBe(1);
  expect(output).not.toContain("Please report this");
  expect(output).not.toContain('"stack"');
  expect(output).not.toMatch(/\n\s+at /);
  // The key check still waits for Redis, saying so (it will answer once REDIS_URL is fixed and the process restarted).
  expect(output).toContain("waiting for Redis (REDIS_URL)");
}, 60_000);
