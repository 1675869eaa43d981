import { createHash } from "node:crypto";
import type { Request, Response } from "express";
import { z } from "zod";
import { isScope } from "../../shared/auth/scopes.ts";
import type { RegisteredClient } from "../../shared/tokens/types.ts";
import type { AuthContext } from "./context.ts";
import { noStore } from "./oauth-error.ts";
import { randomToken, sha256Hex } from "./pkce.ts";
import { redirectUriProblem } from "./redirect-uris.ts";
import { registeredGrantTypes, SUPPORTED_GRANT_TYPES, type ClientAuthMethod } from "./resolved-client.ts";
import { scopeString } from "./scope-param.ts";

/**
 * RFC 7591 dynamic client registration. Public clients (token_endpoint_auth_method "none") are welcome: PKCE
 * protects them. A confidential client gets a secret once, in this answer; we keep only its SHA-256.
 * Redirect URIs follow redirect-uris.ts (private-use schemes from REDIRECT_URI_SCHEMES, public clients only).
 * `grant_types`: omitted means ["authorization_code"] (RFC 7591 §2); `refresh_token` is added to any registration
 * with `authorization_code` (registeredGrantTypes says why), grant types we do not implement are dropped (RFC 7591
 * §3.2.1), and the answer shows what we kept.
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

function refuse(res: Response, error: string, description: string): void {
  noStore(res);
  res.status(400).json({ error, error_description: description });
}

export function registerHandler(ctx: AuthContext) {
  return async (req: Request, res: Response): Promise<void> => {
    const parsed = registrationSchema.safeParse(req.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return refuse(
        res,
        "invalid_client_metadata",
        `${issue?.path.join(".") || "body"}: ${issue?.message ?? "invalid"} (send a JSON object as in RFC 7591)`,
      );
    }
    const meta = parsed.data;
    // RFC 7591 §2: the default is client_secret_basic.
    const method = (meta.token_endpoint_auth_method ?? "client_secret_basic") as ClientAuthMethod;
    if (!AUTH_METHODS.includes(method)) {
      return refuse(
        res,
        "invalid_client_metadata",
        `token_endpoint_auth_method must be one of ${AUTH_METHODS.join(", ")}`,
      );
    }
    const grantTypes = registeredGrantTypes(meta.grant_types);
    if (!grantTypes.includes("authorization_code")) {
      return refuse(
        res,
        "invalid_client_metadata",
        `grant_types must include authorization_code (this server supports ${SUPPORTED_GRANT_TYPES.join(" and ")}; ` +
          "a client with authorization_code also gets refresh tokens)",
      );
    }
    const responseTypes = meta.response_types ?? ["code"];
    if (responseTypes.some((t) => t !== "code")) {
      return refuse(res, "invalid_client_metadata", "response_types may only contain code");
    }
    const policy = { privateUseSchemes: ctx.deps.config.REDIRECT_URI_SCHEMES };
    for (const uri of meta.redirect_uris) {
      const problem = redirectUriProblem(uri, policy, { publicClient: method === "none" });
      if (problem !== undefined) return refuse(res, "invalid_redirect_uri", problem);
    }
    // Scope words we do not know are dropped (RFC 7591 §2 lets the server replace requested metadata).
    const scope = scopeString((meta.scope ?? "").split(" ").filter(isScope));

    const { client, secret, reused } = await storeRegistration(ctx, {
      redirect_uris: meta.redirect_uris,
      token_endpoint_auth_method: method,
      grant_types: grantTypes,
      response_types: responseTypes,
      ...(meta.client_name !== undefined ? { client_name: meta.client_name } : {}),
      ...(meta.client_uri !== undefined ? { client_uri: meta.client_uri } : {}),
      ...(meta.logo_uri !== undefined ? { logo_uri: meta.logo_uri } : {}),
      ...(scope !== "" ? { scope } : {}),
    });
    ctx.deps.logger.info(
      { clientId: client.client_id, clientName: client.client_name, method, reused },
      reused ? "client registration repeated: existing record answered" : "client registered",
    );
    noStore(res);
    res.status(201).json({ ...client, ...(secret !== undefined ? { client_secret: secret } : {}) });
  };
}

/** What a registration asks to store: the client's metadata, without what the server assigns. */
type RegistrationMetadata = Omit<
  RegisteredClient,
  "client_id" | "client_id_issued_at" | "client_secret" | "client_secret_expires_at"
>;

/**
 * Stores a registration so that registering stays cheap however often clients do it (Claude.ai may register on
 * every connect; many users behind one egress IP):
 * - Every new registration is pending: the TokenStore deletes it unless a sign-in with it completes within
 *   PENDING_REGISTRATION_TTL_HOURS (Grants.create makes it permanent). Registrations nobody uses cannot pile up.
 * - A public client (token_endpoint_auth_method "none") gets a client_id derived from its metadata (SHA-256 of
 *   every stored field), so the same metadata registered again is answered with the same client — no new record;
 *   a still-pending one gets a new deadline. RFC 7591 §3.2.1 lets a server issue one client_id to several
 *   instances of a client. It gives no one anything: the record is byte for byte what they asked for, the same
 *   redirect URIs, no secret, PKCE required. (A Client ID Metadata Document client works the same way.)
 * - A confidential client gets a random client_id and a new secret every time: we keep only the secret's hash,
 *   so an earlier registration's secret cannot be handed out again. It is pending like any other.
 */
async function storeRegistration(
  ctx: AuthContext,
  metadata: RegistrationMetadata,
): Promise<{ client: RegisteredClient; secret?: string; reused: boolean }> {
  const now = ctx.now();
  const pendingUntil = now + ctx.deps.config.PENDING_REGISTRATION_TTL_HOURS * 3600_000;
  const issuedAt = Math.floor(now / 1000);
  if (metadata.token_endpoint_auth_method === "none") {
    const client: RegisteredClient = {
      client_id: publicClientId(metadata),
      client_id_issued_at: issuedAt,
      ...metadata,
    };
    const stored = await ctx.deps.store.putPendingClient(client, pendingUntil);
    return { client: stored.client, reused: !stored.created };
  }
  const secret = randomToken(32);
  const client: RegisteredClient = {
    client_id: `mcp_${randomToken(16)}`,
    client_id_issued_at: issuedAt,
    ...metadata,
    client_secret: `sha256:${sha256Hex(secret)}`,
    client_secret_expires_at: 0,
  };
  await ctx.deps.store.putPendingClient(client, pendingUntil);
  return { client, secret, reused: false };
}

/** `mcp_` + 22 base64url characters (132 bits) of SHA-256 over the metadata, keys sorted. */
function publicClientId(metadata: RegistrationMetadata): string {
  const canonical = JSON.stringify(metadata, Object.keys(metadata).sort());
  return `mcp_${createHash("sha256").update(`dcr-public-client/v1\n${canonical}`).digest("base64url").slice(0, 22)}`;
}
