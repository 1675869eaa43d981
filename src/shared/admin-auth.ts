/**
 * The check behind every operator surface (Bull Board and /metrics on the server, /metrics on the worker's
 * health port): the request presents ADMIN_TOKEN, either as `Authorization: Bearer <token>` (scrapers, curl) or
 * as the password of HTTP Basic auth with any user name (a browser's login prompt). Shared so both processes
 * accept exactly the same credentials.
 */
import { createHash, timingSafeEqual } from "node:crypto";

/** Sent with every 401: a browser shows its login prompt for the Basic challenge; scrapers use Bearer. */
export const ADMIN_CHALLENGE = 'Basic realm="admin", Bearer';

/** True when the Authorization header carries `token`. Constant-time in the token's content and length. */
export function presentsAdminToken(authorization: string | undefined, token: string): boolean {
  const presented = presentedSecret(authorization);
  if (presented === undefined) return false;
  // Comparing digests gives equal-length inputs, so neither the content nor the length of the token leaks.
  return timingSafeEqual(digest(presented), digest(token));
}

function presentedSecret(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const match = /^\s*(\S+)\s+(.+?)\s*$/.exec(authorization);
  if (match === null) return undefined;
  const scheme = match[1]!.toLowerCase();
  const credentials = match[2]!;
  if (scheme === "bearer") return credentials;
  if (scheme !== "basic") return undefined;
  const decoded = Buffer.from(credentials, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  // user:password, and the user name is not checked: only the password (the token) matters.
  return colon === -1 ? undefined : decoded.slice(colon + 1);
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}
