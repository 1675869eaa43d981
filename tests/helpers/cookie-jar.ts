/**
 * What a browser does with our server's cookies, for the headless "browsers" that walk the sign-in with fetch: a
 * Cookie header updated by an answer's Set-Cookie lines (Max-Age=0 removes the cookie). One site only, no expiry,
 * no path or domain matching: enough for the consent and sign-in cookies, which all use Path=/ on the server's host.
 */
export function withSetCookies(cookie: string | undefined, answer: { headers: Headers }): string | undefined {
  const jar = new Map<string, string>();
  for (const part of (cookie ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) jar.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  for (const line of answer.headers.getSetCookie()) {
    const [pair = "", ...attributes] = line.split(";");
    const eq = pair.indexOf("=");
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    if (attributes.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a))) jar.delete(name);
    else jar.set(name, pair.slice(eq + 1).trim());
  }
  return jar.size === 0 ? undefined : [...jar].map(([name, value]) => `${name}=${value}`).join("; ");
}
