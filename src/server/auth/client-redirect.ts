import type { Response } from "express";

/**
 * Sends the browser back to the client's (already validated) redirect URI with an authorization response.
 * `iss` is always added (RFC 9207) so the client can tell which server answered; `state` echoes the client's.
 */
export function redirectToClient(
  res: Response,
  opts: {
    redirectUri: string;
    issuer: string;
    state: string | undefined;
    params: Record<string, string>;
    status?: number;
  },
): void {
  const url = new URL(opts.redirectUri);
  for (const [k, v] of Object.entries(opts.params)) url.searchParams.set(k, v);
  if (opts.state !== undefined) url.searchParams.set("state", opts.state);
  url.searchParams.set("iss", opts.issuer);
  res.setHeader("Cache-Control", "no-store");
  res.redirect(opts.status ?? 302, url.toString());
}
