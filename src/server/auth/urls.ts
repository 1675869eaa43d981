/**
 * Every URL this authorization server publishes, derived from PUBLIC_URL alone so that every instance (and every
 * metadata document) names the same ones.
 */
export interface AuthUrls {
  /** Exactly PUBLIC_URL: no trailing slash (RFC 8414 §3.3 compares the issuer as a string). */
  issuer: string;
  /** The protected resource: our MCP endpoint. The audience of every access token. */
  resource: string;
  /** RFC 9728 metadata for `resource` (path-inserted form, what the 401 challenge names). */
  protectedResourceMetadata: string;
  authorizationServerMetadata: string;
  authorize: string;
  decision: string;
  callback: string;
  token: string;
  register: string;
  revoke: string;
}

/** Paths, relative to the origin, that the router serves. */
export const authPaths = {
  protectedResourceMetadataRoot: "/.well-known/oauth-protected-resource",
  protectedResourceMetadata: "/.well-known/oauth-protected-resource/mcp",
  authorizationServerMetadata: "/.well-known/oauth-authorization-server",
  authorize: "/authorize",
  decision: "/authorize/decision",
  callback: "/oauth/callback",
  token: "/token",
  register: "/register",
  revoke: "/revoke",
  resource: "/mcp",
} as const;

export function authUrls(publicUrl: string): AuthUrls {
  const parsed = new URL(publicUrl);
  if (parsed.pathname !== "/" || parsed.search !== "" || parsed.hash !== "") {
    throw new Error(
      `PUBLIC_URL must be an origin such as https://mcp.example.com (no path, query or fragment); got ${publicUrl}`,
    );
  }
  const origin = parsed.origin;
  return {
    issuer: origin,
    resource: origin + authPaths.resource,
    protectedResourceMetadata: origin + authPaths.protectedResourceMetadata,
    authorizationServerMetadata: origin + authPaths.authorizationServerMetadata,
    authorize: origin + authPaths.authorize,
    decision: origin + authPaths.decision,
    callback: origin + authPaths.callback,
    token: origin + authPaths.token,
    register: origin + authPaths.register,
    revoke: origin + authPaths.revoke,
  };
}
