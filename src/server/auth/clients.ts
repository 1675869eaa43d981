import type { Logger } from "../../shared/logger.ts";
import { TokenDecryptError } from "../../shared/tokens/cipher.ts";
import type { RegisteredClient, TokenStore } from "../../shared/tokens/types.ts";
import { ClientMetadataDocuments } from "./cimd.ts";
import type { RedirectUriPolicy } from "./redirect-uris.ts";
import { metadataOfPublicClientId } from "./registration.ts";
import { registeredGrantTypes, UnknownClientError, type ResolvedClient } from "./resolved-client.ts";
import { parseScopes } from "./scope-param.ts";

/** How a lapsed public registration is renewed from its self-describing client_id (registration.ts). */
export interface RenewalOptions {
  /** The redirect URI policy /register applies today (REDIRECT_URI_SCHEMES). */
  policy: RedirectUriPolicy;
  /** How long a renewed registration stays pending without a completed sign-in (PENDING_REGISTRATION_TTL_HOURS). ms. */
  pendingTtlMs: number;
  now: () => number;
  logger: Logger;
}

/** Finds a client by id: registered ones in the TokenStore, URL ids through their metadata document. */
export class ClientDirectory {
  readonly #store: TokenStore;
  readonly #documents: ClientMetadataDocuments;
  readonly #renewal: RenewalOptions;

  constructor(store: TokenStore, documents: ClientMetadataDocuments, renewal: RenewalOptions) {
    this.#store = store;
    this.#documents = documents;
    this.#renewal = renewal;
  }

  /**
   * Throws UnknownClientError (or its ClientMetadataError subclass) with a message fit for the user.
   * `allowStale`: a metadata document that cannot be fetched may be served from its last good copy (cimd.ts);
   * for the token and revocation endpoints only, never for a new sign-in.
   * `renew`: a lapsed public registration is renewed from its self-describing client_id (`#renew`); for /authorize
   * only, where a sign-in starts. Elsewhere it is unknown: a lapsed client holds no code or refresh token (a
   * completed sign-in makes its record permanent), and renewing at /token or /revoke would let anyone store
   * registrations at those endpoints' per-IP limit (20,000 a minute) instead of /register's (3,000 an hour).
   */
  async get(clientId: string, options: { allowStale?: boolean; renew?: boolean } = {}): Promise<ResolvedClient> {
    if (clientId === "") throw new UnknownClientError("The request has no client_id.");
    if (ClientMetadataDocuments.isMetadataUrl(clientId)) return this.#documents.resolve(clientId, options);
    const registered = await this.#store.getClient(clientId).catch((error: unknown) => {
      // Its secret was encrypted with a key this server no longer holds (TOKEN_ENCRYPTION_KEY_PREVIOUS dropped
      // before every client was read again): as good as unregistered. invalid_client makes MCP clients register
      // again by themselves, where a 500 would leave them stuck with an id that can never work.
      if (!(error instanceof TokenDecryptError)) throw error;
      throw new UnknownClientError(
        `The registration of client_id ${JSON.stringify(clientId)} can no longer be read (the server's encryption ` +
          "key changed). The app should register again.",
      );
    });
    const client = registered ?? (options.renew === true ? await this.#renew(clientId) : undefined);
    if (client === undefined) {
      throw new UnknownClientError(
        `No client is registered with client_id ${JSON.stringify(clientId)}. The app should register again.`,
      );
    }
    const scopes = parseScopes(client.scope).scopes;
    return {
      clientId: client.client_id,
      source: "registration",
      ...(client.client_name !== undefined ? { name: client.client_name } : {}),
      redirectUris: client.redirect_uris,
      authMethod: client.token_endpoint_auth_method,
      ...(client.client_secret !== undefined ? { secretHash: client.client_secret } : {}),
      ...(scopes.length > 0 ? { scopes } : {}),
      grantTypes: registeredGrantTypes(client.grant_types),
    };
  }

  /**
   * A public client the store does not have (its registration lapsed: no sign-in completed within
   * PENDING_REGISTRATION_TTL_HOURS; or the store was wiped) whose client_id carries its metadata: registered
   * again from the id, pending as a new registration is, after the checks /register applies today. Claude Code
   * and Claude Desktop replay a cached client_id and never register again on their own (anthropics/claude-code
   * #84614, #72818), so without this their user would be stuck on an error page. Returns undefined for an id
   * that carries no metadata; throws UnknownClientError naming the problem when the metadata fails today's checks.
   */
  async #renew(clientId: string): Promise<RegisteredClient | undefined> {
    const checked = metadataOfPublicClientId(clientId, this.#renewal.policy);
    if (checked === undefined) return undefined;
    if (!checked.ok) {
      throw new UnknownClientError(
        `This app's registration has expired and cannot be renewed: ${checked.description}. ` +
          "The app should register again (remove and add this server in the app).",
      );
    }
    const now = this.#renewal.now();
    const { client, created } = await this.#store.putPendingClient(
      { client_id: clientId, client_id_issued_at: Math.floor(now / 1000), ...checked.metadata },
      now + this.#renewal.pendingTtlMs,
    );
    if (created) {
      this.#renewal.logger.info(
        { clientId, clientName: client.client_name },
        "lapsed client registration renewed from its client_id",
      );
    }
    return client;
  }

  /** `client` just got tokens: a metadata-document client's fresh copy becomes its last good one (cimd.ts). */
  keepLastGood(client: ResolvedClient): Promise<void> {
    return this.#documents.keepLastGood(client);
  }
}
