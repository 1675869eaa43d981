import { randomBytes } from "node:crypto";
import type { OAuthClientProvider } from "@modelcontextprotocol/sdk/client/auth.js";
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from "@modelcontextprotocol/sdk/shared/auth.js";
import { approveConsent, openConsentForm } from "./headless-browser.ts";

/** A loopback redirect URI nobody listens on: the browser stops at it and the test reads the code from it. */
export const CLIENT_REDIRECT_URI = "http://127.0.0.1:9/mcp-client/callback";

export interface TestOAuthProviderOptions {
  /**
   * The sandbox user (id or email) who signs in at "Airtable" when the SDK sends the user to authorize. Absent:
   * the browser only follows redirects (a sandbox with automatic sign-in, as in the embedded demo).
   */
  sandboxUser?: string;
  /** The bases the user picks on Airtable's consent page ("Add a base"). Absent: every base. */
  sandboxBases?: string[];
  /** Present: a Client ID Metadata Document URL used as client_id (no registration). Absent: DCR. */
  metadataDocumentUrl?: string;
  clientName?: string;
}

/**
 * An MCP client's OAuth storage, in memory, and its "open the browser" step done headlessly. It records what
 * a user of the client could see: every token set saved, and where the browser ended up.
 */
export class TestOAuthProvider implements OAuthClientProvider {
  readonly #opts: TestOAuthProviderOptions;
  #client: OAuthClientInformationMixed | undefined;
  #verifier = "";
  /** savedTokens up to this index were invalidated: tokens() answers none until new ones are saved. */
  #tokensDropped = 0;
  /** Every token set the SDK saved, oldest first (the first from the code, the others from refreshes). */
  readonly savedTokens: OAuthTokens[] = [];
  /** The `state` of each authorization request the SDK started. */
  readonly states: string[] = [];
  /** Each URL the SDK asked the browser to open. */
  readonly authorizationUrls: URL[] = [];
  /** The consent pages the user was shown (HTML). */
  readonly consentPages: string[] = [];
  /** Every invalidateCredentials() scope the SDK asked for, in order. */
  readonly invalidated: string[] = [];
  /** Where the browser was sent back to (the redirect URI with code, state and iss), per sign-in. */
  readonly returns: URL[] = [];

  constructor(opts: TestOAuthProviderOptions) {
    this.#opts = opts;
    if (opts.metadataDocumentUrl !== undefined) {
      // The SDK's own CIMD switch (`clientMetadataUrl`) accepts https URLs only; a client that already knows its
      // client_id hands it over as stored client information, which the SDK uses as is.
      this.#client = { client_id: opts.metadataDocumentUrl };
    }
  }

  get redirectUrl(): string {
    return CLIENT_REDIRECT_URI;
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: this.#opts.clientName ?? "E2E Test Client",
      redirect_uris: [CLIENT_REDIRECT_URI],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }

  state(): string {
    const state = randomBytes(12).toString("base64url");
    this.states.push(state);
    return state;
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.#client;
  }

  saveClientInformation(info: OAuthClientInformationMixed): void {
    this.#client = info;
  }

  tokens(): OAuthTokens | undefined {
    return this.savedTokens.length > this.#tokensDropped ? this.savedTokens.at(-1) : undefined;
  }

  saveTokens(tokens: OAuthTokens): void {
    this.savedTokens.push(tokens);
  }

  async redirectToAuthorization(url: URL): Promise<void> {
    this.authorizationUrls.push(url);
    const form = await openConsentForm(url.toString());
    this.consentPages.push(form.html);
    this.returns.push(await approveConsent(form, this.#opts.sandboxUser, this.#opts.sandboxBases));
  }

  saveCodeVerifier(verifier: string): void {
    this.#verifier = verifier;
  }

  codeVerifier(): string {
    return this.#verifier;
  }

  /** What the SDK drops after the server refused it (e.g. `tokens` after invalid_grant), before it signs in again. */
  invalidateCredentials(scope: "all" | "client" | "tokens" | "verifier" | "discovery"): void {
    this.invalidated.push(scope);
    if (scope === "all" || scope === "tokens") this.#tokensDropped = this.savedTokens.length;
    if (scope === "all" || scope === "client") {
      this.#client =
        this.#opts.metadataDocumentUrl === undefined ? undefined : { client_id: this.#opts.metadataDocumentUrl };
    }
    if (scope === "all" || scope === "verifier") this.#verifier = "";
  }

  /** The client_id the SDK used (issued by DCR, or the metadata document URL). */
  get clientId(): string | undefined {
    return this.#client?.client_id;
  }

  /** The authorization code of the last sign-in, after checking the answer is for the request we made. */
  lastCode(): string {
    const back = this.returns.at(-1);
    if (back === undefined) throw new Error("the browser never came back to the client");
    const error = back.searchParams.get("error");
    if (error !== null) throw new Error(`sign-in failed: ${error}: ${back.searchParams.get("error_description")}`);
    const code = back.searchParams.get("code");
    if (code === null) throw new Error(`no code in ${back.toString()}`);
    return code;
  }
}
