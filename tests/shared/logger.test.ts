import { execFile } from "node:child_process";
import { Writable } from "node:stream";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/shared/logger.ts";
import { testRedisUrl } from "../helpers/redis.ts";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, stream };
}

describe("createLogger", () => {
  it("writes JSON lines with Cloud Logging's severity and message fields", () => {
    const { lines, stream } = capture();
    const logger = createLogger({ level: "info" }, stream);
    logger.warn({ baseId: "app1" }, "slow down");
    expect(lines[0]).toMatchObject({ severity: "WARNING", message: "slow down", baseId: "app1" });
  });

  it("never writes token values", () => {
    const { lines, stream } = capture();
    const logger = createLogger({ level: "info" }, stream);
    logger.info(
      {
        accessToken: "secret-a",
        tokens: { refresh_token: "secret-r" },
        req: { headers: { authorization: "Bearer secret-h" } },
      },
      "x",
    );
    expect(JSON.stringify(lines)).not.toMatch(/secret-/);
  });

  it("never writes the arguments of a failed Redis command (an operation's records, token hashes)", async () => {
    const { Redis } = await import("ioredis");
    const { lines, stream } = capture();
    const logger = createLogger({ level: "info" }, stream);
    // A real ReplyError from a real Redis: ioredis attaches the command and every argument to it.
    const redis = new Redis(testRedisUrl(), { lazyConnect: true });
    await redis.connect();
    const error = await redis.call("HSET", "not-enough-args-PIIMARKER", "customer PIIMARKER").then(
      () => undefined,
      (e: unknown) => e,
    );
    redis.disconnect();
    expect(error).toBeInstanceOf(Error);
    expect((error as { command?: { args?: unknown[] } }).command?.args?.length).toBe(2);
    logger.error({ err: error }, "tool failed unexpectedly");
    const line = lines[0] as { err: { message: string; command: unknown } };
    expect(JSON.stringify(lines)).not.toMatch(/PIIMARKER/);
    expect(line.err.command).toEqual({ name: "HSET", args: "[2 arguments omitted]" });
    expect(line.err.message).toMatch(/wrong number of arguments/i);
  });

  it("pretty (npm run dev): one readable line per entry, its fields, but not Cloud Logging's severity copy", async () => {
    const logger = new URL("../../src/shared/logger.ts", import.meta.url).href;
    const script =
      `const { createLogger } = await import(${JSON.stringify(logger)});` +
      `createLogger({ level: "info", pretty: true }).warn({ baseId: "app1" }, "slow down");`;
    const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], {
      env: { PATH: process.env.PATH ?? "", NO_COLOR: "1" },
    });
    expect(stdout).toContain("slow down");
    expect(stdout).toContain('baseId: "app1"');
    expect(stdout).not.toContain("severity");
  });
});
