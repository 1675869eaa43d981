import { createHash, hash, randomUUID } from "node:crypto";
import { errors, jwtVerify, SignJWT, type JWTPayload } from "jose";
import { isScope, type Scope } from "../../shared/auth/scopes.ts";

/**
 * Our access tokens: JWTs (RFC 9068 profile, `typ: at+jwt`) signed HS256 with a key derived from
 * TOKEN_ENCRYPTION_KEY. HS256 because the issuer and the only verifier are the same service: a symmetric key
 * needs no key pair, no JWKS endpoint and no extra secret to deploy, and verifying costs microseconds with no
 * storage round trip. (ES256 would only pay off if a third party had to verify our tokens.) The previous
 * TOKEN_ENCRYPTION_KEY still verifies during a rotation; `kid` says which key signed.
 */
export interface AccessTokenClaims {
  userId: string;
  clientId: string;
  scopes: Scope[];
  grantId: string;
  /** Epoch seconds. */
  expiresAt: number;
  resource: string;
}

export class InvalidAccessTokenError extends Error {
  override name = "InvalidAccessTokenError";
}

interface SigningKey {
  kid: string;
  secret: Uint8Array;
}

/** At most this many verified tokens are remembered per process (~0.5 kB each: ≤ ~5 MB). */
export const VERIFIED_TOKENS_MAX = 10_000;

export class AccessTokens {
  readonly #issuer: string;
  readonly #audience: string;
  readonly #ttlSec: number;
  readonly #keys: SigningKey[];
  /**
   * Tokens whose signature and claims were verified, with their claims, until they expire (issue 15: the same
   * token arrives on every MCP request of a client, and jose's HMAC verify with a fresh key object per call was a
   * top cost per call). Safe because verification is a pure function of the token, the keys (fixed for the
   * process) and the time, and the time is re-checked on every hit (`exp`, to the second, like jwtVerify). What
   * can change about a valid token — its grant being revoked — is not decided here: requireBearer still asks
   * the RevocationList on every request. Bounded: when full, the oldest entry goes (insertion order). Keyed by
   * the token's SHA-256, so the bearer tokens themselves are not kept in memory (a heap dump shows no token).
   */
  readonly #verified = new Map<string, AccessTokenClaims>();
  readonly #verifiedMax: number;

  /** `keys[0]` signs; every key verifies. */
  /** `verifiedMax`: how many verified tokens to remember (default VERIFIED_TOKENS_MAX; 0 turns it off). */
  constructor(opts: { issuer: string; audience: string; ttlSec: number; keys: Uint8Array[]; verifiedMax?: number }) {
    if (opts.keys.length === 0) throw new Error("AccessTokens needs at least one key");
    this.#verifiedMax = opts.verifiedMax ?? VERIFIED_TOKENS_MAX;
    this.#issuer = opts.issuer;
    this.#audience = opts.audience;
    this.#ttlSec = opts.ttlSec;
    this.#keys = opts.keys.map((secret) => ({
      secret,
      kid: createHash("sha256").update(secret).digest("base64url").slice(0, 8),
    }));
  }

  get ttlSec(): number {
    return this.#ttlSec;
  }

  async issue(claims: { userId: string; clientId: string; scopes: Scope[]; grantId: string }): Promise<string> {
    const key = this.#keys[0] as SigningKey;
    return new SignJWT({ client_id: claims.clientId, scope: claims.scopes.join(" "), gid: claims.grantId })
      .setProtectedHeader({ alg: "HS256", typ: "at+jwt", kid: key.kid })
      .setIssuer(this.#issuer)
      .setAudience(this.#audience)
      .setSubject(claims.userId)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime(`${this.#ttlSec}s`)
      .sign(key.secret);
  }

  /** How many verified tokens are remembered right now (≤ the bound). */
  get verifiedCount(): number {
    return this.#verified.size;
  }

  /**
   * Signature, issuer, audience (exactly our /mcp URL) and expiry; throws InvalidAccessTokenError. A token
   * verified before is answered from memory while it has not expired (see #verified); revocation is the
   * caller's check (RevocationList).
   */
  async verify(token: string): Promise<AccessTokenClaims> {
    // One-shot `hash` (Node ≥ 21.7): no Hash object per request, half the CPU of createHash().update().digest().
    const digest = hash("sha256", token, "base64url");
    const known = this.#verified.get(digest);
    if (known !== undefined) {
      if (known.expiresAt > Date.now() / 1000) return known;
      this.#verified.delete(digest);
      throw new InvalidAccessTokenError("The access token expired");
    }
    const claims = await this.#verifyOnce(token);
    if (this.#verifiedMax > 0) {
      if (this.#verified.size >= this.#verifiedMax) {
        this.#verified.delete(this.#verified.keys().next().value as string);
      }
      this.#verified.set(digest, claims);
    }
    return claims;
  }

  async #verifyOnce(token: string): Promise<AccessTokenClaims> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(
        token,
        (header) => {
          const key = this.#keys.find((k) => k.kid === header.kid);
          if (key === undefined) throw new InvalidAccessTokenError("The access token was signed with an unknown key");
          return key.secret;
        },
        {
          algorithms: ["HS256"],
          typ: "at+jwt",
          issuer: this.#issuer,
          audience: this.#audience,
          requiredClaims: ["sub", "exp", "jti", "client_id", "gid"],
        },
      ));
    } catch (error) {
      throw new InvalidAccessTokenError(describe(error));
    }
    const { sub, exp, aud, client_id: clientId, gid, scope } = payload;
    if (aud !== this.#audience) throw new InvalidAccessTokenError("The access token is not for this resource");
    if (typeof clientId !== "string" || typeof gid !== "string" || typeof sub !== "string" || exp === undefined) {
      throw new InvalidAccessTokenError("The access token is malformed");
    }
    const scopes = typeof scope === "string" ? scope.split(" ").filter(isScope) : [];
    return { userId: sub, clientId, grantId: gid, scopes, expiresAt: exp, resource: this.#audience };
  }
}

function describe(error: unknown): string {
  if (error instanceof InvalidAccessTokenError) return error.message;
  if (error instanceof errors.JWTExpired) return "The access token expired";
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "aud") return "The access token was not issued for this resource";
    if (error.claim === "iss") return "The access token was not issued by this server";
    return `The access token's ${error.claim} claim is invalid`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return "The access token's signature is invalid";
  return "The access token is malformed";
}
