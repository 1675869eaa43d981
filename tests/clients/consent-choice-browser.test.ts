/**
 * Signing in read-only from a normal MCP client, in a real browser (Debian's Chromium, headless, driven by
 * playwright-core). The client is the MCP TypeScript SDK's own: it connects, gets the 401, and asks for what the
 * challenge names (MCP 2025-11-25 scope selection: the challenge's `scope` first), which is all six scopes; the SDK
 * then opens the authorization URL, here in Chromium, where the person unticks the write scopes on our consent page
 * (or presses **Read only**) and clicks **Allow**; the sandbox's Airtable signs them in (its `sandbox_user` cookie),
 * and the browser lands on the client's loopback listener, whose code the SDK exchanges.
 *
 * Then: the token's scope is the reads, Airtable was asked for the Airtable scopes of all six the client requested
 * (the server keeps one Airtable token per user for all of their clients; the person's choice narrows only our
 * tokens), a read works, a write is answered 403 insufficient_scope naming records:write, and a step-up sign-in for
 * the challenge's scope adds the write back. Chromium comes from apt (`.ci/run` installs it); without it this file is skipped, saying so.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { auth, UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, CHROMIUM_ARGS, haveChromium, warnIfNoChromium } from "./support/chromium.ts";
import { printServerOutputOnFailure, startClientLab, type ClientLab } from "./support/client-lab.ts";
import { listenForRedirect, type RedirectListener } from "./support/loopback-redirect.ts";
import { recordNamesOf } from "./support/mcp-wire.ts";
import { connectSdkClient, ProfileOAuthProvider } from "./support/sdk-profile.ts";

warnIfNoChromium("tests/clients/consent-choice-browser.test.ts");

let lab: ClientLab;
let listener: RedirectListener;
let userDataDir: string;
let context: BrowserContext;
const clients: Client[] = [];

beforeAll(async () => {
  if (!haveChromium) return;
  lab = await startClientLab("consent-choice");
  await lab.deployment.addWorker(); // the write after the step-up runs as an operation
  listener = await listenForRedirect();
  userDataDir = mkdtempSync(path.join(tmpdir(), "chromium-profile-"));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 60_000,
  });
  // The user is signed in at "Airtable" (the sandbox): its sign-in state is this cookie.
  await context.addCookies([{ name: "sandbox_user", value: lab.user.user.id, url: lab.sandbox.url }]);
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await context?.close();
  if (userDataDir !== undefined) rmSync(userDataDir, { recursive: true, force: true });
  await listener?.close();
  await lab?.stop();
});

printServerOutputOnFailure(() => lab);

const WRITE_LABELS = [
  "Create, change and delete records",
  "Create and change tables and fields",
  "Add comments to records",
];
const READS = "records:read schema:read comments:read";

/**
 * The SDK client's app, whose "open the browser" is Chromium: the person's part on our consent page is `consent`;
 * the rest (Airtable, the redirects) the browser does by itself until it reaches the app's loopback listener.
 */
class ChromiumProfile extends ProfileOAuthProvider {
  consent: (page: Page) => Promise<void> = async () => {
    throw new Error("no consent step set");
  };
  /** The scope of each authorize request the browser sent to (sandbox) Airtable. */
  readonly airtableScopes: string[] = [];

  constructor(name: string) {
    super({
      sandboxUser: lab.user.user.id,
      redirectUrl: listener.redirectUri("127.0.0.1", "/callback"),
      clientMetadata: {
        client_name: name,
        redirect_uris: [listener.redirectUri("127.0.0.1", "/callback")],
        token_endpoint_auth_method: "none",
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
      },
    });
  }

  override async redirectToAuthorization(url: URL): Promise<void> {
    this.authorizationUrls.push(url);
    const page = await context.newPage();
    page.on("request", (request) => {
      const target = new URL(request.url());
      if (target.origin === new URL(lab.sandbox.url).origin && target.pathname === "/oauth2/v1/authorize") {
        this.airtableScopes.push(target.searchParams.get("scope") ?? "");
      }
    });
    try {
      await page.goto(url.href);
      expect(new URL(page.url()).pathname).toBe("/authorize");
      this.consentPages.push(await page.content());
      await this.consent(page);
      // Chromium also asks the listener for /favicon.ico: the redirect is the request to /callback.
      let back = await listener.next(30_000);
      while (back.pathname !== "/callback") back = await listener.next(30_000);
      this.returns.push(back);
    } finally {
      await page.close();
    }
  }
}

/** What an SDK-based client does on first use: connect → 401 → browser → code → exchange → connect again. */
async function signInLikeAClient(provider: ChromiumProfile, name: string): Promise<Client> {
  const first = new Client({ name, version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(lab.mcpUrl), { authProvider: provider });
  await expect(first.connect(transport)).rejects.toBeInstanceOf(UnauthorizedError);
  await transport.finishAuth(provider.lastCode());
  const client = await connectSdkClient(lab.mcpUrl, provider, name);
  clients.push(client);
  return client;
}

/**
 * A client holding `token` as it is (no sign-in of its own), its HTTP answers recorded: what the server says to a
 * call this token may not make.
 */
async function clientWithToken(token: string): Promise<{ client: Client; answers: HttpAnswer[] }> {
  const answers: HttpAnswer[] = [];
  const client = new Client({ name: "token holder", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(lab.mcpUrl), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        answers.push({ status: res.status, wwwAuthenticate: res.headers.get("www-authenticate") });
        return res;
      },
    }),
  );
  clients.push(client);
  return { client, answers };
}

