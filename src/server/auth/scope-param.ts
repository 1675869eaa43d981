import { allScopes, isScope, type Scope } from "../../shared/auth/scopes.ts";

/**
 * Scope strings from clients. `offline_access` is dropped silently: some clients add it to ask for a refresh
 * token, which we always issue. Anything else unknown is an error the caller reports as invalid_scope.
 */
const IGNORED = new Set(["offline_access"]);

export type ScopeParse = { ok: true; scopes: Scope[] } | { ok: false; unknown: string[] };

export function parseScopes(value: string | undefined): ScopeParse {
  const words = (value ?? "").split(" ").filter((w) => w !== "" && !IGNORED.has(w));
  const unknown = words.filter((w) => !isScope(w));
  if (unknown.length > 0) return { ok: false, unknown };
  return { ok: true, scopes: canonicalScopes(words as Scope[]) };
}

/** Deduplicated, in catalog order, so equal sets always serialise the same way. */
export function canonicalScopes(scopes: readonly Scope[]): Scope[] {
  const wanted = new Set(scopes);
  return allScopes.filter((s) => wanted.has(s));
}

export function scopeString(scopes: readonly Scope[]): string {
  return canonicalScopes(scopes).join(" ");
}

export function unknownScopeMessage(unknown: string[]): string {
  return `Unknown scope ${unknown.map((s) => JSON.stringify(s)).join(", ")}; this server's scopes are: ${allScopes.join(" ")}`;
}
