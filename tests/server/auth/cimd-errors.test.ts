import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../../src/shared/logger.ts";
import { authorizeUrl, startHarness, tokenRequest, type Harness } from "../../support/auth-test-harness.ts";

/**
 * A refused Client ID Metadata Document URL tells whoever sent it that it was refused, never what a host name
 * resolved to: otherwise anyone could use the server to map its network (or its resolver's view of internal
 * names). The detail goes to the log, for the operator.
 */
let h: Harness;
const logLines: string[] = [];
beforeAll(async () => {
  // The production default: CIMD_ALLOW_LOOPBACK_HTTP off, so loopback addresses are refused like private ones.
  h = await startHarness({
    logger: createLogger({ level: "info" }, { write: (line: string) => void logLines.push(line) }),
  });
});
afterAll(async () => {
  await h.close();
});

async function authorizePage(clientId: string) {
  const res = await fetch(authorizeUrl(h, { clientId }), { redirect: "manual" });
  return { status: res.status, location: res.headers.get("location"), html: await res.text() };
}

/** The generic sentence a requester sees for a refused host name, with the name itself blanked out. */
function genericPart(html: string, host: string): string {
  return (/cannot be used: ([^<]*)/.exec(html)?.[1] ?? "").replaceAll(host, "HOST");
}

describe("refused metadata document URLs", () => {
  it("a name resolving to a non-public address: refused without the address; the log has it", async () => {
    const clientId = "https://localhost:9/oauth/client-metadata.json";
    const res = await authorizePage(clientId);
    expect(res.status).toBe(400);
    expect(res.location).toBeNull();
    expect(res.html).toContain("not a public address");
    for (const leak of ["127.0.0.1", "::1", "resolves to"]) expect(res.html).not.toContain(leak);

    const logged = logLines.filter((l) => l.includes("client metadata document refused") && l.includes(clientId));
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.join("\n")).toMatch(/localhost resolves to (127\.0\.0\.1|::1), which is not a public address/);
  });

  it("a name that does not resolve gets the very same answer, so names cannot be probed; the log says why", async () => {
    const unresolvable = await authorizePage("https://no-such-host.invalid/client.json");
    const loopback = await authorizePage("https://localhost:9/oauth/client-metadata.json");
    expect(unresolvable.status).toBe(400);
    expect(genericPart(unresolvable.html, "no-such-host.invalid")).toBe(genericPart(loopback.html, "localhost"));
    expect(genericPart(unresolvable.html, "no-such-host.invalid")).not.toBe("");
    for (const leak of ["ENOTFOUND", "getaddrinfo", "EAI_AGAIN"]) expect(unresolvable.html).not.toContain(leak);
    expect(logLines.join("\n")).toMatch(/no-such-host\.invalid does not resolve/);
  });

  it("the token endpoint answers invalid_client with the same generic reason", async () => {
    const res = await tokenRequest(h, {
      grant_type: "authorization_code",
      client_id: "https://localhost:9/oauth/client-metadata.json",
      code: "x",
      code_verifier: "v".repeat(43),
    });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe("invalid_client");
    expect(res.body.error_description).toMatch(/not a public address/);
    expect(JSON.stringify(res.body)).not.toMatch(/127\.0\.0\.1|::1/);
  });

  it("an address written in the URL itself may be named: it reveals nothing the requester did not send", async () => {
    const res = await authorizePage("https://10.0.0.7/client.json");
    expect(res.status).toBe(400);
    expect(res.html).toContain("10.0.0.7 is not a public address");
  });
});
