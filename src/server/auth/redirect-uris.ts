/**
 * Which redirect URIs a client may register (DCR) or declare (CIMD): https anywhere, or plain http on a loopback
 * host for native apps (RFC 8252 §7.3). Matching at /authorize and /token is exact string comparison.
 */
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);
const MAX_LENGTH = 2000;

/** Why `uri` cannot be a redirect URI, or undefined when it can. */
export function redirectUriProblem(uri: string): string | undefined {
  if (uri.length > MAX_LENGTH) return `redirect URI longer than ${MAX_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return `redirect URI ${JSON.stringify(uri)} is not an absolute URL`;
  }
  if (url.hash !== "" || uri.includes("#")) return `redirect URI ${uri} must not contain a fragment`;
  if (url.username !== "" || url.password !== "") return `redirect URI ${uri} must not contain credentials`;
  if (url.protocol === "https:") return url.hostname === "" ? `redirect URI ${uri} has no host` : undefined;
  if (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname)) return undefined;
  return `redirect URI ${uri} must use https, or http on a loopback host (localhost, 127.0.0.1, [::1])`;
}

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname);
}
