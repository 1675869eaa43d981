/**
 * SDK-based client profiles (Claude Code, Cursor): the MCP SDK's own client does discovery, registration or
 * the CIMD client_id, PKCE, the token exchange, refresh and tool calls; this provider plays the client app
 * around it: its redirect URI at run time (an ephemeral loopback port, a private-use scheme), its stored
 * credentials (shareable between sessions, like Claude Code's credentials file), and the user's browser
 * (headless consent, then the redirect delivered to the app's loopback listener or handed over by the OS).
 */
import { randomBytes } from "node:crypto";
import { auth, type OAuthClientProvider } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from "@modelcontextprotocol/sdk/shared/auth.js";
import { deliverToLoopback } from "./loopback-redirect.ts";
import { signInWithBrowser } from "./oauth-wire.ts";

/**
 * Where a client keeps its credentials. Two sessions of one client (Claude Code in two terminals) share one:
 * whoever saves last wins, as with a credentials file on disk.
 */
export class CredentialStore {
  client: OAuthClientInformationMixed | undefined;
  tokens: OAuthTokens | undefined;
  /** Every token set saved, oldest first. */
  readonly saved: OAuthTokens[] = [];
}

export interface ProfileOptions {
  /** The sandbox user who signs in at "Airtable". */
  sandboxUser: string;
  /** The redirect URI this run of the app uses (its listener's port, its private scheme). */
  redirectUrl: string;
  /** What DCR sends; ignored for a CIMD client. */
  clientMetadata: OAuthClientMetadata;
  /** A Client ID Metadata Document URL: the client_id, no registration. */
  metadataDocumentUrl?: string;
  store?: CredentialStore;
}

export class ProfileOAuthProvider implements OAuthClientProvider {
  readonly #opts: ProfileOptions;
  readonly store: CredentialStore;
  #verifier = "";
  /** Each authorization URL the SDK opened in the browser. */
  readonly authorizationUrls: URL[] = [];
  /** The consent pages shown. */
  readonly consentPages: string[] = [];
  /** Where the browser was sent at the end of each sign-in (redirect URI + code, state, iss). */
  readonly returns: URL[] = [];
  readonly states: string[] = [];

  constructor(opts: ProfileOptions) {
    this.#opts = opts;
    this.store = opts.store ?? new CredentialStore();
    if (opts.metadataDocumentUrl !== undefined && this.store.client === undefined) {
      // The SDK's own CIMD switch only takes https URLs; a client that knows its client_id hands it over as
      // stored client information, which the SDK uses as is (loopback documents need CIMD_ALLOW_LOOPBACK_HTTP).
      this.store.client = { client_id: opts.metadataDocumentUrl };
    }
  }

  get redirectUrl(): string {
    return this.#opts.redirectUrl;
  }

  get clientMetadata(): OAuthClientMetadata {
    return this.#opts.clientMetadata;
  }

  state(): string {
    const state = randomBytes(12).toString("base64url");
    this.states.push(state);
    return state;
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.store.client;
  }

  saveClientInformation(info: OAuthClientInformationMixed): void {
    this.store.client = info;
  }

  tokens(): OAuthTokens | undefined {
    return this.store.tokens;
  }

  saveTokens(tokens: OAuthTokens): void {
    this.store.tokens = tokens;
    this.store.saved.push(tokens);
  }

  /** The browser: consent, Airtable, then the redirect reaches the app (loopback GET, or the OS for a scheme). */
  async redirectToAuthorization(url: URL): Promise<void> {
    this.authorizationUrls.push(url);
    const visit = await signInWithBrowser(url, this.#opts.sandboxUser);
    this.consentPages.push(visit.consentPage);
    this.returns.push(visit.redirect);
    if (visit.redirect.protocol === "http:") await deliverToLoopback(visit.redirect);
  }

  saveCodeVerifier(verifier: string): void {
    this.#verifier = verifier;
  }

  codeVerifier(): string {
    return this.#verifier;
  }

  invalidateCredentials(scope: "all" | "client" | "tokens" | "verifier" | "discovery"): void {
    if (scope === "all" || scope === "tokens") this.store.tokens = undefined;
    if (scope === "all" || scope === "client") {
      this.store.client =
        this.#opts.metadataDocumentUrl === undefined ? undefined : { client_id: this.#opts.metadataDocumentUrl };
    }
    if (scope === "all" || scope === "verifier") this.#verifier = "";
  }

  /** The last sign-in's code, checked against the state this provider sent. */
  lastCode(): string {
    const back = this.returns.at(-1);
    if (back === undefined) throw new Error("the browser never came back to the client");
    const error = back.searchParams.get("error");
    if (error !== null) throw new Error(`sign-in failed: ${error}: ${back.searchParams.get("error_description")}`);
    if (back.searchParams.get("state") !== this.states.at(-1)) throw new Error(`state mismatch in ${back.href}`);
    const code = back.searchParams.get("code");
    if (code === null) throw new Error(`no code in ${back.href}`);
    return code;
  }
}

/** A connected SDK client for `mcpUrl` with the provider's tokens (refreshing through it when needed). */
export async function connectSdkClient(mcpUrl: string, provider: ProfileOAuthProvider, name: string): Promise<Client> {
  const client = new Client({ name, version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider }));
  return client;
}

/**
 * First use, as the SDK-based client runs it: connect → 401 → discovery → registration (or CIMD) → browser →
 * code → token exchange, then connect again with the tokens.
 */
export async function signInWithSdk(mcpUrl: string, provider: ProfileOAuthProvider, name: string): Promise<Client> {
  const result = await auth(provider, { serverUrl: mcpUrl });
  if (result !== "REDIRECT") throw new Error(`expected the SDK to send the user to sign in, got ${result}`);
  const exchanged = await auth(provider, { serverUrl: mcpUrl, authorizationCode: provider.lastCode() });
  if (exchanged !== "AUTHORIZED") throw new Error(`the code exchange ended with ${exchanged}`);
  return connectSdkClient(mcpUrl, provider, name);
}
