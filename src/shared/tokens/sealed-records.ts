/**
 * How secret fields become stored records and back, shared by both stores so they encrypt the same way.
 *
 * - Airtable accounts: the whole `tokens` object (access + refresh token, expiries, scopes) is one encrypted
 *   blob bound to the user id; user id, email and updatedAt stay readable for operators.
 * - DCR clients: `client_secret` is encrypted (bound to the client id), not hashed, so `getClient` returns the
 *   client exactly as registered and the token endpoint can compare secrets as the MCP SDK does.
 * - Grants hold only a SHA-256 of the refresh token: nothing in them needs encrypting.
 */
import { z } from "zod";
import type { TokenCipher } from "./cipher.ts";
import type { AirtableAccount, AirtableTokenSet, RegisteredClient } from "./types.ts";

/** How long an expired grant (or account) is kept, so late callers learn why it no longer works. */
export const GRANT_GRACE_MS = 60 * 60_000;

export interface SealedAirtableAccount {
  userId: string;
  email?: string;
  updatedAt: number;
  /** TokenCipher blob of the JSON AirtableTokenSet. */
  tokens: string;
}

export type SealedClient = Omit<RegisteredClient, "client_secret"> & { client_secret?: string };

const tokenSetSchema = z.object({
  accessToken: z.string().min(1),
  refreshToken: z.string().min(1),
  accessTokenExpiresAt: z.number(),
  refreshTokenExpiresAt: z.number().optional(),
  scopes: z.array(z.string()),
});

const accountContext = (userId: string): string => `airtable-account:${userId}`;
const clientContext = (clientId: string): string => `client-secret:${clientId}`;

export function sealAccount(cipher: TokenCipher, account: AirtableAccount): SealedAirtableAccount {
  const sealed: SealedAirtableAccount = {
    userId: account.userId,
    updatedAt: account.updatedAt,
    tokens: cipher.encrypt(JSON.stringify(account.tokens), accountContext(account.userId)),
  };
  if (account.email !== undefined) sealed.email = account.email;
  return sealed;
}

export function openAccount(cipher: TokenCipher, sealed: SealedAirtableAccount): AirtableAccount {
  const tokens: AirtableTokenSet = tokenSetSchema.parse(
    JSON.parse(cipher.decrypt(sealed.tokens, accountContext(sealed.userId))),
  );
  const account: AirtableAccount = { userId: sealed.userId, tokens, updatedAt: sealed.updatedAt };
  if (sealed.email !== undefined) account.email = sealed.email;
  return account;
}

export function sealClient(cipher: TokenCipher, client: RegisteredClient): SealedClient {
  if (client.client_secret === undefined) return { ...client };
  return { ...client, client_secret: cipher.encrypt(client.client_secret, clientContext(client.client_id)) };
}

/**
 * Whether a stored client's secret is still encrypted with the previous key. Nothing else ever rewrites a DCR
 * client (a sign-in or refresh re-encrypts an Airtable account, not its client), so the stores re-seal such a
 * client when they read it: otherwise dropping TOKEN_ENCRYPTION_KEY_PREVIOUS after a rotation would leave every
 * confidential client (Claude.ai registers one) unreadable for good.
 */
export function sealedUnderPreviousKey(cipher: TokenCipher, sealed: SealedClient): boolean {
  // typeof: a Firestore document holds null where a public client has no secret.
  return typeof sealed.client_secret === "string" && !cipher.isCurrent(sealed.client_secret);
}

export function openClient(cipher: TokenCipher, sealed: SealedClient): RegisteredClient {
  if (sealed.client_secret === undefined) return { ...sealed } as RegisteredClient;
  return { ...sealed, client_secret: cipher.decrypt(sealed.client_secret, clientContext(sealed.client_id)) };
}

/** Removes undefined fields (Firestore refuses them; JSON drops them anyway) without touching the rest. */
export function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
