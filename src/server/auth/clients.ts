import { TokenDecryptError } from "../../shared/tokens/cipher.ts";
import type { TokenStore } from "../../shared/tokens/types.ts";
import { ClientMetadataDocuments } from "./cimd.ts";
import { registeredGrantTypes, UnknownClientError, type ResolvedClient } from "./resolved-client.ts";
import { parseScopes } from "./scope-param.ts";

/** Finds a client by id: registered ones in the TokenStore, URL ids through their metadata document. */
export class ClientDirectory {
  readonly #store: TokenStore;
  readonly #documents: ClientMetadataDocuments;

  constructor(store: TokenStore, documents: ClientMetadataDocuments) {
    this.#store = store;
    this.#documents = documents;
  }

  /**
   * Throws UnknownClientError (or its ClientMetadataError subclass) with a message fit for the user.
   * `allowStale`: a metadata document that cannot be fetched may be served from its last good copy (cimd.ts);
   * for the token and revocation endpoints only, never for a new sign-in.
   */
  async get(clientId: string, options: { allowStale?: boolean } = {}): Promise<ResolvedClient> {
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
    if (registered === undefined) {
      throw new UnknownClientError(
        `No client is registered with client_id ${JSON.stringify(clientId)}. The app should register again.`,
      );
    }
    const scopes = parseScopes(registered.scope).scopes;
    return {
      clientId: registered.client_id,
      source: "registration",
      ...(registered.client_name !== undefined ? { name: registered.client_name } : {}),
      redirectUris: registered.redirect_uris,
      authMethod: registered.token_endpoint_auth_method,
      ...(registered.client_secret !== undefined ? { secretHash: registered.client_secret } : {}),
      ...(scopes.length > 0 ? { scopes } : {}),
      grantTypes: registeredGrantTypes(registered.grant_types),
    };
  }

  /** `client` just got tokens: a metadata-document client's fresh copy becomes its last good one (cimd.ts). */
  keepLastGood(client: ResolvedClient): Promise<void> {
    return this.#documents.keepLastGood(client);
  }
}
