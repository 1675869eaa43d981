import type { Scope } from "../../shared/auth/scopes.ts";
import type { KeyValueStore } from "../../shared/kv/key-value-store.ts";
import { sha256Hex } from "./pkce.ts";

/**
 * Everything that lives only between the steps of one sign-in, kept in the KeyValueStore (Redis: any instance can
 * serve any step, the stateless web tier; embedded: SQLite, so a restart mid-sign-in loses nothing) with a TTL.
 * Single-use values are taken with `take` (GETDEL): of two concurrent takers, exactly one gets the value. Codes are
 * keyed by their SHA-256, so a dump of the store holds no usable code.
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
  /**
   * Whether the client identified itself with a metadata document, for showing the page again (nothing chosen).
   * Absent in requests stored by an earlier version: the page then says the name is not verified.
   */
  metadataDocument?: boolean;
}

/** Approved; waiting for Airtable to send the user back to /oauth/callback. */
export interface UpstreamAttempt extends AuthorizationRequest {
  /** Our PKCE verifier for the Airtable leg. */
  upstreamVerifier: string;
  /**
   * The scopes whose Airtable scopes Airtable was asked for: the client's request, while `scopes` is what the person
   * ticked (a subset). Absent in attempts stored by an earlier version, which asked for `scopes`' Airtable scopes.
   */
  upstreamScopes?: Scope[];
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
  readonly #kv: KeyValueStore;
  readonly #prefix: string;

  constructor(kv: KeyValueStore, keyPrefix: string) {
    this.#kv = kv;
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
    await this.#kv.set(this.#key(`code-used:${sha256Hex(code)}`), grantId, USED_CODE_TTL_SEC * 1000);
  }

  /** The grant a used code produced, when `code` was redeemed before. */
  async grantOfUsedCode(code: string): Promise<string | undefined> {
    return this.#kv.get(this.#key(`code-used:${sha256Hex(code)}`));
  }

  #key(name: string): string {
    return `${this.#prefix}:${name}`;
  }

  #put(name: string, value: unknown, ttlSec: number): Promise<unknown> {
    return this.#kv.set(this.#key(name), JSON.stringify(value), ttlSec * 1000);
  }

  async #get<T>(name: string): Promise<T | undefined> {
    const raw = await this.#kv.get(this.#key(name));
    return raw === undefined ? undefined : (JSON.parse(raw) as T);
  }

  async #take<T>(name: string): Promise<T | undefined> {
    const raw = await this.#kv.take(this.#key(name));
    return raw === undefined ? undefined : (JSON.parse(raw) as T);
  }
}
