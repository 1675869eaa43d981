/**
 * The user's browser, headless: opens the authorization URL an MCP client hands over, submits our consent form
 * the way a browser would (its cookie, its hidden fields, the scope boxes as ticked, the Allow button), signs in at
 * the sandbox's Airtable (the `sandbox_user` hint stands in for Airtable's login page), and follows the redirects
 * back to the client's redirect URI, which is never fetched: the test reads the code from it, as a native app would.
 * Our server's cookies go back to it as a browser's would: the consent cookie with the decision, the sign-in cookie
 * the decision sets with the return from Airtable (/oauth/callback refuses a browser without it).
 */
import { withSetCookies } from "../../helpers/cookie-jar.ts";

export interface ConsentForm {
  html: string;
  /** Absolute URL the form posts to. */
  action: string;
  /** The form's hidden inputs (request id, CSRF token, the scope_choice marker). */
  hidden: Record<string, string>;
  /** The checkboxes ticked when the page loaded, `[name, value]` (the requested scopes), sent back as they are. */
  checked: [string, string][];
  /** `name=value` pairs to send back as the Cookie header. */
  cookie: string;
}

export class BrowserStepError extends Error {
  override name = "BrowserStepError";
}

function unescapeHtml(value: string): string {
  return value
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

async function failure(step: string, res: Response): Promise<BrowserStepError> {
  const body = await res.text().catch(() => "");
  return new BrowserStepError(`${step} answered ${res.status}: ${body.slice(0, 500)}`);
}

function locationOf(res: Response, from: string): string | undefined {
  const location = res.headers.get("location");
  return location === null ? undefined : new URL(location, from).toString();
}

/** GET the authorization URL and read the consent page like a browser: its cookie and its form. */
export async function openConsentForm(authorizationUrl: string): Promise<ConsentForm> {
  const res = await fetch(authorizationUrl, { redirect: "manual" });
  if (res.status !== 200) throw await failure("GET /authorize", res);
  const html = await res.text();
  const form = /<form[^>]*method="post"[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (form === null) throw new BrowserStepError(`the consent page has no POST form:\n${html.slice(0, 500)}`);
  const hidden: Record<string, string> = {};
  const checked: [string, string][] = [];
  for (const input of (form[2] as string).matchAll(/<input\b[^>]*>/gi)) {
    const tag = input[0];
    const name = /name="([^"]*)"/.exec(tag)?.[1];
    const value = unescapeHtml(/value="([^"]*)"/.exec(tag)?.[1] ?? "");
    if (name === undefined) continue;
    if (/type="hidden"/i.test(tag)) hidden[unescapeHtml(name)] = value;
    // A ticked checkbox is sent as name=value, an unticked one not at all (HTML's form submission).
    if (/type="checkbox"/i.test(tag) && /\schecked\b/i.test(tag)) checked.push([unescapeHtml(name), value]);
  }
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0] as string)
    .join("; ");
  const action = new URL(unescapeHtml(form[1] as string), authorizationUrl).toString();
  return { html, action, hidden, checked, cookie };
}

/**
 * Clicks Allow, signs in at the sandbox as `sandboxUser` (id or email; absent: the sandbox signs the browser in
 * by itself, as the embedded demo's does), picks `sandboxBases` on Airtable's consent page ("Add a base"; absent:
 * every base) and follows the redirects until they leave our server and the sandbox: returns that URL (the
 * client's redirect URI with code, state, iss).
 */
export async function approveConsent(
  form: ConsentForm,
  sandboxUser: string | undefined,
  sandboxBases?: readonly string[],
): Promise<URL> {
  const decision = await fetch(form.action, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", ...(form.cookie ? { cookie: form.cookie } : {}) },
    body: new URLSearchParams([...Object.entries(form.hidden), ...form.checked, ["decision", "approve"]]),
  });
  const toAirtable = locationOf(decision, form.action);
  if (decision.status !== 303 || toAirtable === undefined) throw await failure("POST consent decision", decision);

  const airtableLogin = new URL(toAirtable);
  if (sandboxUser !== undefined) airtableLogin.searchParams.set("sandbox_user", sandboxUser);
  if (sandboxBases !== undefined) airtableLogin.searchParams.set("sandbox_bases", sandboxBases.join(","));
  const atAirtable = await fetch(airtableLogin, { redirect: "manual" });
  const toCallback = locationOf(atAirtable, airtableLogin.toString());
  if (atAirtable.status !== 302 || toCallback === undefined) throw await failure("Airtable authorize", atAirtable);

  const cookie = withSetCookies(form.cookie, decision);
  const callback = await fetch(toCallback, { redirect: "manual", ...(cookie ? { headers: { cookie } } : {}) });
  const toClient = locationOf(callback, toCallback);
  if (callback.status !== 302 || toClient === undefined) throw await failure("GET /oauth/callback", callback);
  return new URL(toClient);
}
