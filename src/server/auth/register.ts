import type { Request, Response } from "express";
import type { RegisteredClient } from "../../shared/tokens/types.ts";
import type { AuthContext } from "./context.ts";
import { noStore } from "./oauth-error.ts";
import { randomToken, sha256Hex } from "./pkce.ts";
import { checkRegistration, publicClientId, type RegistrationMetadata } from "./registration.ts";

function refuse(res: Response, error: string, description: string): void {
  noStore(res);
  res.status(400).json({ error, error_description: description });
}

/**
 * RFC 7591 dynamic client registration. Public clients (token_endpoint_auth_method "none") are welcome: PKCE
 * protects them. A confidential client gets a secret once, in this answer; we keep only its SHA-256.
 * Redirect URIs follow redirect-uris.ts (private-use schemes from REDIRECT_URI_SCHEMES, public clients only).
 * `grant_types`: omitted means ["authorization_code"] (RFC 7591 §2); `refresh_token` is added to any registration
 * with `authorization_code` (registeredGrantTypes says why), grant types we do not implement are dropped (RFC 7591
 * §3.2.1), and the answer shows what we kept.
 */
export function registerHandler(ctx: AuthContext) {
  return async (req: Request, res: Response): Promise<void> => {
    const checked = checkRegistration(req.body, { privateUseSchemes: ctx.deps.config.REDIRECT_URI_SCHEMES });
    if (!checked.ok) return refuse(res, checked.error, checked.description);
    const method = checked.metadata.token_endpoint_auth_method;
    const { client, secret, reused } = await storeRegistration(ctx, checked.metadata);
    ctx.deps.logger.info(
      {
        clientId: client.client_id,
        clientName: client.client_name,
        method,
        reused,
        // Left out (a private-use scheme REDIRECT_URI_SCHEMES does not list): the operator's one trace of it
        // before someone's sign-in stops on the page that names the setting.
        ...(checked.droppedRedirectUris.length > 0 && { droppedRedirectUris: checked.droppedRedirectUris }),
      },
      reused ? "client registration repeated: existing record answered" : "client registered",
    );
    noStore(res);
    res.status(201).json({ ...client, ...(secret !== undefined ? { client_secret: secret } : {}) });
  };
}

/**
 * Stores a registration so that registering stays cheap however often clients do it (Claude.ai may register on
 * every connect; many users behind one egress IP):
 * - Every new registration is pending: the TokenStore deletes it unless a sign-in with it completes within
 *   PENDING_REGISTRATION_TTL_HOURS (Grants.create makes it permanent). Registrations nobody uses cannot pile up.
 * - A public client (token_endpoint_auth_method "none") gets a client_id made of its metadata
 *   (registration.ts `publicClientId`), so the same metadata registered again is answered with the same client —
 *   no new record; a still-pending one gets a new deadline; a lapsed one is renewed from its client_id when the
 *   client comes back with it (ClientDirectory). RFC 7591 §3.2.1 lets a server issue one client_id to several
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
