/**
 * Errors that only the server's operator can fix, because a setting is wrong: retrying cannot help, and the agent
 * must not be told "internal error" (it would retry, or give up without saying why) but that the server is
 * misconfigured, which setting, and that the operator must fix it.
 *
 * Today one such error exists: a stored Airtable sign-in that cannot be decrypted (TokenDecryptError). The
 * start-up check (key-fingerprint.ts) keeps a deployment's processes on one TOKEN_ENCRYPTION_KEY; this catches
 * what it cannot: a key changed for every process at once without TOKEN_ENCRYPTION_KEY_PREVIOUS, or a record
 * written by another deployment sharing the store.
 */
import { TokenDecryptError } from "./tokens/cipher.ts";

export interface Misconfiguration {
  /** The environment variable to fix. */
  setting: string;
  /** The `errorType` of a failed operation, for agents and logs. */
  errorType: "SERVER_MISCONFIGURED";
  /** What is wrong, for the agent and the operator (no secret in it). */
  problem: string;
  /** What the operator must do. */
  fix: string;
}

export const SERVER_MISCONFIGURED = "SERVER_MISCONFIGURED";

/** The misconfiguration `error` reveals, or undefined for any other error. */
export function misconfigurationOf(error: unknown): Misconfiguration | undefined {
  if (error instanceof TokenDecryptError) {
    return {
      setting: "TOKEN_ENCRYPTION_KEY",
      errorType: SERVER_MISCONFIGURED,
      problem:
        "the stored Airtable sign-in cannot be decrypted with this server's TOKEN_ENCRYPTION_KEY (it is not the " +
        "key the sign-in was stored with)",
      fix:
        "The server's operator must fix TOKEN_ENCRYPTION_KEY: every server and worker needs the key the sign-ins " +
        "were stored with, and after a key rotation the old key goes in TOKEN_ENCRYPTION_KEY_PREVIOUS.",
    };
  }
  return undefined;
}

/** The sentence an agent gets for a tool call that failed on `m`. */
export function describeMisconfigurationForAgent(m: Misconfiguration): string {
  return (
    `This server is misconfigured: ${m.problem}. Nothing was changed, and calling again will not help until it is ` +
    `fixed. ${m.fix} Tell the person you are working for; signing in again stores a new sign-in under the current key.`
  );
}
