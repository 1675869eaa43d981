import type { AuthUrls } from "./urls.ts";

/**
 * A `WWW-Authenticate: Bearer …` challenge for a 401 on the MCP endpoint (RFC 6750 §3, RFC 9728 §5.1, MCP spec
 * 2025-11-25 basic/authorization): it names our protected resource metadata (from urls.ts, never a path written
 * out elsewhere; `metadataUrl` is its `/mcp/` form for a request to `/mcp/`, metadata.ts) and the scopes a client
 * should ask for when it signs in; with `error`, also the error code and a description a person can act on.
 */
export function bearerChallenge(
  urls: AuthUrls,
  scopes: readonly string[],
  error?: { code: string; description: string },
  metadataUrl: string = urls.protectedResourceMetadata,
): string {
  const parts = [`resource_metadata="${metadataUrl}"`, `scope="${scopes.join(" ")}"`];
  if (error !== undefined) {
    parts.unshift(`error="${error.code}"`, `error_description="${quoteSafe(error.description)}"`);
  }
  return `Bearer ${parts.join(", ")}`;
}

/** Header quoted-strings may not contain `"` or `\`; our descriptions never need them. */
export function quoteSafe(text: string): string {
  return text.replace(/["\\]/g, "'");
}
