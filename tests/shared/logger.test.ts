import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/shared/logger.ts";

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
});
