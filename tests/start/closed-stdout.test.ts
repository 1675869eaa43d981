/**
 * `npm start` whose stdout is a pipe that closes (a log collector that died, `npm start | head`), as a real
 * process: it keeps serving, and stops cleanly on SIGTERM. It used to hang for good on its next log line:
 * sonic-boom 4's flushSync retried EPIPE every 100 ms forever, so /healthz stopped answering and SIGTERM was
 * ignored (the logger now writes through this package's own sonic-boom 5, which gives up, and ends logging on
 * EPIPE; main.ts ignores the banner's EPIPE).
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";
import { freePort } from "../e2e/helpers/server-process.ts";
import { compileCacheEnv } from "../helpers/compile-cache.ts";

const main = fileURLToPath(new URL("../../src/main.ts", import.meta.url));
const dataDir = mkdtempSync(path.join(tmpdir(), "closed-stdout-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

it("keeps serving after its stdout pipe closes, logs and all, and stops on SIGTERM", async () => {
  const port = await freePort();
  const child = spawn(process.execPath, [main], {
    env: { PATH: process.env.PATH ?? "", ...compileCacheEnv, PORT: String(port), DATA_DIR: dataDir },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    // The first log line arrives; then the reader goes away, as `head` does.
    await once(child.stdout, "data");
    child.stdout.destroy();
    const url = `http://127.0.0.1:${port}`;
    let healthy = false;
    for (let i = 0; i < 300 && !healthy; i++) {
      healthy = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) }).then(
        (res) => res.ok,
        () => false,
      );
      if (!healthy) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(healthy, stderr).toBe(true);
    // Requests that log (a registration logs at info) still get their answers, and the server stays up.
    for (let i = 0; i < 3; i++) {
      const registered = await fetch(`${url}/register`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          redirect_uris: [`http://127.0.0.1:${9000 + i}/callback`],
          token_endpoint_auth_method: "none",
        }),
        signal: AbortSignal.timeout(5_000),
      });
      expect(registered.status).toBe(201);
    }
    expect((await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5_000) })).status).toBe(200);

    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    const [code, signal] = await exited;
    clearTimeout(timer);
    expect({ code, signal }, stderr).toEqual({ code: 0, signal: null });
  } finally {
    child.kill("SIGKILL");
  }
}, 120_000);
