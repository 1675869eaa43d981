/**
 * The "web browser" a CLI client opens for sign-in, headless: `node headless-opener.ts <url>`.
 *
 * mcp-remote opens the authorization URL with the `open` package, which on Linux runs its bundled xdg-open;
 * with no desktop session xdg-open runs `$BROWSER <url>` (freedesktop xdg-utils). A test points BROWSER at a tiny
 * wrapper around this script (see `browserCommand` in real-clients.ts). It does what the user would: Allow on our
 * consent page, sign in at the sandbox's Airtable as HEADLESS_SANDBOX_USER, and follow the redirects to the
 * client's loopback callback, which it then loads, as a browser would. Each visit is appended as a JSON line to
 * HEADLESS_OPENER_LOG so the test can see what was opened and where it ended. Exit code 0 means the client's
 * callback page answered 2xx.
 */
import { appendFileSync } from "node:fs";
import { approveConsent, openConsentForm } from "../../e2e/helpers/headless-browser.ts";

interface Visit {
  opened: string;
  redirect?: string;
  callbackStatus?: number;
  error?: string;
}

async function main(): Promise<number> {
  const url = process.argv[2];
  const user = process.env.HEADLESS_SANDBOX_USER;
  const logFile = process.env.HEADLESS_OPENER_LOG;
  const visit: Visit = { opened: url ?? "" };
  try {
    if (url === undefined || user === undefined) {
      throw new Error("usage: HEADLESS_SANDBOX_USER=<user> node headless-opener.ts <authorization URL>");
    }
    const form = await openConsentForm(url);
    const back = await approveConsent(form, user);
    visit.redirect = back.href;
    // The client's callback server may not listen yet: this "browser" is far quicker than a person, and mcp-remote
    // opens it while it still sets its server up. A person would see "connection refused" and reload: so does this.
    let callback: Response | undefined;
    for (let attempt = 0; callback === undefined; attempt++) {
      try {
        callback = await fetch(back, { redirect: "manual" });
      } catch (error) {
        if (attempt >= 40) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    await callback.arrayBuffer();
    visit.callbackStatus = callback.status;
    return callback.status >= 200 && callback.status < 400 ? 0 : 1;
  } catch (error) {
    visit.error = error instanceof Error ? error.message : String(error);
    return 1;
  } finally {
    if (logFile !== undefined) appendFileSync(logFile, `${JSON.stringify(visit)}\n`);
  }
}

process.exitCode = await main();
