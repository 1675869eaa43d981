/**
 * A real browser: Debian's Chromium (/usr/bin/chromium), headless, driven by playwright-core. A web MCP client
 * page (support/web-client-app.ts) on another loopback origin, allowed by the operator with ALLOWED_ORIGINS,
 * does everything with fetch: /mcp without a token (the browser preflights it; the script must be able to read
 * the 401's status and WWW-Authenticate), the metadata, DCR, then sends the tab to our consent page, where the test
 * clicks **Allow** by its label; the sandbox's Airtable signs the user in (its `sandbox_user` cookie is what its
 * sign-in leaves behind) and the redirects bring the tab back to the page's loopback /callback, whose script
 * exchanges the code and calls tools cross-origin with the token. Chromium enforces CORS on every step.
 *
 * Chromium comes from apt (`.ci/run` installs it). Without it this file is skipped, saying so.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type CDPSession, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, CHROMIUM_ARGS, haveChromium, warnIfNoChromium } from "./support/chromium.ts";
import { printServerOutputOnFailure, startClientLab, type ClientLab } from "./support/client-lab.ts";
import { startWebClientApp, type WebClientApp, type WebClientResult } from "./support/web-client-app.ts";

warnIfNoChromium("tests/clients/real-browser.test.ts");

let lab: ClientLab;
let app: WebClientApp;
let userDataDir: string;
let context: BrowserContext;

beforeAll(async () => {
  if (!haveChromium) return;
  app = await startWebClientApp();
  lab = await startClientLab("real-browser", { env: { ALLOWED_ORIGINS: app.origin } });
  app.configure({ mcpUrl: lab.mcpUrl, baseId: lab.user.base.id, tableId: lab.user.tableName });
  userDataDir = mkdtempSync(path.join(tmpdir(), "chromium-profile-"));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 60_000,
  });
}, 120_000);

afterAll(async () => {
  await context?.close();
  if (userDataDir !== undefined) rmSync(userDataDir, { recursive: true, force: true });
  await app?.close();
  await lab?.stop();
});

printServerOutputOnFailure(() => lab);

/** Records the CORS preflights Chromium sends (DevTools reports them as OPTIONS requests initiated by "preflight"). */
async function recordPreflights(page: Page): Promise<{ url: string; method: string }[]> {
  const preflights: { url: string; method: string }[] = [];
  const cdp: CDPSession = await context.newCDPSession(page);
  cdp.on("Network.requestWillBeSent", (event) => {
    if (event.initiator.type === "preflight") preflights.push({ url: event.request.url, method: event.request.method });
  });
  await cdp.send("Network.enable");
  return preflights;
}

describe.skipIf(!haveChromium)("a web MCP client in real Chromium, on another origin", () => {
  it(
    "preflight, a readable 401, sign-in through our consent page and the sandbox, then tool calls",
    { timeout: 120_000 },
    async () => {
      // The user is signed in at "Airtable" (the sandbox): its sign-in state is this cookie.
      await context.addCookies([{ name: "sandbox_user", value: lab.user.user.id, url: lab.sandbox.url }]);
      const page = await context.newPage();
      const preflights = await recordPreflights(page);
      const consoleErrors: string[] = [];
      page.on("console", (message) => {
        if (message.type() === "error") consoleErrors.push(message.text());
      });

      await page.goto(`${app.origin}/`);
      // The page's script registered and sent the tab to our consent page (or published the error that stopped it).
      await Promise.race([
        page.waitForURL((url) => url.pathname === "/authorize", { timeout: 30_000 }),
        page.waitForFunction("window.__result !== undefined", undefined, { timeout: 30_000 }),
      ]);
      if (new URL(page.url()).pathname !== "/authorize") {
        const seen = await page.evaluate("JSON.stringify(window.__result ?? null)");
        throw new Error(
          `the page did not reach /authorize; it saw ${String(seen)}\nconsole: ${consoleErrors.join("\n")}`,
        );
      }
      expect(await page.getByRole("heading").first().textContent()).toContain("Web MCP client");
      await page.getByRole("button", { name: "Allow" }).click();

      // Consent → sandbox Airtable → /oauth/callback → back to the page's loopback /callback.
      await page.waitForURL((url) => url.origin === app.origin && url.pathname === "/callback", { timeout: 30_000 });
      await page.waitForFunction("window.__result !== undefined", undefined, { timeout: 30_000 });
      const result = (await page.evaluate("window.__result")) as WebClientResult;
      const explain = `${JSON.stringify(result, null, 2)}\nconsole: ${consoleErrors.join("\n")}`;
      expect(result.error, explain).toBeUndefined();

      // The 401 was readable by the script: status and challenge (Access-Control-Expose-Headers).
      expect(result.unauthenticated?.status, explain).toBe(401);
      expect(result.unauthenticated?.wwwAuthenticate, explain).toContain(
        `resource_metadata="${lab.publicUrl}/.well-known/oauth-protected-resource/mcp"`,
      );
      expect(result.registered?.status, explain).toBe(201);
      expect(result.token?.status, explain).toBe(200);
      expect(result.token?.hasRefreshToken).toBe(true);
      expect(result.initialize?.status, explain).toBe(200);
      expect(result.toolsList?.names, explain).toEqual(expect.arrayContaining(["list_bases", "list_records"]));
      expect(result.toolCall?.status, explain).toBe(200);
      expect(result.toolCall?.isError, explain).toBeFalsy();
      expect(result.toolCall?.recordNames, explain).toEqual(lab.recordNames());

      // Chromium preflighted /mcp (Authorization, Content-Type: application/json) and /register.
      expect(preflights.every((p) => p.method === "OPTIONS")).toBe(true);
      const preflighted = preflights.map((p) => new URL(p.url).pathname);
      expect(preflighted, JSON.stringify(preflights)).toContain("/mcp");
      expect(preflighted, JSON.stringify(preflights)).toContain("/register");
      await page.close();
    },
  );
});
