/**
 * Airtable-shaped ids: a three-letter prefix and 14 base62 characters (`app`, `tbl`, `fld`, `viw`, `rec`, `usr`,
 * `com`, `att`, `sel`, `itr`). Random, not sequential: Airtable gives no ordering guarantee and clients must not
 * rely on one.
 */
import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

export type IdPrefix = "app" | "tbl" | "fld" | "viw" | "rec" | "usr" | "com" | "att" | "sel" | "itr";

export function newId(prefix: IdPrefix): string {
  const bytes = randomBytes(14);
  let out = prefix;
  for (const byte of bytes) out += ALPHABET[byte % 62];
  return out;
}

/** Whether `value` has the shape of an id with this prefix (it may still not exist). */
export function isId(value: string, prefix: IdPrefix): boolean {
  return new RegExp(`^${prefix}[0-9A-Za-z]{14}$`).test(value);
}

/** An opaque secret (tokens, codes): long random base64url. */
export function newSecret(prefix: string, bytes = 24): string {
  return `${prefix}${randomBytes(bytes).toString("base64url")}`;
}
