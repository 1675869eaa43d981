import { DEFAULT_REDIRECT_URI_SCHEMES, privateUseSchemeProblem } from "../../shared/auth/redirect-schemes.ts";

/**
 * Redirect URI rules, applied at registration (DCR), to Client ID Metadata Documents, and again at every
 * /authorize (so an operator who narrows REDIRECT_URI_SCHEMES also stops clients registered before).
 *
 * A redirect URI may be:
 * - `https://` with a host;
 * - `http://` on a loopback host written as `localhost`, `127.0.0.1` or `[::1]`, with or without a port
 *   (RFC 8252 §7.3, OAuth 2.1 §8.4.2);
 * - a private-use scheme (RFC 8252 §7.1) the operator listed in REDIRECT_URI_SCHEMES, for public clients only
 *   (token_endpoint_auth_method none: RFC 8252 §8.4 treats such apps as public clients; PKCE is always required).
 * Never a fragment (RFC 6749 §3.1.2), credentials, an upper-case scheme (we compare URIs as strings, so one
 * spelling), or a scheme that runs script or reads local data (see redirect-schemes.ts).
 *
 * Matching (RFC 8252 §8.4, OAuth 2.1 §4.1.1): exact string comparison, except that a loopback http URI matches a
 * requested one that differs only in its port: native apps listen on whatever port the OS gives them, and register
 * their URI with no port (Claude Code: `http://localhost/callback`) or one fixed port (VS Code:
 * `http://127.0.0.1:33418/`).
 */

/** What the policy needs from the deployment: REDIRECT_URI_SCHEMES, lowercased, without colons. */
export interface RedirectUriPolicy {
  privateUseSchemes: readonly string[];
}

const MAX_LENGTH = 2000;

/**
 * A loopback http URI as written: host literal, optional port, then path and query. Matched on the raw string so
 * that nothing the URL parser would normalise (case, dot segments, percent-encoding) can make two URIs "equal".
 */
