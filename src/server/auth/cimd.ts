import { z } from "zod";
import type { KeyValueStore } from "../../shared/kv/key-value-store.ts";
import type { Logger } from "../../shared/logger.ts";
import { guardedGet, UnsafeUrlError, type GuardedResponse } from "./guarded-get.ts";
import { KNOWN_CLIENT_DOCUMENTS, type KnownClientDocument } from "./known-client-documents.ts";
import { sha256Hex } from "./pkce.ts";
import { isLoopbackHost } from "../../shared/loopback-host.ts";
import { acceptedRedirectUris } from "./redirect-uris.ts";
import {
  registeredGrantTypes,
  SUPPORTED_GRANT_TYPES,
  UnknownClientError,
  type ResolvedClient,
} from "./resolved-client.ts";
import { parseScopes } from "./scope-param.ts";

/**
 * Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document, MCP 2025-11-25): a client whose
 * `client_id` is an https URL is described by the JSON document at that URL. We fetch it through the SSRF guard,
 * validate it, and cache the result in the KeyValueStore (Redis: any instance can use it) for as long as its Cache-Control allows,
 * within [MIN_TTL, MAX_TTL].
 *
 * Stale if error at the token endpoint (modelled on RFC 5861 §4, widened to what document hosts do): each time a
 * client gets tokens with a fresh copy, that copy is kept as its last good one for STALE_IF_ERROR_SEC (7 days).
 * When the document must be fetched again for /token or /revoke and the host does not answer, resets, answers
 * 403, 408, 425, 429 or any 5xx, sends something that is not JSON (a bot challenge; Claude's host has answered
 * server-side fetches so, anthropics/claude-ai-mcp#650), or its name does not resolve, the last good copy stands in,
 * with a warning in the log. Without it every refresh of such a client's grants failed with invalid_client while the
 * host misbehaved, and the user was signed out. Only at /token and /revoke: a new sign-in (/authorize) always needs
 * the document itself, so that a redirect URI the client has withdrawn never receives a code from a stale copy.
 * Any other answer (404 or 410: withdrawn; another 4xx or a redirect; a new document this server refuses, or one
 * that differs from the last good copy), or a URL that now resolves to a non-public address, is obeyed at once and
 * the last good copy is forgotten.
 * The last good copy is written only after a successful token request, so URLs nobody gets tokens for do not
 * occupy the store for a week.
 *
 * Pinned copies (known-client-documents.ts: Claude's, Codex's and ChatGPT's, whose hosts answer some cloud
 * addresses with 403, a bot challenge) stand in for the same passing failures at every endpoint, /authorize
 * included, when there is no last good copy to serve: a first sign-in from such an address has none.
 */

/**
 * The draft recommends a 5 KB cap; real documents have been seen just above it (cloudflare/mcp#45: a
 * client's document tripped a 5,120-byte limit), so we allow 16 KiB: still far too small to matter as a
 * resource cost.
 */
export const CIMD_MAX_BYTES = 16 * 1024;
export const CIMD_TIMEOUT_MS = 5_000;
const MIN_TTL_SEC = 60;
const MAX_TTL_SEC = 24 * 3600;
const DEFAULT_TTL_SEC = 3600;
/** How long the last good copy stands in for a document that cannot be fetched, from the client's last token
 * request served with a fresh copy (7 days). */
export const STALE_IF_ERROR_SEC = 7 * 24 * 3600;
/** Client authentication methods built on a shared secret (draft-ietf-oauth-client-id-metadata-document §4.1). */
const SHARED_SECRET_METHODS = new Set(["client_secret_basic", "client_secret_post", "client_secret_jwt"]);
/** Answers that say "not now" rather than "this is the document": the last good copy stands in for them. */
function passingStatus(status: number): boolean {
  return status >= 500 || status === 403 || status === 408 || status === 425 || status === 429;
}

