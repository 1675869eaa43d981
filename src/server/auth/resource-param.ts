/**
 * The `resource` parameter (RFC 8707) at /authorize and /token: the one place it is compared with ours, which is
 * PUBLIC_URL + "/mcp" (lowercase scheme and host: urls.ts builds it from the parsed URL's origin). A given value
 * names our resource when it differs from ours only by
 * - the case of its scheme and host: MCP authorization (2025-11-25 and 2026-07-28, "Canonical Server URI"): "While
 *   the canonical form uses lowercase scheme and host components, implementations SHOULD accept uppercase scheme
 *   and host components for robustness and interoperability" (both are case-insensitive, RFC 3986 §3.1, §3.2.2);
 * - one trailing slash after the path: the same section's note says both spellings are valid URIs and the form
 *   without is the consistent one; clients send the URL the user typed or one a URL library normalised.
 * The path stays case-sensitive (`/MCP` is another resource), and nothing else is normalised: the spec asks for no
 * default-port, percent-encoding or dot-segment folding, so `https://host:443/mcp` is another resource here. Tokens
 * are always issued for the canonical form (the audience the bearer guard checks). Anything else: invalid_target.
 */
export function isOurResource(given: string, ours: string): boolean {
  if (given === ours || given === `${ours}/`) return true;
  const g = splitAtPath(given);
  const o = splitAtPath(ours);
  if (g === undefined || o === undefined) return false;
  return g.origin.toLowerCase() === o.origin.toLowerCase() && (g.rest === o.rest || g.rest === `${o.rest}/`);
}

/** `scheme://authority` and what follows it (path, query, fragment, untouched); undefined for anything else. */
function splitAtPath(uri: string): { origin: string; rest: string } | undefined {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*)(.*)$/s.exec(uri);
  return match === null ? undefined : { origin: match[1] as string, rest: match[2] as string };
}

/**
 * The values of a `resource` parameter, which a request may repeat (RFC 8707 §2): one string, or the strings of a
 * repeated one; [] when there is none; undefined when a repeated one holds something other than strings (the
 * caller refuses it).
 */
export function resourceValues(given: unknown): string[] | undefined {
  if (typeof given === "string") return [given];
  if (!Array.isArray(given)) return [];
  return given.every((r) => typeof r === "string") ? (given as string[]) : undefined;
}
