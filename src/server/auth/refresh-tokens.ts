import { createHmac, timingSafeEqual } from "node:crypto";
import { deriveKey } from "../../shared/tokens/cipher.ts";
import { randomToken, sha256Hex } from "./pkce.ts";

/**
 * Refresh tokens are `${grantId}.${secret}`: the grant id finds the record, only the secret's SHA-256 is
 * stored (in the grant, with the hash of the token it replaced), and every refresh replaces it (rotation).
 *
 * A secret is base64url(body ‖ tag), 32 + 8 bytes (54 characters):
 * - body: random for the grant's first refresh token. Every later one is derived from the token it replaces:
 *   HMAC-SHA256(successor key, `${grantId}.${presented secret}`). So the same token presented twice — Claude.ai
 *   refreshing from two egress nodes, two Claude Code sessions sharing one stored token, two server processes
 *   answering at once — yields the same successor, and the grant only has to remember the previous token's
 *   hash and first use (not the successor itself) to answer a replay within the grace window with exactly
 *   what the first caller got (see Grants.refresh). Nothing secret is stored: knowing the hashes does not give
 *   a token, and the derivation needs the server key and a token.
 * - tag: HMAC-SHA256(tag key, `${grantId}.${body}`), first 8 bytes. It tells a token this server issued for
 *   this grant from a made-up one without any lookup. Only an issued one that is no longer usable counts as a
 *   replay that revokes the grant (RFC 9700 §4.14.2); a made-up one is refused and leaves the grant alone, so
 *   knowing a grant id is not enough to sign its user out.
 *
 * Keys are HKDF sub-keys of TOKEN_ENCRYPTION_KEY; TOKEN_ENCRYPTION_KEY_PREVIOUS's are tried too, so tokens and
 * successors from before a key rotation keep working. Secrets of another length are from before tags existed
 * ("legacy"): they work while current and then rotate into this scheme, but never count as proof of a replay.
 */
export interface RefreshToken {
  token: string;
  /** SHA-256 (hex) of the secret: what the TokenStore keeps. */
  hash: string;
}

export interface ParsedRefreshToken {
  grantId: string;
  secret: string;
  hash: string;
}

/** Where a presented secret comes from: see RefreshTokens. */
export type RefreshTokenOrigin = "issued" | "legacy" | "forged";

const BODY_BYTES = 32;
const TAG_BYTES = 8;
const SUCCESSOR_KEY_LABEL = "refresh-token-successor";
const TAG_KEY_LABEL = "refresh-token-tag";

interface KeyPair {
  successor: Buffer;
  tag: Buffer;
}

/** Mints, derives and checks refresh tokens under the server's keys (current first, then the previous one). */
export class RefreshTokens {
  readonly #keys: KeyPair[];

  /** `masterKeys`: TOKEN_ENCRYPTION_KEY, then TOKEN_ENCRYPTION_KEY_PREVIOUS when set (32 bytes each). */
  constructor(masterKeys: Buffer[]) {
    if (masterKeys.length === 0) throw new Error("RefreshTokens needs at least one key (TOKEN_ENCRYPTION_KEY)");
    this.#keys = masterKeys.map((master) => ({
      successor: deriveKey(master, SUCCESSOR_KEY_LABEL),
      tag: deriveKey(master, TAG_KEY_LABEL),
    }));
  }

  /** The first refresh token of a new grant: a random body. */
  first(grantId: string): RefreshToken {
    return this.#token(grantId, Buffer.from(randomToken(BODY_BYTES), "base64url"), this.#current());
  }

  /** The token that replaces `secret` (under the current key). The same input always gives the same token. */
  successor(grantId: string, secret: string): RefreshToken {
    return this.#successorWith(grantId, secret, this.#current());
  }

  /** The successor of `secret` under each key, current key first: a replay finds the one its first use got. */
  successors(grantId: string, secret: string): RefreshToken[] {
    return this.#keys.map((keys) => this.#successorWith(grantId, secret, keys));
  }

  origin(parsed: ParsedRefreshToken): RefreshTokenOrigin {
    if (parsed.secret.length !== encodedLength()) return "legacy";
    const raw = Buffer.from(parsed.secret, "base64url");
    // Only the canonical spelling: another one of the same bytes would hash differently yet carry a valid tag.
    if (raw.length !== BODY_BYTES + TAG_BYTES || raw.toString("base64url") !== parsed.secret) return "forged";
    const body = raw.subarray(0, BODY_BYTES);
    const tag = raw.subarray(BODY_BYTES);
    return this.#keys.some((keys) => timingSafeEqual(tag, tagOf(keys.tag, parsed.grantId, body))) ? "issued" : "forged";
  }

  #current(): KeyPair {
    return this.#keys[0] as KeyPair;
  }

  #successorWith(grantId: string, secret: string, keys: KeyPair): RefreshToken {
    const body = createHmac("sha256", keys.successor).update(`${grantId}.${secret}`).digest();
    return this.#token(grantId, body, keys);
  }

  #token(grantId: string, body: Buffer, keys: KeyPair): RefreshToken {
    const secret = Buffer.concat([body, tagOf(keys.tag, grantId, body)]).toString("base64url");
    return { token: `${grantId}.${secret}`, hash: sha256Hex(secret) };
  }
}

function tagOf(key: Buffer, grantId: string, body: Buffer): Buffer {
  return createHmac("sha256", key).update(`${grantId}.`).update(body).digest().subarray(0, TAG_BYTES);
}

function encodedLength(): number {
  return Math.ceil(((BODY_BYTES + TAG_BYTES) * 4) / 3);
}

export function parseRefreshToken(token: string): ParsedRefreshToken | undefined {
  const dot = token.lastIndexOf(".");
  if (dot <= 0 || dot === token.length - 1) return undefined;
  const grantId = token.slice(0, dot);
  const secret = token.slice(dot + 1);
  if (!/^[A-Za-z0-9_-]+$/.test(grantId) || !/^[A-Za-z0-9_-]{20,200}$/.test(secret)) return undefined;
  return { grantId, secret, hash: sha256Hex(secret) };
}

export function newGrantId(): string {
  return `gr_${randomToken(16)}`;
}
