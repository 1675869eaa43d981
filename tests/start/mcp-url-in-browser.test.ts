/**
 * The URL the demo's banner prints (`http://localhost:PORT/mcp`), opened in a real browser (Debian's Chromium,
 * headless, driven by playwright-core), as a newcomer does first: it used to show the JSON-RPC 405 an MCP client
 * gets (`{"jsonrpc":"2.0","error":{…"Method not allowed: this server is stateless; use POST /mcp"}…}`); it shows a
 * page saying this is the MCP endpoint, to add the URL to an MCP client, and links to the server's `/`. The status
 * stays 405 with `Allow: POST`, and an MCP client's GET (Accept: text/event-stream) still gets the JSON-RPC 405.
 * The demo runs in this process (startEmbedded, as `npm start` with no configuration). Without Chromium the browser
 * half is skipped, saying so; the client half runs regardless.
 */
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { CHROMIUM, CHROMIUM_ARGS, haveChromium, warnIfNoChromium } from "../clients/support/chromium.ts";
import { useEmbeddedDemo } from "./support/demo.ts";

warnIfNoChromium("tests/start/mcp-url-in-browser.test.ts");

const demo = useEmbeddedDemo("mcp-url-browser-");
let browser: Browser | undefined;

beforeAll(async () => {
  if (haveChromium) {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
  }
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

it.skipIf(!haveChromium)(
  "Chromium opening the printed MCP URL sees a page saying what it is for, linking to the server's /",
  async () => {
    const page = await browser!.newPage();
    try {
      const response = await page.goto(demo().mcpUrl);
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
      await page.waitForURL(new URL("/", demo().mcpUrl).href);
      expect(await page.locator("body").innerText()).toContain(`Add ${demo().mcpUrl} to your MCP client`);
    } finally {
      await page.close();
    }
  },
  60_000,
);

it("an MCP client's GET (Accept: text/event-stream) still gets the JSON-RPC 405", async () => {
  const res = await fetch(demo().mcpUrl, {
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
