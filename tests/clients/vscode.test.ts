/**
 * VS Code (GitHub Copilot agent mode), with `{"servers": {"airtable": {"type": "http", "url": "<PUBLIC_URL>/mcp"}}}`
 * in `.vscode/mcp.json` (code.visualstudio.com/docs/agents/reference/mcp-configuration).
 *
 * - It registers by DCR with `https://insiders.vscode.dev/redirect`, `https://vscode.dev/redirect`,
 *   `http://127.0.0.1/` and `http://127.0.0.1:33418/` (microsoft/vscode#278512, the DCR body of
 *   `fetchDynamicRegistration`; microsoft/vscode#256288), and listens on 127.0.0.1:33418. When 33418 is taken
 *   (another VS Code window) it listens on a random port and sends `redirect_uri=http://127.0.0.1:<port>/`,
 *   which must match the registered `http://127.0.0.1/` (RFC 8252 §7.3, issue 9 item 1).
 * - Its authorization request can carry OpenID scopes, `scope=openid profile email` (microsoft/vscode#278512);
 *   they are dropped from the grant, not refused (issue 9 item 6).
 * - It also publishes a Client ID Metadata Document (https://vscode.dev/oauth/client-metadata.json); that path
 *   is covered here with the same redirect URIs, served on loopback (CIMD_ALLOW_LOOPBACK_HTTP).
 * Raw HTTP: VS Code has its own OAuth implementation, not the TypeScript SDK.
 */
import { createServer, type Server } from "node:net";
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostMetadataDocument, type MetadataDocumentHost } from "../e2e/fixtures/metadata-document-host.ts";
import { printServerOutputOnFailure, startClientLab, type ClientLab } from "./support/client-lab.ts";
import { deliverToLoopback, listenForRedirect, type RedirectListener } from "./support/loopback-redirect.ts";
import { recordNamesOf, WireSession } from "./support/mcp-wire.ts";
import {
  authorizationUrl,
  codeFrom,
  exchangeCode,
  newPkce,
  newState,
  registerClient,
  signInWithBrowser,
  type TokenSet,
} from "./support/oauth-wire.ts";

/** VS Code's fixed loopback port for OAuth (DEFAULT_AUTH_FLOW_PORT). */
const VSCODE_PORT = 33418;
const VSCODE_REDIRECT_URIS = [
  "https://insiders.vscode.dev/redirect",
  "https://vscode.dev/redirect",
  "http://127.0.0.1/",
  `http://127.0.0.1:${VSCODE_PORT}/`,
];

let lab: ClientLab;
let document: MetadataDocumentHost;
let clientId: string;

beforeAll(async () => {
  lab = await startClientLab("vscode");
  document = await hostMetadataDocument({ clientName: "Visual Studio Code", redirectUris: VSCODE_REDIRECT_URIS });
  const registration = await registerClient(lab.publicUrl, {
    client_name: "Visual Studio Code",
    client_uri: "https://code.visualstudio.com",
    redirect_uris: VSCODE_REDIRECT_URIS,
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    token_endpoint_auth_method: "none",
  });
  if (registration.status !== 201)
    throw new Error(`VS Code's registration failed: ${JSON.stringify(registration.body)}`);
  clientId = String(registration.body.client_id);
});

afterAll(async () => {
  await document?.close();
  await lab?.stop();
});

printServerOutputOnFailure(() => lab);

/** VS Code's listener: 33418 when free, otherwise any port the OS gives. */
async function vscodeListener(): Promise<RedirectListener> {
  try {
    return await listenForRedirect(VSCODE_PORT);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
    return listenForRedirect(0);
  }
}

/** Another VS Code window holding 33418 (if something already holds it, it is busy anyway). */
async function occupyVscodePort(): Promise<Server | undefined> {
  const blocker = createServer();
  blocker.listen(VSCODE_PORT, "127.0.0.1");
  try {
    await Promise.race([
      once(blocker, "listening"),
      once(blocker, "error").then(([error]) => {
        throw error;
      }),
    ]);
    return blocker;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
    return undefined;
  }
}