const documentSchema = z.looseObject({
  client_id: z.string(),
  redirect_uris: z.array(z.string()).min(1).max(20),
  client_name: z.string().max(200).optional(),
  client_uri: z.string().optional(),
  logo_uri: z.string().optional(),
  token_endpoint_auth_method: z.string().optional(),
  // OpenID Connect RP Metadata Choices 1.0: every method the client can use (ChatGPT's document lists it).
  token_endpoint_auth_methods_supported: z.array(z.string()).optional(),
  grant_types: z.array(z.string()).optional(),
  response_types: z.array(z.string()).optional(),
  scope: z.string().optional(),
});

const cachedSchema = z.object({
  clientId: z.string(),
  source: z.literal("metadata-document"),
  name: z.string().optional(),
  redirectUris: z.array(z.string()),
  authMethod: z.literal("none"),
  scopes: z.array(z.string()).optional(),
  // Required: an entry cached before grant types were recorded fails to parse and the document is fetched again.
  grantTypes: z.array(z.enum(SUPPORTED_GRANT_TYPES)),
  /**
   * Epoch ms until which the document's Cache-Control lets the copy be used without fetching it again (the entry's
   * own TTL says the same on the store's clock; this one follows the injected clock).
   */
  freshUntil: z.number(),
});

/** The last good copy (see the module comment), kept when the client last got tokens with a fresh copy. */
const lastGoodSchema = cachedSchema.extend({ keptAt: z.number() });

/** The document cannot be used; the message says why, for the error page and the token endpoint. */
export class ClientMetadataError extends UnknownClientError {
  override name = "ClientMetadataError";
}

export interface ClientMetadataDocumentsOptions {
  kv: KeyValueStore;
  keyPrefix: string;
  /** CIMD_ALLOW_LOOPBACK_HTTP: development and tests only. */
  allowLoopback: boolean;
  /** REDIRECT_URI_SCHEMES: private-use schemes a document's redirect URIs may use (see redirect-uris.ts). */
  redirectUriSchemes: readonly string[];
  logger: Logger;
  /** Clock (epoch ms) for the cached copy's freshness; tests move it. Default Date.now. */
  now?: () => number;
  /** Pinned copies of known clients' documents, by URL (default: KNOWN_CLIENT_DOCUMENTS); tests pin their own. */
  knownDocuments?: Readonly<Record<string, KnownClientDocument>>;
}

export class ClientMetadataDocuments {
  readonly #opts: ClientMetadataDocumentsOptions;

  readonly #pinned = new Map<string, ResolvedClient>();

