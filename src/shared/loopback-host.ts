/**
 * The host names a URL on this machine is written with: `localhost`, `127.0.0.1` and `[::1]` (as `URL.hostname`
 * gives them, brackets included), the three RFC 8252 §7.3 and §8.3 name for loopback redirect URIs. Literal names
 * only: no DNS, and not the rest of 127.0.0.0/8 (ip-policy.ts' `isLoopbackAddress` checks addresses).
 */
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** Whether `hostname` (a URL's `hostname`) is one of the loopback names above. */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname);
}
