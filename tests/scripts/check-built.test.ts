/**
 * `npm run start:server` / `npm run start:worker` in a clone that was never built (real npm, a copy of the files a
 * clone has, no dist/): one sentence naming the missing file, `npm run build` and `npm start`, exit code 1 — not
 * Node's MODULE_NOT_FOUND with a stack trace (what a newcomer trying the README's "npm run start:server" got).
 * And with the build there, the hook lets the script run.
 */
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { repoRoot } from "../deploy/deploy-files.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** package.json and scripts/ of this clone, without dist/ (nothing else is needed before the hook's check). */
function unbuiltClone(): string {
  const dir = mkdtempSync(join(tmpdir(), "atmcp-unbuilt-"));
  dirs.push(dir);
  cpSync(join(repoRoot, "package.json"), join(dir, "package.json"));
  cpSync(join(repoRoot, "scripts"), join(dir, "scripts"), { recursive: true });
  return dir;
}

function npm(dir: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      "npm",
      args,
      { cwd: dir, env: { PATH: process.env.PATH ?? "", HOME: tmpdir(), npm_config_update_notifier: "false" } },
      (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : ((error as { code?: number }).code ?? 1), output: stdout + stderr }),
    );
  });
}

it.each([
  ["start:server", "dist/src/server/main.js"],
  ["start:worker", "dist/src/worker/main.js"],
])(
  "npm run %s without a build: the sentence, no stack trace",
  async (script, file) => {
    const result = await npm(unbuiltClone(), ["run", script]);
    expect(result.code).toBe(1);
    expect(result.output).toContain(
      `airtable-oauth-mcp: \`npm run ${script}\` runs the build in dist/, and ${file} is not there: run ` +
        "`npm run build` first, then run it again. To run from the sources without building, use `npm start`",
    );
    expect(result.output).not.toContain("MODULE_NOT_FOUND");
    expect(result.output).not.toMatch(/\n\s+at /);
  },
  60_000,
);

it("with the build there, the hook lets npm run start:server run it", async () => {
  const dir = unbuiltClone();
  mkdirSync(join(dir, "dist/src/server"), { recursive: true });
  writeFileSync(join(dir, "dist/src/server/main.js"), 'console.log("the built server ran");\n');
  const result = await npm(dir, ["run", "start:server"]);
  expect(result.code).toBe(0);
  expect(result.output).toContain("the built server ran");
}, 60_000);