  /** Throws ClientMetadataError when a pinned copy does not pass the checks a fetched document must pass. */
  constructor(opts: ClientMetadataDocumentsOptions) {
    this.#opts = opts;
    for (const [url, doc] of Object.entries(opts.knownDocuments ?? KNOWN_CLIENT_DOCUMENTS)) {
      const body = Buffer.from(JSON.stringify(doc));
      this.#pinned.set(
        url,
        this.#validate(url, { status: 200, headers: { "content-type": "application/json" }, body }),
      );
    }
  }

  /** Whether this client_id is meant as a metadata document URL (rather than an id we issued). */
  static isMetadataUrl(clientId: string): boolean {
    return /^https?:\/\//i.test(clientId);
  }

  /**
   * The client described by the document at `clientId`: the cached copy while fresh, else fetched again. With
   * `allowStale` (the token and revocation endpoints), the last good copy stands in when the fetch fails for a
   * passing reason, marked `servedStale` (see the module comment); without one, a pinned copy of a known client's
   * document does, at any endpoint, also marked `servedStale`. Throws ClientMetadataError (an UnknownClientError)
   * naming why the document cannot be used.
   */
  async resolve(clientId: string, options: { allowStale?: boolean } = {}): Promise<ResolvedClient> {
    const url = this.#checkedUrl(clientId);
    const key = this.#key("cimd", clientId);
    const lastGoodKey = this.#key("cimd-last-good", clientId);
    const now = this.#now();
    const cached = parseStored(cachedSchema, await this.#opts.kv.get(key));
    if (cached !== undefined && cached.freshUntil > now) return withoutBookkeeping(cached);
    /** The last good copy, when allowed here and still within its 7 days; undefined otherwise. */
    const stale = async (why: string): Promise<ResolvedClient | undefined> => {
      if (options.allowStale !== true) return undefined;
      const kept = parseStored(lastGoodSchema, await this.#opts.kv.get(lastGoodKey));
      if (kept === undefined || kept.keptAt + STALE_IF_ERROR_SEC * 1000 <= now) return undefined;
      this.#opts.logger.warn(
        { clientId, why, keptAt: new Date(kept.keptAt).toISOString() },
        "client metadata document could not be fetched again: serving the last good copy",
      );
      return { ...withoutBookkeeping(kept), servedStale: true };
    };
    /** What stands in for a passing failure: the last good copy where allowed, else a pinned copy (any endpoint). */
    const standInFor = async (why: string): Promise<ResolvedClient | undefined> => {
      const kept = await stale(why);
      if (kept !== undefined) return kept;
      const pinned = this.#pinned.get(clientId);
      if (pinned === undefined) return undefined;
      this.#opts.logger.warn(
        { clientId, why },
        "client metadata document could not be fetched: serving the copy pinned in this server",
      );
      return { ...pinned, servedStale: true };
    };
    let response: GuardedResponse;
    try {
      response = await guardedGet(url, {
        maxBytes: CIMD_MAX_BYTES,
        timeoutMs: CIMD_TIMEOUT_MS,
        allowLoopback: this.#opts.allowLoopback,
        accept: "application/json",
      });
    } catch (error) {
      const passing = !(error instanceof UnsafeUrlError) || error.transient;
      const standIn = passing ? await standInFor("it could not be fetched") : undefined;
      if (standIn !== undefined) return standIn;
      if (!passing) await this.#forget(lastGoodKey);
      // The requester learns that the URL was refused and the generic reason; what a name resolved to, and the
      // network error, stay in our log (they would map our network for whoever sent the URL).
      const reason = error instanceof UnsafeUrlError ? error.message : "it could not be fetched";
      const detail = error instanceof UnsafeUrlError ? error.detail : undefined;
      this.#opts.logger.info({ clientId, detail, err: error }, "client metadata document refused");
      throw new ClientMetadataError(`The client metadata document at ${clientId} cannot be used: ${reason}.`);
    }
    const passing = passingStatus(response.status) || (response.status === 200 && !isJsonType(response));
    const why = `HTTP ${response.status}${response.headers["cf-mitigated"] === undefined ? "" : ` (cf-mitigated: ${String(response.headers["cf-mitigated"])})`}`;
    const standIn = passing ? await standInFor(why) : undefined;
    if (standIn !== undefined) return standIn;
    let client: ResolvedClient;
    try {
      client = this.#validate(clientId, response);
    } catch (error) {
      // The document answered, and it is not one we can use: the last good copy must not stand in for it later.
      if (!passing) await this.#forget(lastGoodKey);
      throw error;
    }
    const ttl = cacheTtlSec(response.headers["cache-control"]);
    const entry: z.infer<typeof cachedSchema> = { ...toCached(client), freshUntil: now + ttl * 1000 };
    await this.#opts.kv.set(key, JSON.stringify(entry), ttl * 1000);
    // A document that changed (a redirect URI or grant type withdrawn) must not be stood in for by its old self.
    const kept = parseStored(lastGoodSchema, await this.#opts.kv.get(lastGoodKey));
    if (kept !== undefined && canonical(withoutBookkeeping(kept)) !== canonical(toCached(client))) {
      await this.#forget(lastGoodKey);
    }
    return client;
  }

  /**
   * `client` just got tokens (a code exchange or a refresh): if it came from a fresh copy of its document, that copy
   * becomes the client's last good one for STALE_IF_ERROR_SEC. A failure to write it is logged, never thrown: the
   * tokens are already issued.
   */
  async keepLastGood(client: ResolvedClient): Promise<void> {
    if (client.source !== "metadata-document" || client.servedStale === true) return;
    const kept: z.infer<typeof lastGoodSchema> = { ...toCached(client), freshUntil: 0, keptAt: this.#now() };
    await this.#opts.kv
      .set(this.#key("cimd-last-good", client.clientId), JSON.stringify(kept), STALE_IF_ERROR_SEC * 1000)
      .catch((error: unknown) => {
        this.#opts.logger.warn(
          { err: error, clientId: client.clientId },
          "could not keep the document's last good copy",
        );
      });
  }

  #key(kind: "cimd" | "cimd-last-good", clientId: string): string {
    return `${this.#opts.keyPrefix}:oauth:${kind}:${sha256Hex(clientId)}`;
  }

  #now(): number {
    return (this.#opts.now ?? Date.now)();
  }

  /** Drops a last good copy; a store error is logged (the copy then expires by itself), not thrown. */
  async #forget(key: string): Promise<void> {
    await this.#opts.kv.delete(key).catch((error: unknown) => {
      this.#opts.logger.warn({ err: error }, "could not forget a client metadata document's last good copy");
    });
  }

  /** Client identifier URL rules (draft §3): https, a path, no fragment, no credentials, no dot segments. */
  #checkedUrl(clientId: string): URL {
    const fail = (why: string): never => {
      throw new ClientMetadataError(`The client_id ${clientId} is not a valid client metadata URL: ${why}.`);
    };
    let url: URL;
    try {
      url = new URL(clientId);
    } catch {
      return fail("it is not a URL");
    }
    const loopbackHttp = url.protocol === "http:" && this.#opts.allowLoopback && isLoopbackHost(url.hostname);
    if (url.protocol !== "https:" && !loopbackHttp) fail("it must use https");
    if (url.hash !== "" || clientId.includes("#")) fail("it must not contain a fragment");
    if (url.username !== "" || url.password !== "") fail("it must not contain credentials");
    const rawPath = clientId.replace(/^[a-z]+:\/\/[^/?#]*/i, "").split("?")[0] ?? "";
    if (rawPath === "" || rawPath === "/") fail("it must have a path");
    if (rawPath.split("/").some((seg) => seg === "." || seg === "..")) fail("it must not contain . or .. segments");
    return url;
  }

  #validate(clientId: string, response: GuardedResponse): ResolvedClient {
    const fail = (why: string): never => {
      throw new ClientMetadataError(`The client metadata document at ${clientId} cannot be used: ${why}.`);
    };
    if (response.status !== 200) fail(`it answered HTTP ${response.status} (redirects are not followed)`);
    if (!isJsonType(response))
      fail(`its content type is ${JSON.stringify(contentType(response))}, not application/json`);
    let json: unknown;
    try {
      json = JSON.parse(response.body.toString("utf8"));
    } catch {
      return fail("it is not valid JSON");
    }
    const parsed = documentSchema.safeParse(json);
    if (!parsed.success) return fail(`it is not a client metadata document (${parsed.error.issues[0]?.message})`);
    const doc = parsed.data;
    // Simple string comparison, no normalisation (draft §4.1).
    if (doc.client_id !== clientId) fail(`its client_id ${JSON.stringify(doc.client_id)} differs from its URL`);
    if ("client_secret" in doc || "client_secret_expires_at" in doc) fail("it must not contain a client secret");
    const method = doc.token_endpoint_auth_method ?? "none";
    if (SHARED_SECRET_METHODS.has(method)) {
      // The draft (§4.1) forbids them: nobody ever issued this client a secret.
      fail(`token_endpoint_auth_method ${method} uses a shared secret, which a metadata document must not name`);
    }
    // The method named is the client's preference; one it also offers (Metadata Choices) that we support is taken
    // instead: ChatGPT names private_key_jwt and offers ["none", "private_key_jwt"]. We then serve it as the public
    // client (PKCE) it says it can be; a client assertion it sends anyway is not checked.
    if (method !== "none" && doc.token_endpoint_auth_methods_supported?.includes("none") !== true) {
      fail(
        `token_endpoint_auth_method ${method} is not supported here, and token_endpoint_auth_methods_supported does ` +
          `not offer none (a public client with PKCE, the only kind of metadata-document client served here)`,
      );
    }
    if (doc.response_types !== undefined && !doc.response_types.includes("code")) fail("response_types lacks code");
    // Grant types we do not implement (device_code, jwt-bearer, …) are ignored: the document asks, we decide
    // (RFC 7591 §3.2.1). Without authorization_code the client could never get a token here.
    const grantTypes = registeredGrantTypes(doc.grant_types);
    if (!grantTypes.includes("authorization_code")) fail("grant_types lacks authorization_code");
    // A URI whose private-use scheme is not allowed here is left out when others remain (acceptedRedirectUris):
    // no code is ever sent to it, and the client signs in through the others.
    const policy = { privateUseSchemes: this.#opts.redirectUriSchemes };
    const redirects = acceptedRedirectUris(doc.redirect_uris, policy, { publicClient: true });
    if (redirects.refusal !== undefined) fail(redirects.refusal);
    if (redirects.dropped.length > 0) {
      this.#opts.logger.info(
        { clientId, droppedRedirectUris: redirects.dropped.map((d) => d.uri) },
        "client metadata document: redirect URIs left out (REDIRECT_URI_SCHEMES does not list their schemes)",
      );
    }
    // Scope words that are not ours are dropped; none of ours left means no restriction.
    const scopes = parseScopes(doc.scope).scopes;
    return {
      clientId,
      source: "metadata-document",
      ...(doc.client_name !== undefined ? { name: doc.client_name } : {}),
      redirectUris: redirects.kept,
      authMethod: "none",
      ...(scopes.length > 0 ? { scopes } : {}),
      grantTypes,
    };
  }
}

