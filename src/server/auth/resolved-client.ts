import type { Scope } from "../../shared/auth/scopes.ts";

export type ClientAuthMethod = "none" | "client_secret_post" | "client_secret_basic";

/** The grant types this server implements; a client's registration names the ones it may use. */
export const SUPPORTED_GRANT_TYPES = ["authorization_code", "refresh_token"] as const;
export type GrantType = (typeof SUPPORTED_GRANT_TYPES)[number];

export function isSupportedGrantType(value: string): value is GrantType {
  return (SUPPORTED_GRANT_TYPES as readonly string[]).includes(value);
}

/**
 * The grant types a registration (DCR request or CIMD document) gives a client: those it lists that we support,
 * in our order. Omitted means ["authorization_code"] (RFC 7591 §2), so such a client gets no refresh tokens.
 */
export function registeredGrantTypes(listed: readonly string[] | undefined): GrantType[] {
  const wanted = new Set(listed ?? ["authorization_code"]);
  return SUPPORTED_GRANT_TYPES.filter((g) => wanted.has(g));
}

/** A client as the endpoints need it, whether it registered (DCR) or presented a metadata document (CIMD). */
export interface ResolvedClient {
  clientId: string;
  source: "registration" | "metadata-document";
  name?: string;
  redirectUris: string[];
  authMethod: ClientAuthMethod;
  /** `sha256:<hex>` of the client secret, for confidential DCR clients. */
  secretHash?: string;
  /** Scopes the client registered for; undefined means any of ours. */
  scopes?: Scope[];
  /**
   * Grant types the client may use at /token (RFC 7591 §2 `grant_types`, supported ones only). A refresh token is
   * issued to, and accepted from, only a client with `refresh_token` here (RFC 6749 §5.2 unauthorized_client).
   */
  grantTypes: GrantType[];
  /**
   * A metadata-document client served from a stand-in because the document could not be fetched (cimd.ts): its
   * last good copy (token and revocation endpoints only) or a pinned copy (known-client-documents.ts, any
   * endpoint). Such a use does not make it a last good copy.
   */
  servedStale?: true;
}

export class UnknownClientError extends Error {
  override name = "UnknownClientError";
}
