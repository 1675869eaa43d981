import type { Response } from "express";
import { isWriteScope, scopeCatalog, type Scope } from "../../shared/auth/scopes.ts";
import { redirectTarget } from "./redirect-uris.ts";

/**
 * The only HTML this server renders: the consent page and error pages. No JavaScript anywhere, so the CSP can
 * forbid scripts entirely; `frame-ancestors 'none'` (and X-Frame-Options for old browsers) stops clickjacking of
 * the approve button.
 */
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; frame-ancestors 'none'";

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1d1d1f}
h1{font-size:1.4rem}ul{padding-left:1.2rem}li{margin:.3rem 0}.muted{color:#555;font-size:.9rem}
.buttons{display:flex;gap:1rem;margin-top:1.5rem}button{font-size:1rem;padding:.6rem 1.2rem;border-radius:6px;border:1px solid #888;cursor:pointer}
button[value=approve]{background:#0b57d0;color:#fff;border-color:#0b57d0}code{word-break:break-all}
.scopes{list-style:none;padding-left:0}.scopes label{display:flex;gap:.5rem;align-items:baseline;cursor:pointer}
.scopes code{color:#555;font-size:.85rem}.read-only{margin-top:1rem}.read-only button{font-size:.9rem;padding:.4rem .9rem}
.problem{color:#b3261e;font-weight:600}`;

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>${body}</body></html>`;
}

export function sendPage(res: Response, status: number, html: string): void {
  res.setHeader("Content-Security-Policy", CSP);
  res.setHeader("X-Frame-Options", "DENY");
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("Referrer-Policy", "no-referrer");
  res.setHeader("Cache-Control", "no-store");
  res.status(status).type("html").send(html);
}

/** A dead end for the browser: used whenever redirecting to the client would be unsafe or impossible. */
export function sendErrorPage(res: Response, status: number, title: string, detail: string): void {
  sendPage(res, status, layout(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(detail)}</p>`));
}

export interface ConsentView {
  /** The client's self-declared name, if any. */
  clientName: string | undefined;
  clientId: string;
  /** True when the client identified itself with a metadata document URL (its host is then verified by TLS). */
  metadataDocument: boolean;
  redirectUri: string;
  /** The requested scopes, one checkbox each. */
  scopes: readonly Scope[];
  /** The boxes ticked; default: every requested scope. */
  checked?: readonly Scope[];
  /** Why the last decision was refused (nothing chosen), shown above the boxes. */
  problem?: string;
  requestId: string;
  csrfToken: string;
  decisionPath: string;
}

/**
 * Where the browser is sent after the decision, said plainly: a web site by its host, a loopback URI as "an app
 * on this computer", a private-use scheme (RFC 8252 §7.1) as the app that handles that scheme's links. The full
 * redirect URI is always shown too, so "cursor://…" is on the page before the user allows anything.
 */
function redirectSentence(redirectUri: string): string {
  const target = redirectTarget(redirectUri);
  const full = `<code>${escapeHtml(redirectUri)}</code>`;
  switch (target.kind) {
    case "web":
      return `<p>After you decide, you will be sent back to <strong>${escapeHtml(target.host)}</strong> (${full}).</p>`;
    case "loopback":
      return (
        `<p>After you decide, you will be sent back to an app on this computer, at ` +
        `<strong>${escapeHtml(target.hostAndPort)}</strong> (${full}).</p>`
      );
    case "app":
      return (
        `<p>After you decide, your browser will open the app that handles <strong>${escapeHtml(target.scheme)}:</strong> ` +
        `links on this computer (${full}). Continue only if you expect that app to open.</p>`
      );
  }
}

/** What renderRefusedRequestPage shows. */
export interface RefusedRequestView {
  /** The RFC 6749 §4.1.2.1 error code (`invalid_request`, `unsupported_response_type`, …). */
  error: string;
  /** Our error_description, when there is one. */
  description: string | undefined;
  /** The client's redirect URI, shown in full. */
  redirectUri: string;
  /** The redirect URI with the error response (error, error_description, state, iss): the link's target. */
  returnUrl: string;
}

/**
 * The page for an authorization request refused before the consent page (client-redirect.ts, refuseBeforeConsent):
 * the error in words and by its code, that nothing was shared, and a link back to the app with the error response
 * that the person may follow. Never a redirect: the address is the app's own choice, and anyone can register one.
 */
export function renderRefusedRequestPage(view: RefusedRequestView): string {
  const target = redirectTarget(view.redirectUri);
  const where =
    target.kind === "web"
      ? `<strong>${escapeHtml(target.host)}</strong>`
      : target.kind === "loopback"
        ? `an app on this computer, at <strong>${escapeHtml(target.hostAndPort)}</strong>`
        : `the app that handles <strong>${escapeHtml(target.scheme)}:</strong> links`;
  const reason = view.description === undefined ? "" : `: ${escapeHtml(view.description)}`;
  return layout(
    "Sign-in request refused",
    `<h1>This sign-in request was refused</h1>
<p>The app that sent you here asked for something this server does not allow
(<code>${escapeHtml(view.error)}</code>${reason}). Nothing was shared and nobody was signed in.</p>
<p>This is a problem in the app's request, not in your account: start again from the app, and if it happens again,
tell the app's makers what this page says.</p>
<p class="muted">The app asked to be sent back to ${where} (<code>${escapeHtml(view.redirectUri)}</code>).
This server does not send you there by itself. If you trust that address and want the app to know what went wrong,
<a href="${escapeHtml(view.returnUrl)}" rel="noreferrer">return to the app with this error</a>.</p>`,
  );
}

/**
 * The consent page: who asks, where the browser goes next, and one checkbox per requested scope (its plain words
 * from scopeCatalog and the scope word), ticked unless `checked` says otherwise, so the person can grant less than
 * asked (consent-choice.ts reads the form). **Allow** (`decision=approve`) and **Deny** (`decision=deny`) keep
 * their names, values and labels; Allow comes first, so Enter in the form allows. **Read only**
 * (`decision=read_only`) grants the ticked scopes that change nothing; it is offered only when the request mixes
 * read and write scopes (otherwise it would equal Allow, or grant nothing). The page says Airtable's own page lists
 * everything requested (authorize.ts asks Airtable for the request, not the choice). No script: the CSP forbids it.
 */
export function renderConsentPage(view: ConsentView): string {
  const name = view.clientName?.trim() ? view.clientName.trim() : "An unnamed application";
  const identity = view.metadataDocument
    ? `<p class="muted">Identified by <code>${escapeHtml(view.clientId)}</code>.</p>`
    : `<p class="muted">This name was chosen by the application itself and is not verified.</p>`;
  const checked = new Set(view.checked ?? view.scopes);
  const boxes = view.scopes
    .map(
      (s) =>
        `<li><label><input type="checkbox" name="scope" value="${escapeHtml(s)}"${checked.has(s) ? " checked" : ""}> ` +
        `${escapeHtml(scopeCatalog[s].description)} <code>${escapeHtml(s)}</code></label></li>`,
    )
    .join("\n");
  const problem = view.problem === undefined ? "" : `<p class="problem" role="alert">${escapeHtml(view.problem)}</p>\n`;
  const mixed = view.scopes.some(isWriteScope) && view.scopes.some((s) => !isWriteScope(s));
  const readOnly = mixed
    ? `\n<p class="read-only muted"><button type="submit" name="decision" value="read_only">Read only</button> ` +
      `allows only the ticked “See …” permissions: the app can then create, change or delete nothing.</p>`
    : "";
  return layout(
    "Allow access to your Airtable?",
    `<h1><strong>${escapeHtml(name)}</strong> wants to use your Airtable account</h1>
${identity}
${redirectSentence(view.redirectUri)}
<form method="post" action="${escapeHtml(view.decisionPath)}">
${problem}<p>If you allow it, it will be able to (untick what you do not want to allow):</p>
<ul class="scopes">
${boxes}
</ul>
<p class="muted">Next, Airtable asks you to sign in and choose which bases to share. Airtable's page lists every
permission the app asked for (this server keeps one Airtable sign-in for all your apps); this app gets only what you
leave ticked here. Only continue if you started this from an app you trust.</p>
<input type="hidden" name="request_id" value="${escapeHtml(view.requestId)}">
<input type="hidden" name="csrf_token" value="${escapeHtml(view.csrfToken)}">
<input type="hidden" name="scope_choice" value="1">
<div class="buttons"><button type="submit" name="decision" value="approve">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button></div>${readOnly}
</form>`,
  );
}
