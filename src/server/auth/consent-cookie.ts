import { createHmac, timingSafeEqual } from "node:crypto";
import type { Request, Response } from "express";

/**
 * Binds a consent decision to the browser that was shown the consent page. The cookie carries an HMAC over the
 * pending request id and the client id, so a decision POST from any other browser (an attacker who started the
 * request and lures the victim into submitting it) is refused even when it carries the right CSRF token.
 * One cookie per pending request, so two consent tabs do not overwrite each other.
 */
export class ConsentCookie {
  readonly #key: Buffer;
  readonly #secure: boolean;
  readonly #maxAgeSec: number;

  constructor(opts: { key: Buffer; secure: boolean; maxAgeSec: number }) {
    this.#key = opts.key;
    this.#secure = opts.secure;
    this.#maxAgeSec = opts.maxAgeSec;
  }

  /** `__Host-` forces Secure, Path=/ and no Domain: a sibling subdomain cannot plant or read it. */
  name(requestId: string): string {
    return `${this.#secure ? "__Host-" : ""}consent_${requestId}`;
  }

  set(res: Response, requestId: string, clientId: string): void {
    res.append("Set-Cookie", this.#serialize(requestId, this.#mac(requestId, clientId), this.#maxAgeSec));
  }

  clear(res: Response, requestId: string): void {
    res.append("Set-Cookie", this.#serialize(requestId, "", 0));
  }

  verify(req: Request, requestId: string, clientId: string): boolean {
    const presented = readCookie(req.headers.cookie, this.name(requestId));
    if (presented === undefined) return false;
    const expected = Buffer.from(this.#mac(requestId, clientId));
    const actual = Buffer.from(presented);
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }

  #mac(requestId: string, clientId: string): string {
    return createHmac("sha256", this.#key).update(`consent\n${requestId}\n${clientId}`).digest("base64url");
  }

  #serialize(requestId: string, value: string, maxAgeSec: number): string {
    const attrs = [`${this.name(requestId)}=${value}`, "Path=/", `Max-Age=${maxAgeSec}`, "HttpOnly", "SameSite=Lax"];
    if (this.#secure) attrs.push("Secure");
    return attrs.join("; ");
  }
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
