/**
 * Debian's Chromium (/usr/bin/chromium, from apt; `.ci/run` installs it) as the browser tests drive it with
 * playwright-core: where it is, whether it is there (without it those tests are skipped, saying so), and the flags.
 */
import { existsSync } from "node:fs";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const haveChromium = existsSync(CHROMIUM);

/** Warns, once per test file that calls it, that the file is skipped because Chromium is missing. */
export function warnIfNoChromium(file: string): void {
  if (haveChromium) return;
  console.warn(
    `${file} skipped: no Chromium at ${CHROMIUM}. Install Debian's chromium package ` +
      "(apt-get install -y chromium; .ci/run does) or set CHROMIUM_PATH.",
  );
}

/** The flags the project runs Chromium with: no sandbox (containers, root), nothing phoning home, no QUIC. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
