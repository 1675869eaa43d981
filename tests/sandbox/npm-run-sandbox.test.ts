/**
 * `npm run sandbox` (src/sandbox/main.ts, a real process) on a port already taken — most often a sandbox a newcomer
 * started earlier in another terminal — and with a PORT that is not a number: one sentence on stderr saying what is
 * wrong and what to do, exit code 1, instead of Node's EADDRINUSE or an Error with a stack trace.
 */
import { execFile } from "node:child_process";
import { once } from "node:events";
import { createServer, type Server } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { compileCacheEnv } from "../helpers/compile-cache.ts";

const sandboxMain = fileURLToPath(new URL("../../src/sandbox/main.ts", import.meta.url));
let taken: Server;
let port: number;

beforeAll(async () => {
  taken = createServer().listen(0, "127.0.0.1");
  await once(taken, "listening");
  port = (taken.address() as { port: number }).port;
});
afterAll(() => {
  taken?.close();
});

function runSandbox(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [sandboxMain],
      { env: { PATH: process.env.PATH ?? "", ...compileCacheEnv, ...env }, timeout: 30_000 },
      (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : ((error as { code?: number }).code ?? null), stdout, stderr }),
    );
  });
}

it("a taken PORT: says it is in use, that it may be a sandbox already running, and the other port to use", async () => {
  const { code, stdout, stderr } = await runSandbox({ PORT: String(port) });
  expect(code).toBe(1);
  expect(stderr).toContain(
    `The Airtable sandbox could not start: port ${port} (PORT) on 127.0.0.1 is already in use: another process ` +
      "listens there, perhaps a sandbox started earlier",
  );
  expect(stderr).toContain(`PORT=${port + 1} npm run sandbox`);
  expect(stderr).not.toMatch(/\n\s+at /);
  expect(stdout).not.toContain("listening on");
}, 60_000);

it("PORT=abc: names PORT and the value, no stack trace", async () => {
  const { code, stderr } = await runSandbox({ PORT: "abc" });
  expect(code).toBe(1);
  expect(stderr).toBe('The Airtable sandbox could not start: PORT must be a non-negative number (got "abc").\n');
}, 60_000);
