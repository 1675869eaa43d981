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
 * in our order, plus `refresh_token` whenever `authorization_code` is among them. Omitted means
 * ["authorization_code"] (RFC 7591 §2), which therefore also gets refresh tokens.
 *
 * Why add a grant the client did not list: RFC 7591 §3.2.1 lets the server replace requested metadata, and the
 * DCR answer shows the result. Clients that leave `refresh_token` out are not asking to be signed out every hour:
 * the MCP Swift SDK hard-codes ["authorization_code"] (modelcontextprotocol/swift-sdk#222), Zed sent none before
 * zed-industries/zed#53501, and many DCR clients omit `grant_types` yet refresh when a token response carries a
 * refresh token (RFC 6749 §5.1 makes it optional; a client that does not want it ignores it). Refresh tokens here
 * rotate with reuse detection (RFC 9700 §4.14.2), so handing one out costs no security.
 */
export function registeredGrantTypes(listed: readonly string[] | undefined): GrantType[] {
  const wanted = new Set(listed ?? ["authorization_code"]);
  if (wanted.has("authorization_code")) wanted.add("refresh_token");
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
