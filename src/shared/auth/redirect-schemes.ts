/**
 * Private-use URI schemes (RFC 8252 §7.1) that the operator may allow for redirect URIs through
 * REDIRECT_URI_SCHEMES. Shared by the config schema (which refuses a bad list at start) and the authorization
 * server (which applies it to every redirect URI).
 *
 * RFC 8252 §7.1 asks apps for a scheme based on a domain name they control, in reverse order
 * (`com.example.app:/oauth2redirect`), and §8.4 says authorization servers SHOULD refuse schemes without a period.
 * Real clients do not all follow it (Cursor uses `cursor://anysphere.cursor-mcp/oauth/callback`), so the list is
 * the operator's explicit, scheme-by-scheme exception: a plain scheme such as `cursor` works once it is listed.
 */

/**
 * The default of REDIRECT_URI_SCHEMES: lets Cursor (`cursor://anysphere.cursor-mcp/oauth/callback`), Warp
 * (`warp://mcp/oauth2callback`, warpdotdev/warp#9088) and MCP clients that are VS Code extensions sign in. Cline
 * registers `<editor scheme>://saoudrizwan.claude-dev/mcp-auth/callback/<hash>` (`vscode.env.uriScheme`:
 * `vscode` in VS Code, `vscode-insiders`, `windsurf`, `cursor`; cline/cline#8103). VS Code and its forks hand such a
 * URI only to the extension its authority names, the same routing Cursor's own callback goes through.
 */
export const DEFAULT_REDIRECT_URI_SCHEMES = ["cursor", "warp", "vscode", "vscode-insiders", "windsurf"] as const;

/**
 * Schemes that are never a redirect target, whatever the operator lists: they run script in the browser
 * (`javascript`, `vbscript`), carry or read local content (`data`, `file`, `blob`, `filesystem`), or are the
 * browser's own or another protocol's (`about`, `view-source`, `ws`, `wss`, `ftp`).
 */
export const FORBIDDEN_REDIRECT_SCHEMES: ReadonlySet<string> = new Set([
  "javascript",
  "vbscript",
  "data",
  "file",
  "blob",
  "filesystem",
  "about",
  "view-source",
  "ws",
  "wss",
  "ftp",
]);

/** RFC 3986 §3.1 scheme syntax, in its canonical lowercase form. */
const SCHEME = /^[a-z][a-z0-9+.-]*$/;

/**
 * Why `scheme` (without the colon, lowercase) cannot be a private-use redirect scheme, or undefined when it can.
 * Refuses http and https themselves (they follow their own rules), anything else starting with "http" (look-alikes
 * such as `https-evil` or `httpx`), and the forbidden schemes above.
 */
export function privateUseSchemeProblem(scheme: string): string | undefined {
  if (!SCHEME.test(scheme)) {
    return `${JSON.stringify(scheme)} is not a lowercase URI scheme (RFC 3986 §3.1: a letter, then letters, digits, "+", "-" or ".")`;
  }
  if (scheme === "http" || scheme === "https") {
    return `${scheme} is not a private-use scheme (https, and http on loopback, are always allowed)`;
  }
  if (scheme.startsWith("http")) return `${scheme} looks like http(s) and is never allowed`;
  if (FORBIDDEN_REDIRECT_SCHEMES.has(scheme)) return `${scheme} can run script or read local data and is never allowed`;
  return undefined;
}
