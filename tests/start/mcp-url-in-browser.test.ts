/**
 * The URL the demo's banner prints (`http://localhost:PORT/mcp`), opened in a real browser (Debian's Chromium,
 * headless, driven by playwright-core), as a newcomer does first: it used to show the JSON-RPC 405 an MCP client
 * gets (`{"jsonrpc":"2.0","error":{…"Method not allowed: this server is stateless; use POST /mcp"}…}`); it shows a
 * page saying this is the MCP endpoint, to add the URL to an MCP client, and links to the server's `/`. The status
 * stays 405 with `Allow: POST`, and an MCP client's GET (Accept: text/event-stream) still gets the JSON-RPC 405.
 * The demo runs in this process (startEmbedded, as `npm start` with no configuration). Without Chromium the browser
 * half is skipped, saying so; the client half runs regardless.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { loadConfig } from "../../src/shared/config.ts";
import { createLogger } from "../../src/shared/logger.ts";
import { startEmbedded, type RunningEmbedded } from "../../src/start/embedded.ts";
import { CHROMIUM, CHROMIUM_ARGS, haveChromium, warnIfNoChromium } from "../clients/support/chromium.ts";
import { freePort } from "../e2e/helpers/server-process.ts";

warnIfNoChromium("tests/start/mcp-url-in-browser.test.ts");

const dataDir = mkdtempSync(path.join(tmpdir(), "mcp-url-browser-"));
let running: RunningEmbedded;
let browser: Browser | undefined;

beforeAll(async () => {
  const port = await freePort();
  const config = loadConfig({ PORT: String(port), DATA_DIR: dataDir }, "start");
  running = await startEmbedded(config, {
    logger: createLogger({ level: "warn", name: "embedded" }, { write: () => undefined }),
    print: () => undefined,
  });
  if (haveChromium) {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
  }
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await running?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

it.skipIf(!haveChromium)(
  "Chromium opening the printed MCP URL sees a page saying what it is for, linking to the server's /",
  async () => {
    const page = await browser!.newPage();
    try {
      const response = await page.goto(running.mcpUrl);
      expect(response?.status()).toBe(405);
      expect(response?.headers()["allow"]).toBe("POST");
      expect(response?.headers()["content-type"]).toMatch(/^text\/html/);
      const text = await page.locator("body").innerText();
      expect(text).toContain("This is an MCP endpoint");
      expect(text).toMatch(/Add it \(the URL in the address bar\) to your MCP client/);
      expect(text).toContain('"Connecting clients"');
      expect(text).not.toContain("jsonrpc");
      // The link leads to the server's own page, which names the URL to add.
      await page.getByRole("link", { name: "About this server" }).click();
      await page.waitForURL(new URL("/", running.mcpUrl).href);
      expect(await page.locator("body").innerText()).toContain(`Add ${running.mcpUrl} to your MCP client`);
    } finally {
      await page.close();
    }
  },
  60_000,
);

it("an MCP client's GET (Accept: text/event-stream) still gets the JSON-RPC 405", async () => {
  const res = await fetch(running.mcpUrl, {
    headers: { accept: "text/event-stream", "mcp-protocol-version": "2025-11-25" },
  });
  expect(res.status).toBe(405);
  expect(res.headers.get("allow")).toBe("POST");
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expect(await res.json()).toEqual({
    jsonrpc: "2.0",
    error: { code: -32000, message: "Method not allowed: this server is stateless; use POST /mcp" },
    id: null,
  });
});
