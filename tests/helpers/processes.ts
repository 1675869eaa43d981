import { spawn } from "node:child_process";

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a TypeScript file in its own Node process (type stripping) and collects its output. */
export function runNodeScript(script: string, env: Record<string, string>, timeoutMs = 60_000): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The last JSON line a fixture printed. */
export function lastJsonLine<T>(result: ProcessResult): T {
  const line = result.stdout.trim().split("\n").at(-1);
  if (!line) throw new Error(`process printed nothing (exit ${result.code}); stderr:\n${result.stderr}`);
  return JSON.parse(line) as T;
}