const LOOPBACK = /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(?::([0-9]{1,5}))?([/?][^#]*)?$/;

interface LoopbackParts {
  host: string;
  port: number | undefined;
  /** Path and query; an empty path is "/" (RFC 3986 §6.2.3). */
  rest: string;
}

function loopbackParts(uri: string): LoopbackParts | undefined {
  const match = LOOPBACK.exec(uri);
  if (match === null) return undefined;
  const port = match[2] === undefined ? undefined : Number(match[2]);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  const rest = match[3] ?? "";
  return { host: match[1] as string, port, rest: rest.startsWith("/") ? rest : `/${rest}` };
}

/** The scheme as written (before the first colon), or undefined when there is none. */
function rawScheme(uri: string): string | undefined {
  const colon = uri.indexOf(":");
  return colon > 0 ? uri.slice(0, colon) : undefined;
}

const settingHint = (scheme: string): string =>
  `The operator can allow it by adding ${scheme} to REDIRECT_URI_SCHEMES (comma-separated; the default is ${DEFAULT_REDIRECT_URI_SCHEMES.join(",")}).`;

/**
 * Why `uri` cannot be a redirect URI for this client, or undefined when it can. The message names the problem and,
 * for a refused scheme, the REDIRECT_URI_SCHEMES setting.
 */
export function redirectUriProblem(
  uri: string,
  policy: RedirectUriPolicy,
  client: { publicClient: boolean },
): string | undefined {
  if (uri.length > MAX_LENGTH) return `redirect URI longer than ${MAX_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return `redirect URI ${JSON.stringify(uri)} is not an absolute URL`;
  }
  if (url.hash !== "" || uri.includes("#")) return `redirect URI ${uri} must not contain a fragment`;
  if (url.username !== "" || url.password !== "") return `redirect URI ${uri} must not contain credentials`;
  const scheme = rawScheme(uri) ?? "";
  if (scheme !== scheme.toLowerCase()) {
    return (
      `redirect URI ${uri} is refused: write its scheme in lowercase (${scheme.toLowerCase()}:). Redirect URIs are ` +
      "compared exactly, and https, loopback http and REDIRECT_URI_SCHEMES name lowercase schemes"
    );
  }
  if (scheme === "https") return url.hostname === "" ? `redirect URI ${uri} has no host` : undefined;
  if (scheme === "http") {
    return loopbackParts(uri) !== undefined
      ? undefined
      : `redirect URI ${uri} must use https, or http on a loopback host written as localhost, 127.0.0.1 or [::1]`;
  }
  const never = privateUseSchemeProblem(scheme);
  if (never !== undefined) {
    return `redirect URI ${uri} is refused: ${never} (REDIRECT_URI_SCHEMES cannot allow it)`;
  }
  if (policy.privateUseSchemes.length === 0) {
    return (
      `redirect URI ${uri} uses the private-use scheme ${scheme}:, and this server accepts only https and ` +
      `loopback http redirect URIs (REDIRECT_URI_SCHEMES is empty: strict MCP mode). ${settingHint(scheme)}`
    );
  }
  if (!policy.privateUseSchemes.includes(scheme)) {
    return (
      `redirect URI ${uri} uses the private-use scheme ${scheme}:, which this server does not allow ` +
      `(REDIRECT_URI_SCHEMES allows ${policy.privateUseSchemes.join(", ")}). ${settingHint(scheme)}`
    );
  }
  if (!client.publicClient) {
    return (
      `redirect URI ${uri} uses a private-use scheme, which only public clients may use ` +
      `(register with token_endpoint_auth_method "none"; RFC 8252 §8.4)`
    );
  }
  return undefined;
}

/**
 * The redirect URIs of a registration or a metadata document that this server accepts. A URI refused only because
 * its private-use scheme is not in REDIRECT_URI_SCHEMES (or the list is empty) is left out, and the others are
 * kept (RFC 7591 §3.2.1: the server may replace requested metadata; the registration answer lists what was kept):
 * clients register every callback their app family has at once, and one unknown scheme refused the whole list —
 * Cursor 3.20+ sends `grokbot://mcp/oauth/callback` (its Grok Bot) beside `cursor://`, https and loopback ones.
 * Any other problem (a fragment, credentials, a dangerous scheme, a private-use scheme on a confidential client,
 * http off loopback) refuses the whole list, as does a list with nothing left; `refusal` says why.
 */
export function acceptedRedirectUris(
  uris: readonly string[],
  policy: RedirectUriPolicy,
  client: { publicClient: boolean },
): { kept: string[]; dropped: { uri: string; problem: string }[]; refusal?: string } {
  const kept: string[] = [];
  const dropped: { uri: string; problem: string }[] = [];
  for (const uri of uris) {
    const problem = redirectUriProblem(uri, policy, client);
    if (problem === undefined) {
      kept.push(uri);
      continue;
    }
    const scheme = rawScheme(uri) ?? "";
    const listed = { privateUseSchemes: [...policy.privateUseSchemes, scheme] };
    if (policy.privateUseSchemes.includes(scheme) || redirectUriProblem(uri, listed, client) !== undefined) {
      return { kept, dropped, refusal: problem };
    }
    dropped.push({ uri, problem });
  }
  if (kept.length === 0) return { kept, dropped, refusal: dropped[0]?.problem ?? "no redirect URI" };
  return { kept, dropped };
}

/**
 * Whether a requested redirect URI matches a registered one: the same string, or (RFC 8252 §7.3, OAuth 2.1
 * §8.4.2) both loopback http on the same host literal with the same path and query, whatever their ports.
 */
export function redirectUriMatches(registered: string, requested: string): boolean {
  if (registered === requested) return true;
  const a = loopbackParts(registered);
  const b = loopbackParts(requested);
  return a !== undefined && b !== undefined && a.host === b.host && a.rest === b.rest;
}

/** Whether `requested` matches any of the client's registered redirect URIs. */
export function isRegisteredRedirectUri(registered: readonly string[], requested: string): boolean {
  return registered.some((uri) => redirectUriMatches(uri, requested));
}

/** Where the browser goes after consent, in the words the consent page uses. */
export type RedirectTarget =
  { kind: "web"; host: string } | { kind: "loopback"; hostAndPort: string } | { kind: "app"; scheme: string };

/** Classifies a redirect URI that passed redirectUriProblem, for the consent page. */
export function redirectTarget(uri: string): RedirectTarget {
  const loopback = loopbackParts(uri);
  if (loopback !== undefined) {
    return {
      kind: "loopback",
      hostAndPort: `${loopback.host}${loopback.port === undefined ? "" : `:${loopback.port}`}`,
    };
  }
  const scheme = rawScheme(uri) ?? "";
  if (scheme === "https" || scheme === "http") return { kind: "web", host: new URL(uri).host };
  return { kind: "app", scheme };
}
