/**
 * TOKEN_ENCRYPTION_KEY for the embedded mode: the one from the environment when set, else the one kept in
 * DATA_DIR, generated there on the first start (32 random bytes, base64, file mode 0600 in a 0700 directory).
 * One process, one file: a restart reads the same key, so stored sign-ins stay readable.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { configSchema, type Config } from "../shared/config.ts";
import { makeDirectory } from "../shared/make-directory.ts";

type Key = NonNullable<Config["TOKEN_ENCRYPTION_KEY"]>;

/** The key's file name inside DATA_DIR. */
export const KEY_FILE = "token-encryption-key";

export interface EncryptionKey {
  key: Key;
  /** environment: TOKEN_ENCRYPTION_KEY; generated: written to `file` just now; data-dir: read from `file`. */
  source: "environment" | "generated" | "data-dir";
  file: string;
  /**
   * Warnings for the log: the environment's key differs from the one in DATA_DIR (tokens stored with the latter
   * cannot be read), or the file can be read by other users.
   */
  warnings: string[];
}

/** Throws an Error naming the file when it exists but holds no valid key or cannot be read or written. */
export function encryptionKeyFor(fromEnvironment: Key | undefined, dataDir: string): EncryptionKey {
  const file = path.join(path.resolve(dataDir), KEY_FILE);
  const stored = readKeyFile(file);
  if (fromEnvironment !== undefined) {
    const warnings =
      stored !== undefined && !stored.key.equals(fromEnvironment)
        ? [
            `TOKEN_ENCRYPTION_KEY differs from the key in ${file}: sign-ins stored with that key cannot be read. ` +
              "To keep them, set TOKEN_ENCRYPTION_KEY_PREVIOUS to the file's content (a key rotation).",
          ]
        : [];
    return { key: fromEnvironment, source: "environment", file, warnings };
  }
  if (stored !== undefined) return { key: stored.key, source: "data-dir", file, warnings: stored.warnings };
  const key = randomBytes(32);
  try {
    makeDirectory(path.dirname(file), 0o700);
  } catch (error) {
    throw cannotWrite(file, error);
  }
  try {
    // wx: never overwrite a key another process wrote in the meantime (that one wins; read it back).
    writeFileSync(file, `${key.toString("base64")}\n`, { mode: 0o600, flag: "wx" });
  } catch (error) {
    // Another process wrote the key in the meantime: that one wins. Read once, not by calling this function
    // again: an EEXIST that reads as missing (the file is a link to nothing; before, makeDirectory's EEXIST for
    // DATA_DIR as a file or a dangling link) met the same EEXIST on every retry, until the stack overflowed.
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      const written = readKeyFile(file);
      if (written !== undefined) return { key: written.key, source: "data-dir", file, warnings: written.warnings };
    }
    throw cannotWrite(file, error);
  }
  return { key, source: "generated", file, warnings: [] };
}

/** The error for a generated key that could not be saved to `file` (its directory, or the file itself). */
function cannotWrite(file: string, error: unknown): Error {
  return new Error(
    `Cannot write the generated TOKEN_ENCRYPTION_KEY to ${file} (${(error as Error).message}). ` +
      "Make DATA_DIR writable, or set TOKEN_ENCRYPTION_KEY (openssl rand -base64 32).",
    { cause: error },
  );
}

function readKeyFile(file: string): { key: Key; warnings: string[] } | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8").trim();
  } catch (error) {
    // Missing, or DATA_DIR is not a directory: then writing it fails with the message that says what to do.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw new Error(`Cannot read the TOKEN_ENCRYPTION_KEY file ${file}: ${(error as Error).message}`, { cause: error });
  }
  const parsed = configSchema.shape.TOKEN_ENCRYPTION_KEY.safeParse(text);
  if (!parsed.success || parsed.data === undefined) {
    throw new Error(
      `${file} does not hold a valid TOKEN_ENCRYPTION_KEY (32 random bytes as base64 or hex). Restore the file, ` +
        "or move it away to generate a new key (sign-ins stored with the old one are then lost).",
    );
  }
  const warnings =
    (statSync(file).mode & 0o077) !== 0
      ? [`${file} can be read by other users of this machine: chmod 600 it (it encrypts the stored Airtable tokens)`]
      : [];
  return { key: parsed.data, warnings };
}
