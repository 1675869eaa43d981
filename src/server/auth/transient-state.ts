import type { Redis } from "ioredis";
import type { Scope } from "../../shared/auth/scopes.ts";
import { sha256Hex } from "./pkce.ts";

/**
 * Everything that lives only between the steps of one sign-in, kept in Redis with a TTL so that any instance
 * can serve any step (stateless web tier). Single-use values are taken with GETDEL: of two concurrent takers,
 * exactly one gets the value. Codes are keyed by their SHA-256, so a Redis dump holds no usable code.
 */

/** What the client asked for at /authorize, once validated. */
export interface AuthorizationRequest {
  clientId: string;
  clientName?: string;
  redirectUri: string;
  /** Whether redirect_uri was in the request: then /token must repeat it (RFC 6749 §4.1.3). */
  redirectUriGiven: boolean;
  codeChallenge: string;
  state?: string;
  scopes: Scope[];
  resource: string;
}

/** Shown on the consent page, waiting for the decision POST. */
export interface PendingConsent extends AuthorizationRequest {
  csrfToken: string;
}

/** Approved; waiting for Airtable to send the user back to /oauth/callback. */
export interface UpstreamAttempt extends AuthorizationRequest {
  /** Our PKCE verifier for the Airtable leg. */
  upstreamVerifier: string;
}

/** Our authorization code's meaning. */
export interface IssuedCode {
  clientId: string;
  redirectUri: string;
  redirectUriGiven: boolean;
  codeChallenge: string;
  scopes: Scope[];
  resource: string;
  userId: string;
}

export const PENDING_TTL_SEC = 600;
export const UPSTREAM_TTL_SEC = 600;
export const CODE_TTL_SEC = 300;
/** How long a used code is remembered, to recognise a replay and revoke what it produced. */
const USED_CODE_TTL_SEC = 3600;

export class TransientState {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(redis: Redis, keyPrefix: string) {
    this.#redis = redis;
    this.#prefix = `${keyPrefix}:oauth`;
  }

  putPending(id: string, value: PendingConsent): Promise<unknown> {
    return this.#put(`pending:${id}`, value, PENDING_TTL_SEC);
  }

  getPending(id: string): Promise<PendingConsent | undefined> {
    return this.#get(`pending:${id}`);
  }

  takePending(id: string): Promise<PendingConsent | undefined> {
    return this.#take(`pending:${id}`);
  }

  putUpstream(state: string, value: UpstreamAttempt): Promise<unknown> {
    return this.#put(`upstream:${sha256Hex(state)}`, value, UPSTREAM_TTL_SEC);
  }

  takeUpstream(state: string): Promise<UpstreamAttempt | undefined> {
    return this.#take(`upstream:${sha256Hex(state)}`);
  }

  putCode(code: string, value: IssuedCode): Promise<unknown> {
    return this.#put(`code:${sha256Hex(code)}`, value, CODE_TTL_SEC);
  }

  takeCode(code: string): Promise<IssuedCode | undefined> {
    return this.#take(`code:${sha256Hex(code)}`);
  }

  /** Remembers that `code` was redeemed and which grant it is creating. */
  async markCodeUsed(code: string, grantId: string): Promise<void> {
    await this.#redis.set(this.#key(`code-used:${sha256Hex(code)}`), grantId, "EX", USED_CODE_TTL_SEC);
  }

  /** The grant a used code produced, when `code` was redeemed before. */
  async grantOfUsedCode(code: string): Promise<string | undefined> {
    return (await this.#redis.get(this.#key(`code-used:${sha256Hex(code)}`))) ?? undefined;
  }

  #key(name: string): string {
    return `${this.#prefix}:${name}`;
  }

  #put(name: string, value: unknown, ttlSec: number): Promise<unknown> {
    return this.#redis.set(this.#key(name), JSON.stringify(value), "EX", ttlSec);
  }

  async #get<T>(name: string): Promise<T | undefined> {
    const raw = await this.#redis.get(this.#key(name));
    return raw === null ? undefined : (JSON.parse(raw) as T);
  }

  async #take<T>(name: string): Promise<T | undefined> {
    const raw = await this.#redis.getdel(this.#key(name));
    return raw === null ? undefined : (JSON.parse(raw) as T);
  }
}
