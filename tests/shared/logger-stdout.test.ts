/**
 * The logger's stdout as a real process writes it (src/shared/logger.ts stdoutDestination): each line is written in
 * its logging call, so every line, info and debug included, is there when the process is SIGKILLed right after it,
 * in order even while Node's thread pool is busy; a lone line arrives while the process runs; a process that exits
 * or ends on its own has written every line; a broken pipe ends logging without retries.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const logger = fileURLToPath(new URL("../../src/shared/logger.ts", import.meta.url));

interface Run {
  lines: Record<string, unknown>[];
  /** Lines read before the child ended. */
  linesWhileRunning: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs `body` in a child Node process with `log` (createLogger at trace, JSON to stdout) in scope. */
async function runChild(body: string, opts: { killAfterFirstLine?: boolean } = {}): Promise<Run> {
  const script =
    `import { createLogger } from ${JSON.stringify(logger)};\n` +
    `const log = createLogger({ level: "trace", name: "logger-stdout-test" });\n${body}`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let linesWhileRunning = 0;
  let running = true;
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    if (running) linesWhileRunning = stdout.split("\n").length - 1;
    if (opts.killAfterFirstLine && linesWhileRunning > 0) child.kill("SIGKILL");
  });
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const guard = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const [code, signal] = (await once(child, "exit")) as [number | null, NodeJS.Signals | null];
  running = false;
  if (child.stdout.readable) await once(child.stdout, "end").catch(() => undefined);
  clearTimeout(guard);
  const lines = stdout
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { lines, linesWhileRunning, code, signal, stderr };
}

describe("the logger's stdout (a real process)", () => {
  it("writes a lone info line while the process runs, without waiting for more lines or the exit", async () => {
    // The child logs one short line and then waits 15 s; the test kills it once the line has arrived.
    const run = await runChild(`log.info({ n: 1 }, "alone"); setTimeout(() => {}, 15_000);`, {
      killAfterFirstLine: true,
    });
    expect(run.signal, run.stderr).toBe("SIGKILL");
    expect(run.linesWhileRunning).toBe(1);
    expect(run.lines.map((l) => l.message)).toEqual(["alone"]);
  });

  it("writes every line at once, info and debug too: they survive a SIGKILL right after them", async () => {
    const run = await runChild(
      `for (let i = 0; i < 3; i++) log.child({ child: true }).info({ i }, "before");\n` +
        `log.debug("debug too");\n` +
        `log.error({ reason: "disk" }, "it broke");\n` +
        `process.kill(process.pid, "SIGKILL");`,
    );
    expect(run.signal, run.stderr).toBe("SIGKILL");
    expect(run.lines.map((l) => [l.message, l.severity])).toEqual([
      ["before", "INFO"],
      ["before", "INFO"],
      ["before", "INFO"],
      ["debug too", "DEBUG"],
      ["it broke", "ERROR"],
    ]);
  });

  it("writes every line, in order, even while Node's thread pool is busy (SIGKILL or exit)", async () => {
    // A line written through the thread pool (pino's default, an asynchronous fs.write) waits there behind busy
    // threads (DNS lookups, crypto, fs): a SIGKILL then loses it.
    const body = (end: string) =>
      `import { pbkdf2 } from "node:crypto";\n` +
      `for (let t = 0; t < 4; t++) pbkdf2("x", "y", 1_000_000, 32, "sha256", () => {});\n` +
      `for (let i = 0; i < 40; i++) log.info({ i, pad: "x".repeat(100) }, "before");\n` +
      `log.error("it broke");\n${end}`;
    for (const end of [`process.kill(process.pid, "SIGKILL");`, `process.exit(1);`]) {
      const run = await runChild(body(end));
      expect(run.signal ?? run.code, run.stderr).toBe(end.includes("SIGKILL") ? "SIGKILL" : 1);
      expect(run.lines.map((l) => l.i ?? l.message)).toEqual([...Array.from({ length: 40 }, (_, i) => i), "it broke"]);
    }
  });

  it("stops writing once stdout's reader is gone (EPIPE): no retry of the lost lines", async () => {
    // Counts the child's writes to fd 1 (sonic-boom writes through node:fs) after the first broken pipe.
    const script =
      `import fs from "node:fs";\n` +
      `const writeSync = fs.writeSync;\n` +
      `let broken = false, after = 0;\n` +
      `fs.writeSync = (fd, ...rest) => {\n` +
      `  if (fd === 1 && broken) after++;\n` +
      `  try { return writeSync(fd, ...rest); } catch (e) { if (fd === 1 && e.code === "EPIPE") broken = true; throw e; }\n` +
      `};\n` +
      `const { createLogger } = await import(${JSON.stringify(logger)});\n` +
      `const log = createLogger({ level: "trace", name: "logger-stdout-test" });\n` +
      `setTimeout(() => log.info("into a closed pipe"), 300);\n` +
      `setTimeout(() => process.stderr.write(JSON.stringify({ broken, after })), 1_000);\n`;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const guard = setTimeout(() => child.kill("SIGKILL"), 20_000);
    const [code] = (await once(child, "exit")) as [number | null];
    clearTimeout(guard);
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stderr)).toEqual({ broken: true, after: 0 });
  });

  it("has written every line when the process exits, whole and in order", async () => {
    const run = await runChild(
      `for (let i = 0; i < 5000; i++) log.info({ i, pad: "x".repeat(i % 300) }, "line");\nprocess.exit(0);`,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.lines).toHaveLength(5000);
    expect(run.lines.every((l, i) => l.i === i && l.message === "line")).toBe(true);
  });

  it("writes the lines of a process that ends on its own (nothing left to do), the last one included", async () => {
    const run = await runChild(`log.debug("first"); log.info("last");`);
    expect(run.code, run.stderr).toBe(0);
    expect(run.lines.map((l) => l.message)).toEqual(["first", "last"]);
  });
});
