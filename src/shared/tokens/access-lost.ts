/**
 * The one decision "this user's Airtable access is lost": Airtable will not take the user's sign-in any more, and
 * only signing in again can help. Whoever meets such an error asks here rather than testing error classes itself:
 * the server (ends the user's grants and answers 401, server/auth/airtable-access-lost.ts), the tool errors (tell
 * the agent to sign in again, tools/tool-errors.ts) and the operation processor (fails the operation for good
 * instead of retrying, operations/processor.ts).
 *
 * Two ways access is lost:
 * - `sign_in_ended`: the stored Airtable sign-in is gone: Airtable refused or expired its refresh token (the token
 *   provider then deletes the account), or none is stored (AirtableReauthRequiredError). Our grants for the user
 *   must end with it, or MCP clients would refresh our tokens into the same failure forever.
 * - `token_refused`: Airtable answered 401 even to a token just refreshed for the request (AirtableAuthError,
 *   after the client's one refresh-and-retry). The stored sign-in is kept; grants are not ended for this.
 */
import { AirtableAuthError } from "../airtable/errors.ts";
import { AirtableReauthRequiredError } from "./airtable-token-provider.ts";

export interface AirtableAccessLoss {
  kind: "sign_in_ended" | "token_refused";
  /** Airtable's error type (for operation logs): AirtableAuthError's type, or AUTHENTICATION_REQUIRED. */
  errorType: string;
}

/** The loss `error` means, or undefined when it does not mean the user's Airtable access is lost. */
export function airtableAccessLost(error: unknown): AirtableAccessLoss | undefined {
  if (error instanceof AirtableReauthRequiredError)
    return { kind: "sign_in_ended", errorType: "AUTHENTICATION_REQUIRED" };
  if (error instanceof AirtableAuthError) return { kind: "token_refused", errorType: error.type };
  return undefined;
}
