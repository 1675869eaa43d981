import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** RFC 7636: a S256 challenge is the base64url SHA-256 of the verifier: 43 characters. */
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

export function isS256Challenge(value: string): boolean {
  return CHALLENGE.test(value);
}

export function s256(verifier: string): string {
  return createHash("sha256").update(verifier).digest("base64url");
}

export function verifierMatches(verifier: string, challenge: string): boolean {
  return VERIFIER.test(verifier) && safeEqual(s256(verifier), challenge);
}

/**
 * Whether two strings are equal, compared in time that does not depend on where they differ (node:crypto
 * timingSafeEqual over their UTF-8 bytes), so a secret (CSRF token, cookie MAC, client secret hash, PKCE challenge)
 * cannot be guessed byte by byte from response times. Strings of different byte lengths are unequal at once: the
 * length is not secret (every value compared here has a fixed length).
 */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A fresh verifier for our own leg to Airtable (never the client's). */
export function newVerifier(): string {
  return randomBytes(48).toString("base64url");
}

/** 256 bits, URL-safe: ids, codes, states, secrets. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

export function sha256Hex(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}
