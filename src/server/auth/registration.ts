import { createHash } from "node:crypto";
import { deflateRawSync, inflateRawSync } from "node:zlib";
import { z } from "zod";
import { isScope } from "../../shared/auth/scopes.ts";
import type { RegisteredClient } from "../../shared/tokens/types.ts";
import { acceptedRedirectUris, type RedirectUriPolicy } from "./redirect-uris.ts";
import { registeredGrantTypes, SUPPORTED_GRANT_TYPES, type ClientAuthMethod } from "./resolved-client.ts";
import { scopeString } from "./scope-param.ts";

/**
 * What a dynamic client registration (RFC 7591) may ask for, and the checks every registration passes — at
 * `/register`, and again when a lapsed public registration is renewed from its self-describing client_id
 * (see `publicClientId`), so that a renewed client is exactly one `/register` would accept today.
 */
const AUTH_METHODS = ["none", "client_secret_post", "client_secret_basic"] as const;

const httpsUrl = z
  .string()
  .max(2000)
  .refine((v) => URL.canParse(v) && new URL(v).protocol === "https:", "must be an https URL");

const registrationSchema = z.looseObject({
  redirect_uris: z.array(z.string()).min(1, "at least one redirect URI is required").max(20),
  token_endpoint_auth_method: z.string().optional(),
  grant_types: z.array(z.string()).optional(),
  response_types: z.array(z.string()).optional(),
  // Cosmetic fields this server cannot use (an http or empty URL, a null or overlong name) are dropped rather than
  // refused: RFC 7591 §2 lets the server replace or ignore requested values, and a self-hosted web client on
  // http://host:3080 should not be shut out over its home page. The answer shows what was kept (§3.2.1).
  client_name: z.string().max(200).optional().catch(undefined),
  client_uri: httpsUrl.optional().catch(undefined),
  logo_uri: httpsUrl.optional().catch(undefined),
  // RFC 7591 §2: a space-separated string; an array of words (sent by some clients) is read as that string.
  scope: z
    .union([z.string(), z.array(z.string()).transform((words) => words.join(" "))])
    .pipe(z.string().max(1000))
    .optional(),
});

/** What a registration asks to store: the client's metadata, without what the server assigns. */
export type RegistrationMetadata = Omit<
  RegisteredClient,
  "client_id" | "client_id_issued_at" | "client_secret" | "client_secret_expires_at"
>;

export type RegistrationCheck =
  /** `droppedRedirectUris`: the requested redirect URIs left out (acceptedRedirectUris), for the log. */
  | { ok: true; metadata: RegistrationMetadata; droppedRedirectUris: string[] }
  | { ok: false; error: "invalid_client_metadata" | "invalid_redirect_uri"; description: string };

/**
 * Checks a registration request body (RFC 7591 §2) and returns the metadata to store, or the RFC 7591 §3.2.2
 * error and a sentence naming the problem and the fix. Defaults: `token_endpoint_auth_method`
 * client_secret_basic, `grant_types` ["authorization_code"] plus refresh_token (registeredGrantTypes says why),
 * `response_types` ["code"]; scope words that are not ours are dropped; redirect URIs follow redirect-uris.ts.
 */
export function checkRegistration(body: unknown, policy: RedirectUriPolicy): RegistrationCheck {
  const parsed = registrationSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      error: "invalid_client_metadata",
      description: `${issue?.path.join(".") || "body"}: ${issue?.message ?? "invalid"} (send a JSON object as in RFC 7591)`,
    };
  }
  const meta = parsed.data;
  // RFC 7591 §2: the default is client_secret_basic.
  const method = (meta.token_endpoint_auth_method ?? "client_secret_basic") as ClientAuthMethod;
  if (!AUTH_METHODS.includes(method)) {
    return {
      ok: false,
      error: "invalid_client_metadata",
      description: `token_endpoint_auth_method must be one of ${AUTH_METHODS.join(", ")}`,
    };
  }
  const grantTypes = registeredGrantTypes(meta.grant_types);
  if (!grantTypes.includes("authorization_code")) {
    return {
      ok: false,
      error: "invalid_client_metadata",
      description:
        `grant_types must include authorization_code (this server supports ${SUPPORTED_GRANT_TYPES.join(" and ")}; ` +
        "a client with authorization_code also gets refresh tokens)",
    };
  }
  const responseTypes = meta.response_types ?? ["code"];
  if (responseTypes.some((t) => t !== "code")) {
    return { ok: false, error: "invalid_client_metadata", description: "response_types may only contain code" };
  }
  // A URI whose private-use scheme is not allowed here is left out when others remain (acceptedRedirectUris).
  const redirects = acceptedRedirectUris(meta.redirect_uris, policy, { publicClient: method === "none" });
  if (redirects.refusal !== undefined) {
    return { ok: false, error: "invalid_redirect_uri", description: redirects.refusal };
  }
  // Scope words we do not know are dropped (RFC 7591 §2 lets the server replace requested metadata).
  const scope = scopeString((meta.scope ?? "").split(" ").filter(isScope));
  return {
    ok: true,
    droppedRedirectUris: redirects.dropped.map((d) => d.uri),
    metadata: {
      redirect_uris: redirects.kept,
      token_endpoint_auth_method: method,
      grant_types: grantTypes,
      response_types: responseTypes,
      ...(meta.client_name !== undefined ? { client_name: meta.client_name } : {}),
      ...(meta.client_uri !== undefined ? { client_uri: meta.client_uri } : {}),
      ...(meta.logo_uri !== undefined ? { logo_uri: meta.logo_uri } : {}),
      ...(scope !== "" ? { scope } : {}),
    },
  };
}