function contentType(response: GuardedResponse): string {
  return (
    String(response.headers["content-type"] ?? "")
      .split(";")[0]
      ?.trim()
      .toLowerCase() ?? ""
  );
}

/** `application/json` or `application/<something>+json`. */
function isJsonType(response: GuardedResponse): boolean {
  const type = contentType(response);
  return type === "application/json" || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

/** A stored entry read with `schema`; absent, corrupt or of an older shape: undefined (the document is fetched). */
function parseStored<T>(schema: z.ZodType<T>, stored: string | undefined): T | undefined {
  if (stored === undefined) return undefined;
  try {
    const parsed = schema.safeParse(JSON.parse(stored));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The stored fields of a client (what `cachedSchema` keeps), without the stale marker. */
function toCached(client: ResolvedClient): Omit<z.infer<typeof cachedSchema>, "freshUntil"> {
  const { servedStale: _servedStale, ...rest } = client;
  return rest as Omit<z.infer<typeof cachedSchema>, "freshUntil">;
}

/** JSON with object keys sorted, so that two copies compare equal whatever order their fields were written in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

function withoutBookkeeping(stored: z.infer<typeof cachedSchema> & { keptAt?: number }): ResolvedClient {
  const { freshUntil: _freshUntil, keptAt: _keptAt, ...client } = stored;
  return client as ResolvedClient;
}

/** max-age within bounds; no-store / no-cache still cache for the minimum so one sign-in does not refetch. */
export function cacheTtlSec(header: string | string[] | undefined): number {
  const value = Array.isArray(header) ? header.join(",") : (header ?? "");
  if (/\b(no-store|no-cache)\b/i.test(value)) return MIN_TTL_SEC;
  const maxAge = /\bmax-age=(\d+)/i.exec(value);
  if (maxAge === null) return DEFAULT_TTL_SEC;
  return Math.min(MAX_TTL_SEC, Math.max(MIN_TTL_SEC, Number(maxAge[1])));
}
