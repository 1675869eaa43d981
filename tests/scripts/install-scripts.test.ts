/**
 * Dependencies' install scripts are a decision, not an accident: every package in package-lock.json that has one
 * (`hasInstallScript`) is named in package.json's `allowScripts` (npm ≥ 11.16; npm/rfcs#868). npm 11 warns about the
 * ones not named at every `npm ci`, and npm 12 skips them. A new dependency with an install script fails here,
 * naming it, until someone decides whether it runs.
 */
import { describe, expect, it } from "vitest";
import { readRepoFile } from "../deploy/deploy-files.ts";

interface Lock {
  packages: Record<string, { version?: string; hasInstallScript?: boolean }>;
}

const lock = JSON.parse(readRepoFile("package-lock.json")) as Lock;
const pkg = JSON.parse(readRepoFile("package.json")) as { allowScripts?: Record<string, boolean> };

/** The package name of a lockfile path: the part after the last node_modules/. */
const nameOf = (path: string) => path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length);

describe("install scripts (package.json allowScripts)", () => {
  it("names every locked package that has one, and nothing that has none", () => {
    const withScripts = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== "" && entry.hasInstallScript === true)
      .map(([path]) => nameOf(path));
    const decided = Object.keys(pkg.allowScripts ?? {});
    expect(
      withScripts.filter((name) => !decided.includes(name)),
      "packages with install scripts that allowScripts does not name: decide (true runs it, false skips it)",
    ).toEqual([]);
    expect(
      decided.filter((name) => !withScripts.includes(name)),
      "allowScripts names a package without one",
    ).toEqual([]);
  });
});
