import type { Request } from "express";
import type { ClientDirectory } from "./clients.ts";
import { invalidClient, invalidRequest } from "./oauth-error.ts";
import { safeEqual, sha256Hex } from "./pkce.ts";
import type { FailureLimit } from "./rate-limit.ts";
import { UnknownClientError, type ResolvedClient } from "./resolved-client.ts";

/**
 * Client authentication at /token and /revoke (RFC 6749 §2.3): HTTP Basic (client_secret_basic), the secret in
 * the form (client_secret_post), or none (a public client names itself with client_id). A confidential client
 * may use either secret method; a public client must not present a secret.
 *
 * With `failures`, wrong secrets are counted per client_id and, past the limit, every secret presented for
 * that client_id is answered 429 with Retry-After until the window closes (RFC 6749 §10.10: guessing
 * credentials must be made hard). Throws OAuthError (invalid_client 401, invalid_request 400, 429).
 */
export async function authenticateClient(
  req: Request,
  clients: ClientDirectory,
  failures?: FailureLimit,
): Promise<ResolvedClient> {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const bodyId = stringField(body, "client_id");
  const bodySecret = stringField(body, "client_secret");
  const basic = parseBasic(req.headers.authorization);
  const usedBasic = basic !== undefined;
  if (req.headers.authorization !== undefined && !usedBasic) {
    throw invalidClient("Unsupported Authorization header: use HTTP Basic or send client_id in the body");
  }
  if (basic !== undefined && bodySecret !== undefined) {
    throw invalidRequest("Use one client authentication method, not both Basic and client_secret");
  }
  if (basic !== undefined && bodyId !== undefined && bodyId !== basic.id) {
    throw invalidRequest("client_id in the body differs from the one in the Authorization header");
  }
  const clientId = basic?.id ?? bodyId ?? assertedClientId(body);
  if (clientId === undefined) throw invalidClient("client_id is required");
  let client: ResolvedClient;
  try {
    // A client that already has grants keeps refreshing while its metadata document's host misbehaves (cimd.ts).
    client = await clients.get(clientId, { allowStale: true });
  } catch (error) {
    if (error instanceof UnknownClientError) throw invalidClient(error.message, usedBasic);
    throw error;
  }
  const secret = basic?.secret ?? bodySecret;
  if (client.secretHash === undefined) {
    if (secret !== undefined && secret !== "")
      throw invalidClient("This is a public client: send no secret", usedBasic);
    return client;
  }
  if (secret === undefined) throw invalidClient("Client authentication required", usedBasic);
  await failures?.check(client.clientId);
  if (!hashMatches(secret, client.secretHash)) {
    await failures?.fail(client.clientId);
    throw invalidClient("Client authentication failed", usedBasic);
  }
  return client;
}

function stringField(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw invalidRequest(`${name} must appear once`);
  return value;
}

function parseBasic(header: string | undefined): { id: string; secret: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? "");
  if (match === null) return undefined;
  const decoded = Buffer.from(match[1] as string, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) throw invalidClient("Malformed Basic credentials", true);
  try {
    // RFC 6749 §2.3.1: both parts are form-urlencoded before encoding.
    return {
      id: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, " ")),
      secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, " ")),
    };
  } catch {
    throw invalidClient("Malformed Basic credentials", true);
  }
}

function hashMatches(secret: string, stored: string): boolean {
  return safeEqual(`sha256:${sha256Hex(secret)}`, stored);
}

const JWT_BEARER_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/**
 * The client a `client_assertion` names (its `sub`, RFC 7523 §3: the client_id), for a client that sends one and
 * no `client_id` (RFC 7521 §4.2 makes client_id optional then). The assertion is NOT verified: the clients that send
 * one here are metadata-document clients that also offer `none` (ChatGPT), served as public clients with PKCE, for
 * which a client_id in the body would be taken on its word just the same. Undefined when there is no readable one.
 */
function assertedClientId(body: Record<string, unknown>): string | undefined {
  const assertion = stringField(body, "client_assertion");
  if (stringField(body, "client_assertion_type") !== JWT_BEARER_ASSERTION || assertion === undefined) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(assertion.split(".")[1] ?? "", "base64url").toString("utf8")) as unknown;
    const sub = (payload as { sub?: unknown } | null)?.sub;
    return typeof sub === "string" && sub !== "" ? sub : undefined;
  } catch {
    return undefined;
  }
}
