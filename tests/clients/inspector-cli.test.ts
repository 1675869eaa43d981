/**
 * The MCP Inspector's CLI (npm `@modelcontextprotocol/inspector`, `--cli`, v2: `--transport http` and
 * `--header "Authorization: Bearer …"`, modelcontextprotocol.io/docs/tools/inspector/cli) with a token obtained
 * exactly the way the README tells a user: this test runs the README's "Getting a token by hand" shell block
 * with bash, curl, openssl and node. Its only stand-ins are the user's hands: the browser step (the test opens
 * the printed URL in a headless browser, approves, signs in at the sandbox's Airtable) and pasting the code
 * from the address bar into the prompt (the test writes it to the script's stdin).
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { printServerOutputOnFailure, startClientLab, type ClientLab } from "./support/client-lab.ts";
import { signInWithBrowser } from "./support/oauth-wire.ts";
import { clientEnv, repoRoot, scratchDir, type CommandResult, type Scratch } from "./support/real-clients.ts";

let lab: ClientLab;
let scratch: Scratch;

beforeAll(async () => {
  lab = await startClientLab("inspector-cli");
  scratch = scratchDir("inspector-cli");
});

afterAll(async () => {
  await lab?.stop();
  scratch?.remove();
});

printServerOutputOnFailure(() => lab);

/** The shell block between the README's token-by-hand markers. */
function readmeRecipe(): string {
  const readme = readFileSync(path.join(repoRoot, "README.md"), "utf8");
  const section = /<!-- token-by-hand:start[^>]*-->\s*```sh\n([\s\S]*?)```\s*<!-- token-by-hand:end -->/.exec(readme);
  if (section === null) throw new Error("README.md has no token-by-hand block between its markers");
  return section[1] as string;
}

/**
 * Runs the recipe as a user would in a terminal: when it prints the URL to open, `browser` plays the user's
 * browser and returns what to paste at the prompt.
 */
function runRecipe(script: string, browser: (url: URL) => Promise<string>): Promise<CommandResult & { url?: URL }> {
  return new Promise((resolve, reject) => {
    // In the project directory, so `npx` runs the Inspector this project installed (devDependency), offline.
    const child = spawn("bash", ["-eo", "pipefail", "-c", script], {
      cwd: repoRoot,
      env: clientEnv(scratch, { npm_config_update_notifier: "false", npm_config_offline: "true" }),
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let url: URL | undefined;
    const timer = setTimeout(() => child.kill("SIGKILL"), 150_000);
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      const match = /Open in your browser: (\S+)/.exec(stdout);
      if (url === undefined && match !== null) {
        url = new URL(match[1] as string);
        browser(url).then(
          (code) => child.stdin.end(`${code}\n`),
          (error: unknown) => {
            stderr += `\n[browser step failed: ${String(error)}]`;
            child.kill("SIGKILL");
          },
        );
      }
    });
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ...(url !== undefined ? { url } : {}) });
    });
  });
}

describe("MCP Inspector CLI with a token obtained as the README says", () => {
  it(
    "the README's recipe signs in, and the Inspector CLI lists tools and calls list_bases",
    { timeout: 180_000 },
    async () => {
      // The README's placeholder URL becomes this deployment's.
      const recipe = readmeRecipe();
      expect(recipe).toMatch(/^MCP_URL=\S+/m);
      const script = recipe.replace(/^MCP_URL=\S+/m, `MCP_URL=${lab.mcpUrl}`);

      let landedOn: URL | undefined;
      const result = await runRecipe(script, async (url) => {
        const visit = await signInWithBrowser(url, lab.user.user.id);
        landedOn = visit.redirect;
        // What the user copies from the address bar.
        return visit.redirect.searchParams.get("code") ?? "";
      });
      const explain = `exit ${result.code}\nstdout:\n${result.stdout.slice(-4_000)}\nstderr:\n${result.stderr.slice(-4_000)}`;

      // The URL it printed is our /authorize with PKCE and our resource; the browser ended at its redirect URI.
      expect(result.url, explain).toBeDefined();
      expect(`${result.url!.origin}${result.url!.pathname}`).toBe(`${lab.publicUrl}/authorize`);
      expect(result.url!.searchParams.get("code_challenge_method")).toBe("S256");
      expect(result.url!.searchParams.get("resource")).toBe(lab.mcpUrl);
      expect(landedOn?.searchParams.get("iss")).toBe(lab.publicUrl);
      expect(`${landedOn?.origin}${landedOn?.pathname}`).toBe(result.url!.searchParams.get("redirect_uri"));

      expect(result.code, explain).toBe(0);
      // tools/list's JSON, then list_bases's result naming the user's base.
      expect(result.stdout, explain).toContain('"list_records"');
      expect(result.stdout, explain).toContain('"create_records"');
      expect(result.stdout, explain).toContain(lab.user.base.id);
      expect(result.stdout).toContain(lab.user.base.name);
      // The CLI lints the listed schemas and prints "Schema portability: 0 errors, N warnings across N tools" on
      // stderr when any schema constrains nothing; the user should see no such line after tools/list.
      expect(result.stderr, explain).not.toContain("Schema portability");
    },
  );
});