interface HttpAnswer {
  status: number;
  wwwAuthenticate: string | null;
}

function createArgs(name: string) {
  return { baseId: lab.user.base.id, tableId: lab.user.tableName, records: [{ fields: { Name: name } }] };
}

describe.skipIf(!haveChromium)("narrowing the sign-in on the consent page, in real Chromium", () => {
  it(
    "unticking the write scopes: a read-only token; reads work, a write gets 403 insufficient_scope; step-up adds it",
    { timeout: 120_000 },
    async () => {
      const provider = new ChromiumProfile("Read-only agent");
      provider.consent = async (page) => {
        for (const label of WRITE_LABELS) {
          const box = page.getByRole("checkbox", { name: label });
          expect(await box.isChecked()).toBe(true); // ticked by default
          await box.uncheck();
        }
        await page.getByRole("button", { name: "Allow", exact: true }).click();
      };
      const client = await signInLikeAClient(provider, "read-only-agent");

      // The SDK asked for all six (the challenge's scope); the person granted the reads, and the token says so.
      expect(provider.authorizationUrls[0]?.searchParams.get("scope")?.split(" ")).toHaveLength(6);
      expect(provider.store.tokens?.scope).toBe(READS);
      // Airtable was asked for what the client requested, writes included: the user's one Airtable token also serves
      // their other clients, which a read-only Airtable token would leave unable to write.
      expect(provider.airtableScopes.map((s) => s.split(" ").sort())).toEqual([
        [
          "data.recordComments:read",
          "data.recordComments:write",
          "data.records:read",
          "data.records:write",
          "schema.bases:read",
          "schema.bases:write",
        ],
      ]);

      const read = (await client.callTool({
        name: "list_records",
        arguments: { baseId: lab.user.base.id, tableId: lab.user.tableName },
      })) as CallToolResult;
      expect(read.isError, JSON.stringify(read.content)).toBeFalsy();
      expect(recordNamesOf(read)).toEqual(lab.recordNames());

      const before = lab.recordNames();
      const holder = await clientWithToken(provider.store.tokens?.access_token as string);
      await expect(
        holder.client.callTool({ name: "create_records", arguments: createArgs("Refused") }),
      ).rejects.toThrow(/insufficient_scope/);
      const refused = holder.answers.at(-1) as HttpAnswer;
      expect(refused.status).toBe(403);
      const challenge = refused.wwwAuthenticate ?? "";
      expect(challenge).toContain('error="insufficient_scope"');
      const stepUpScope = /scope="([^"]*)"/.exec(challenge)?.[1] ?? "";
      expect(stepUpScope.split(" ").sort()).toEqual([...READS.split(" "), "records:write"].sort());
      expect(lab.recordNames()).toEqual(before); // nothing reached Airtable

      // Step-up (MCP 2025-11-25 authorization): a new authorization for the challenge's scope, whose consent page
      // offers the write ticked. (SDK 1.32 on its own would refresh instead, which cannot widen a grant, and stop:
      // modelcontextprotocol/typescript-sdk#2255; a client without that bug starts the authorization as here.)
      provider.invalidateCredentials("tokens");
      provider.consent = async (page) => {
        expect(await page.getByRole("checkbox", { name: "Create, change and delete records" }).isChecked()).toBe(true);
        await page.getByRole("button", { name: "Allow", exact: true }).click();
      };
      expect(await auth(provider, { serverUrl: lab.mcpUrl, scope: stepUpScope })).toBe("REDIRECT");
      expect(provider.authorizationUrls.at(-1)?.searchParams.get("scope")).toBe(stepUpScope);
      expect(await auth(provider, { serverUrl: lab.mcpUrl, authorizationCode: provider.lastCode() })).toBe(
        "AUTHORIZED",
      );
      expect(provider.store.tokens?.scope?.split(" ").sort()).toEqual(stepUpScope.split(" ").sort());
      const writer = await connectSdkClient(lab.mcpUrl, provider, "read-only-agent, stepped up");
      clients.push(writer);
      const written = (await writer.callTool({
        name: "create_records",
        arguments: createArgs("Stepped up"),
      })) as CallToolResult;
      expect(written.isError, JSON.stringify(written.content)).toBeFalsy();
      expect(lab.recordNames()).toContain("Stepped up");
    },
  );

  it(
    "nothing ticked is refused on the page; Read only then grants the ticked reads",
    { timeout: 120_000 },
    async () => {
      const provider = new ChromiumProfile("Careful agent");
      provider.consent = async (page) => {
        for (const box of await page.getByRole("checkbox").all()) await box.uncheck();
        await page.getByRole("button", { name: "Allow", exact: true }).click();
        await expect
          .poll(() => page.locator(".problem").textContent())
          .toContain("Nothing is ticked. Tick at least one permission and press Allow, or press Deny.");
        expect(await page.getByRole("checkbox", { checked: true }).count()).toBe(0);
        // Tick everything again, then choose Read only: the writes are left out.
        for (const box of await page.getByRole("checkbox").all()) await box.check();
        await page.getByRole("button", { name: "Read only", exact: true }).click();
      };
      const client = await signInLikeAClient(provider, "careful-agent");
      expect(provider.store.tokens?.scope).toBe(READS);
      const read = (await client.callTool({
        name: "list_records",
        arguments: { baseId: lab.user.base.id, tableId: lab.user.tableName },
      })) as CallToolResult;
      expect(read.isError, JSON.stringify(read.content)).toBeFalsy();
    },
  );
});
