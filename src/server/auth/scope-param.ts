import { allScopes, isScope, type Scope } from "../../shared/auth/scopes.ts";

/**
 * Scope strings from clients (RFC 6749 §3.3: space-delimited, case-sensitive). Words that are not our scopes are
 * dropped, not refused: clients add OpenID words (`openid profile email`), `offline_access` to ask for a refresh
 * token (which the refresh_token grant in their registration decides here), or scopes of other servers. RFC 6749
 * §3.3 lets the server grant less than asked, and the token response's `scope` says what was granted.
 *
 * When nothing of ours is left, the request counts as one without `scope`: the caller applies its default (at
 * /authorize: the scopes the client registered, else all of ours; at refresh: the grant's scopes).
 */
export interface ScopeParse {
  /** Our scopes, deduplicated, in catalog order. */
  scopes: Scope[];
  /** The words that were not ours, for the log. */
  dropped: string[];
}

export function parseScopes(value: string | undefined): ScopeParse {
  const words = (value ?? "").split(" ").filter((w) => w !== "");
  return {
    scopes: canonicalScopes(words.filter(isScope)),
    dropped: [...new Set(words.filter((w) => !isScope(w)))],
  };
}

/** Deduplicated, in catalog order, so equal sets always serialise the same way. */
export function canonicalScopes(scopes: readonly Scope[]): Scope[] {
  const wanted = new Set(scopes);
  return allScopes.filter((s) => wanted.has(s));
}

export function scopeString(scopes: readonly Scope[]): string {
  return canonicalScopes(scopes).join(" ");
}
