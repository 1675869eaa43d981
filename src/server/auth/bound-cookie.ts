import { createHmac } from "node:crypto";
import type { Request, Response } from "express";
import { safeEqual, sha256Hex } from "./pkce.ts";

/**
 * A cookie that binds one step of a sign-in to the browser that took the step before it: its value is an HMAC (a
 * sub-key of TOKEN_ENCRYPTION_KEY) over `purpose`, the step's id and the values it is bound to, so only this server
 * can make one and a value made for one id, or one purpose, is worthless for another. One cookie per id (the name
 * carries it), so two sign-ins in one browser do not overwrite each other. Stateless: any instance checks it.
 *
 * Two are used (context.ts):
 * - `consent`: set with the consent page (GET /authorize), bound to the pending request id and the client id, and
 *   required by POST /authorize/decision, so a decision from any other browser (an attacker who started the request
 *   and lures the victim into submitting it) is refused even with the right CSRF token.
 * - `signin`: set when the person presses Allow, immediately before the redirect to Airtable, bound to our upstream
 *   `state`, and required by GET /oauth/callback. That is the MCP security best practices' "OAuth State Parameter
 *   Validation" for a proxy in front of a third-party authorization server ("Validate at the callback endpoint that
 *   the `state` query parameter exactly matches the stored value in the callback request's cookies"; "MUST NOT be
 *   set until after the user has approved the consent screen"): without it, whoever pressed Allow in their own
 *   browser could send the Airtable link to someone else and receive that person's sign-in at their redirect URI.
 *
 * Attributes: HttpOnly; SameSite=Lax (sent on the top-level GET that comes back from Airtable, not on cross-site
 * subrequests); Path=/; Max-Age = the step's lifetime; over https `Secure` and the `__Host-` prefix (the best
 * practices' "Consent Cookie Security": the browser then refuses one set by a sibling subdomain or without Secure).
 * Over plain http (a localhost PUBLIC_URL) the same cookie without the prefix, which requires Secure.
 */
export class BoundCookie {
  readonly #key: Buffer;
  readonly #secure: boolean;
  readonly #maxAgeSec: number;
  readonly #prefix: string;
  readonly #purpose: string;

  /**
   * `key`: this cookie's own sub-key; `secure`: the public URL is https; `maxAgeSec`: seconds the browser keeps it;
   * `prefix`: the name before the id (`consent_`); `purpose`: the first line of what the HMAC covers.
   */
  constructor(opts: { key: Buffer; secure: boolean; maxAgeSec: number; prefix: string; purpose: string }) {
    this.#key = opts.key;
    this.#secure = opts.secure;
    this.#maxAgeSec = opts.maxAgeSec;
    this.#prefix = opts.prefix;
    this.#purpose = opts.purpose;
  }

  /** `__Host-` forces Secure, Path=/ and no Domain: a sibling subdomain cannot plant or read it. */
  name(id: string): string {
    return `${this.#secure ? "__Host-" : ""}${this.#prefix}${id}`;
  }

  /** Appends the Set-Cookie binding `id` to `bound` (e.g. the client id) in this browser. */
  set(res: Response, id: string, ...bound: string[]): void {
    res.append("Set-Cookie", this.#serialize(id, this.#mac(id, bound), this.#maxAgeSec));
  }

  /** Appends a Set-Cookie that removes `id`'s cookie (Max-Age=0). */
  clear(res: Response, id: string): void {
    res.append("Set-Cookie", this.#serialize(id, "", 0));
  }

  /** Whether the request carries `id`'s cookie with the value made for `bound`. Constant-time comparison. */
  verify(req: Request, id: string, ...bound: string[]): boolean {
    const presented = readCookie(req.headers.cookie, this.name(id));
    return presented !== undefined && safeEqual(presented, this.#mac(id, bound));
  }

  #mac(id: string, bound: readonly string[]): string {
    return createHmac("sha256", this.#key)
      .update([this.#purpose, id, ...bound].join("\n"))
      .digest("base64url");
  }

  #serialize(id: string, value: string, maxAgeSec: number): string {
    const attrs = [`${this.name(id)}=${value}`, "Path=/", `Max-Age=${maxAgeSec}`, "HttpOnly", "SameSite=Lax"];
    if (this.#secure) attrs.push("Secure");
    return attrs.join("; ");
  }
}

/**
 * The id of an upstream sign-in's `signin` cookie: 96 bits of the state's SHA-256 (hex), so the name is short and
 * does not repeat the state itself.
 */
export function signInCookieId(upstreamState: string): string {
  return sha256Hex(upstreamState).slice(0, 24);
}

/** The value of cookie `name` in a Cookie header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