/** The metadata as one string, keys sorted: equal metadata, equal string. */
function canonical(metadata: RegistrationMetadata): string {
  return JSON.stringify(metadata, Object.keys(metadata).sort());
}

/**
 * Prefix of a self-describing public client_id. Only [A-Za-z0-9_-] follow, which MCP clients' own checks and every
 * URL or form accept unescaped. A hash or random id (`mcp_` + 22 characters) that happens to start so does not
 * decode to canonical metadata, so it is never mistaken for one.
 */
const SELF_DESCRIBING_PREFIX = "mcp_m1_";
/**
 * Longest self-describing client_id; metadata that would not fit gets a hash id (and no renewal). Characters. Well
 * under Firestore's 1,500-byte document id (the clients collection is keyed by client_id) and short enough for the
 * access token, which carries the client_id on every MCP request.
 */
const MAX_SELF_DESCRIBING_LENGTH = 1000;
/** Most bytes a self-describing client_id may inflate to (the registration body limit is 16 KB). */
const MAX_METADATA_BYTES = 16_384;

/**
 * The client_id of a public client (token_endpoint_auth_method "none"): its metadata itself, canonical JSON
 * deflated and base64url-encoded after `mcp_m1_` (typically 250–450 characters), so that
 * - the same metadata registered again gets the same client_id (RFC 7591 §3.2.1 lets a server issue one
 *   client_id to several instances of a client), and one stored record, as long as the zlib build is the same
 *   (after a Node upgrade that changes deflate's output, a second record: nodejs/node#50138), and
 * - a registration the store no longer has (no sign-in completed within PENDING_REGISTRATION_TTL_HOURS, or a
 *   wiped DATA_DIR) can be renewed from the id alone (`metadataOfPublicClientId`). Clients cache their client_id
 *   and replay it: Claude Code and Claude Desktop keep sending a pruned one and land on an error page for good
 *   (anthropics/claude-code#84614, #72818) instead of registering again.
 * The id grants nothing: anyone may register the same metadata at /register, and a renewal passes the same checks.
 * Metadata too long for `MAX_SELF_DESCRIBING_LENGTH` gets `mcp_` + 22 base64url characters of its SHA-256 (the
 * earlier form, which stored clients keep), which cannot be renewed.
 */
export function publicClientId(metadata: RegistrationMetadata): string {
  const json = canonical(metadata);
  const id = `${SELF_DESCRIBING_PREFIX}${deflateRawSync(json, { level: 9 }).toString("base64url")}`;
  if (id.length <= MAX_SELF_DESCRIBING_LENGTH) return id;
  return `mcp_${createHash("sha256").update(`dcr-public-client/v1\n${json}`).digest("base64url").slice(0, 22)}`;
}

/**
 * The metadata a self-describing public client_id carries, checked as a registration body would be
 * (`checkRegistration`) and required to be a public client's in canonical form, in a deflate stream with nothing
 * after it, base64url-encoded canonically. The stream itself need not be the one this process's zlib would write:
 * deflate output changes between zlib builds (nodejs/node#50138), and an id issued before a Node upgrade must still
 * renew; so one metadata has more than one acceptable id, each granting only what `/register` would. Returns
 * undefined for any other client_id (a hash id, a confidential client's, a URL) or one that does not decode; a
 * failed check (say REDIRECT_URI_SCHEMES no longer lists the scheme of its only redirect URI) is returned as such, for
 * the error page. One that lists others beside such a URI is undefined (the check would leave the URI out, so the
 * metadata is no longer canonical): the client is told to register again, which then succeeds without it.
 */
export function metadataOfPublicClientId(clientId: string, policy: RedirectUriPolicy): RegistrationCheck | undefined {
  if (!clientId.startsWith(SELF_DESCRIBING_PREFIX) || clientId.length > MAX_SELF_DESCRIBING_LENGTH) return undefined;
  const encoded = clientId.slice(SELF_DESCRIBING_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return undefined;
  const deflated = Buffer.from(encoded, "base64url");
  // One encoding per deflate stream: base64url's unused low bits set, or bytes after the stream's end (which inflate
  // ignores), would otherwise give one registration any number of client_ids.
  if (deflated.toString("base64url") !== encoded) return undefined;
  let json: string;
  let body: unknown;
  try {
    const inflated = inflateRawSync(deflated, { maxOutputLength: MAX_METADATA_BYTES, info: true }) as unknown as {
      buffer: Buffer;
      engine: { bytesWritten: number };
    };
    if (inflated.engine.bytesWritten !== deflated.length) return undefined;
    json = inflated.buffer.toString("utf8");
    body = JSON.parse(json);
  } catch {
    return undefined;
  }
  const checked = checkRegistration(body, policy);
  if (!checked.ok) return checked;
  if (checked.metadata.token_endpoint_auth_method !== "none" || canonical(checked.metadata) !== json) return undefined;
  return checked;
}
