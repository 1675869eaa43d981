/**
 * The package's command line (src/cli.ts, what `npx airtable-oauth-mcp …` and scripts/cli.cjs run) given a command
 * it does not know: exit code 2, the usage, and the command a typo most likely meant, so that `stdoi` in a client's
 * server configuration is told `stdio` (a newcomer's slip; the usage alone left the reader to spot it). A real Node
 * process; nothing else is started (the unknown command is refused before any configuration is read).
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { compileCacheEnv } from "../helpers/compile-cache.ts";

const CLI = fileURLToPath(new URL("../../src/cli.ts", import.meta.url));

function runCli(arg: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, arg],
      { env: { PATH: process.env.PATH ?? "", ...compileCacheEnv } },
      (error, _stdout, stderr) =>
        resolve({ code: error === null ? 0 : ((error as { code?: number }).code ?? null), stderr }),
    );
  });
}

describe("an unknown command", () => {
  it.each([
    ["stdoi", "stdio"],
    ["sevrer", "server"],
    ["Start", "start"],
  ])("%s is told the command it most likely meant (%s), then the usage", async (typo, meant) => {
    const { code, stderr } = await runCli(typo);
    expect(code).toBe(2);
    expect(stderr).toContain(`Unknown command "${typo}". Did you mean "${meant}"?`);
    expect(stderr).toContain("Usage: airtable-oauth-mcp <command>");
  });

  it("far from every command, is only called unknown (a near one beside it still gets its guess)", async () => {
    const far = await runCli("banana");
    expect(far.code).toBe(2);
    expect(far.stderr).toContain('Unknown command "banana".\n');
    expect(far.stderr).not.toContain("Did you mean");
    expect((await runCli("wroker")).stderr).toContain('Unknown command "wroker". Did you mean "worker"?');
  });
});