/**
 * The whole sign-in as VS Code runs it: authorize with the listener's redirect URI, the browser signs in and
 * comes back to the listener, code exchange with the same redirect URI.
 */
async function signIn(
  listener: RedirectListener,
  opts: { clientId: string; scope?: string },
): Promise<{ tokens: TokenSet; back: URL; redirectUri: string; consentPage: string }> {
  const redirectUri = listener.redirectUri("127.0.0.1", "/");
  const pkce = newPkce();
  const state = newState();
  const visit = await signInWithBrowser(
    authorizationUrl(lab.publicUrl, {
      clientId: opts.clientId,
      redirectUri,
      pkce,
      state,
      resource: lab.mcpUrl,
      ...(opts.scope !== undefined ? { scope: opts.scope } : {}),
    }),
    lab.user.user.id,
  );
  expect(await deliverToLoopback(visit.redirect)).toBe(200);
  const back = await listener.next();
  const code = codeFrom(back, { state, issuer: lab.publicUrl });
  const tokens = await exchangeCode(lab.publicUrl, {
    clientId: opts.clientId,
    code,
    verifier: pkce.verifier,
    redirectUri,
    resource: lab.mcpUrl,
  });
  return { tokens, back, redirectUri, consentPage: visit.consentPage };
}

async function expectToolsWork(accessToken: string): Promise<void> {
  const wire = new WireSession(lab.mcpUrl, { token: accessToken });
  await wire.initialize("Visual Studio Code");
  expect(await wire.listToolNames()).toEqual(expect.arrayContaining(["list_bases", "list_records", "create_field"]));
  const result = await wire.callTool("list_records", { baseId: lab.user.base.id, tableId: lab.user.tableName });
  expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
  expect(recordNamesOf(result)).toEqual(lab.recordNames());
}

describe("VS Code (DCR with 127.0.0.1:33418 and vscode.dev URIs, random port when 33418 is busy)", () => {
  it("33418 free: signs in at exactly the registered http://127.0.0.1:33418/", async (ctx) => {
    const listener = await vscodeListener();
    try {
      if (listener.port !== VSCODE_PORT) ctx.skip(`port ${VSCODE_PORT} is in use on this machine`);
      const { tokens, back, consentPage } = await signIn(listener, { clientId });
      expect(back.port).toBe(String(VSCODE_PORT));
      expect(consentPage).toContain("Visual Studio Code");
      expect(tokens.refresh_token).toBeTruthy();
      await expectToolsWork(tokens.access_token);
    } finally {
      await listener.close();
    }
  });

  it("33418 busy: the random port it falls back to matches http://127.0.0.1/; openid profile email are dropped", async () => {
    const blocker = await occupyVscodePort();
    const listener = await vscodeListener();
    try {
      expect(listener.port).not.toBe(VSCODE_PORT);
      const { tokens, back, redirectUri } = await signIn(listener, { clientId, scope: "openid profile email" });
      expect(redirectUri).toBe(`http://127.0.0.1:${listener.port}/`);
      expect(back.port).toBe(String(listener.port));
      expect(back.pathname).toBe("/");
      // The grant holds our scopes only.
      const granted = (tokens.scope ?? "").split(" ");
      for (const oidc of ["openid", "profile", "email"]) expect(granted).not.toContain(oidc);
      expect(granted).toContain("records:read");
      await expectToolsWork(tokens.access_token);
    } finally {
      await listener.close();
      if (blocker !== undefined) {
        blocker.close();
        await once(blocker, "close");
      }
    }
  });

  it("its Client ID Metadata Document with the same redirect URIs works at a random port too", async () => {
    const listener = await listenForRedirect(0);
    try {
      const { tokens, back, consentPage } = await signIn(listener, { clientId: document.clientId });
      expect(back.port).toBe(String(listener.port));
      expect(consentPage).toContain(document.clientId);
      await expectToolsWork(tokens.access_token);
    } finally {
      await listener.close();
    }
  });
});
