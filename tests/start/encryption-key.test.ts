import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { encryptionKeyFor, KEY_FILE } from "../../src/start/encryption-key.ts";

const root = mkdtempSync(path.join(tmpdir(), "encryption-key-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => path.join(root, `data-${n++}`);

describe("encryptionKeyFor (embedded mode's TOKEN_ENCRYPTION_KEY)", () => {
  it("generates a key once, in DATA_DIR with mode 0600, and reads the same key afterwards", () => {
    const dir = freshDir();
    const first = encryptionKeyFor(undefined, dir);
    expect(first.source).toBe("generated");
    expect(first.key).toHaveLength(32);
    expect(first.file).toBe(path.join(dir, KEY_FILE));
    expect(statSync(first.file).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(Buffer.from(readFileSync(first.file, "utf8").trim(), "base64")).toEqual(first.key);

    const again = encryptionKeyFor(undefined, dir);
    expect(again).toEqual({ key: first.key, source: "data-dir", file: first.file, warnings: [] });
  });

  it("prefers TOKEN_ENCRYPTION_KEY from the environment, and warns when the saved key differs", () => {
    const dir = freshDir();
    const fromEnv = randomBytes(32);
    expect(encryptionKeyFor(fromEnv, dir)).toMatchObject({ key: fromEnv, source: "environment", warnings: [] });
    const saved = encryptionKeyFor(undefined, dir).key;
    const chosen = encryptionKeyFor(fromEnv, dir);
    expect(chosen.key).toEqual(fromEnv);
    expect(chosen.warnings.join()).toMatch(/differs from the key in .*TOKEN_ENCRYPTION_KEY_PREVIOUS/);
    expect(encryptionKeyFor(saved, dir).warnings).toEqual([]);
  });

  it("names the file and the fix when the saved key is not a key, and warns when others can read it", () => {
    const dir = freshDir();
    const { file } = encryptionKeyFor(undefined, dir);
    chmodSync(file, 0o644);
    expect(encryptionKeyFor(undefined, dir).warnings.join()).toMatch(/can be read by other users.*chmod 600/);
    writeFileSync(file, "not a key\n");
    expect(() => encryptionKeyFor(undefined, dir)).toThrow(
      new RegExp(`${KEY_FILE} does not hold a valid TOKEN_ENCRYPTION_KEY.*move it away`),
    );
  });

  it("names DATA_DIR when the key cannot be written", () => {
    const blocker = path.join(root, "a-file");
    writeFileSync(blocker, "");
    expect(() => encryptionKeyFor(undefined, path.join(blocker, "data"))).toThrow(
      /Cannot write the generated TOKEN_ENCRYPTION_KEY.*DATA_DIR writable.*TOKEN_ENCRYPTION_KEY/,
    );
  });

  it("says a DATA_DIR (or a key file) that is a symbolic link to nothing, instead of retrying until the stack overflows", () => {
    const link = path.join(root, "dangling-data-dir");
    symlinkSync(path.join(root, "nowhere"), link);
    expect(() => encryptionKeyFor(undefined, link)).toThrow(
      `Cannot write the generated TOKEN_ENCRYPTION_KEY to ${path.join(link, KEY_FILE)} (${link} is a symbolic link ` +
        `to ${path.join(root, "nowhere")}, which does not exist). Make DATA_DIR writable, or set TOKEN_ENCRYPTION_KEY`,
    );
    const dir = freshDir();
    mkdirSync(dir);
    symlinkSync(path.join(root, "no-key-here"), path.join(dir, KEY_FILE));
    expect(() => encryptionKeyFor(undefined, dir)).toThrow(
      /Cannot write the generated TOKEN_ENCRYPTION_KEY .* \(EEXIST: file already exists.*DATA_DIR writable/,
    );
  });
});
