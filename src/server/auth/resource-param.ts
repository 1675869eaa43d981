/**
 * The `resource` parameter (RFC 8707) at /authorize and /token. Ours is PUBLIC_URL + "/mcp"; some clients send it
 * with a trailing slash (the URL the user typed, or one normalised by a URL library). That names the same
 * resource, so we accept it and issue tokens for the canonical form (the audience the bearer guard checks).
 * Anything else is a different resource: invalid_target.
 */
export function isOurResource(given: string, ours: string): boolean {
  return given === ours || given === `${ours}/`;
}

/** `ours` when `given` names our resource, else `given` unchanged (so the caller's own check refuses it). */
export function canonicalResource(given: string | undefined, ours: string): string | undefined {
  return given !== undefined && isOurResource(given, ours) ? ours : given;
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
