import { sha256Hex, randomToken } from "./pkce.ts";

/**
 * Refresh tokens are `${grantId}.${secret}`: the grant id finds the record, only the secret's SHA-256 is
 * stored, and every refresh replaces it (rotation). The TokenStore compares hashes atomically.
 */
export interface RefreshToken {
  token: string;
  hash: string;
}

export function newRefreshToken(grantId: string): RefreshToken {
  const secret = randomToken(32);
  return { token: `${grantId}.${secret}`, hash: sha256Hex(secret) };
}

export function parseRefreshToken(token: string): { grantId: string; hash: string } | undefined {
  const dot = token.lastIndexOf(".");
  if (dot <= 0 || dot === token.length - 1) return undefined;
  const grantId = token.slice(0, dot);
  const secret = token.slice(dot + 1);
  if (!/^[A-Za-z0-9_-]+$/.test(grantId) || !/^[A-Za-z0-9_-]{20,}$/.test(secret)) return undefined;
  return { grantId, hash: sha256Hex(secret) };
}

export function newGrantId(): string {
  return `gr_${randomToken(16)}`;
}
