import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccessTokens, InvalidAccessTokenError } from "../../../src/server/auth/access-tokens.ts";
import {
  callMcp,
  forgeAccessToken,
  signedInClient,
  startHarness,
  type Harness,
} from "../../support/auth-test-harness.ts";

/**
 * AccessTokens remembers verified tokens until they expire (access-tokens.ts #verified), so the JWT is not
 * re-verified on every MCP request. What a user must still observe: revoking a grant stops its tokens on the very
 * next request, an expired token is refused on time, a forged one never gets in, and memory stays bounded.
 */
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

const errorDescription = async (res: Response) =>
  ((await res.json()) as { error_description?: string }).error_description;

describe("verified tokens are remembered, revocation and expiry still hold", () => {
  it("a token accepted on earlier requests is refused on the next request once its grant is revoked", async () => {
    const c = await signedInClient(h);
    for (let i = 0; i < 3; i++) expect((await callMcp(h, c.accessToken)).status).not.toBe(401);
    const revoked = await fetch(`${h.url}/revoke`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: c.refreshToken, client_id: c.clientId }),
    });
    expect(revoked.status).toBe(200);
    const after = await callMcp(h, c.accessToken);
    expect(after.status).toBe(401);
    expect(await errorDescription(after)).toMatch(/revoked/);
  });

  it("a token accepted before is refused once it expires", async () => {
    const token = await forgeAccessToken(h, { expSecondsFromNow: 2 });
    expect((await callMcp(h, token)).status).not.toBe(401);
    expect((await callMcp(h, token)).status).not.toBe(401);
    const { exp } = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as { exp: number };
    await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 50));
    const after = await callMcp(h, token);
    expect(after.status).toBe(401);
    expect(await errorDescription(after)).toMatch(/expired/);
  });
});

describe("AccessTokens' memory of verified tokens", () => {
  const key = randomBytes(32);
  const make = (verifiedMax: number) =>
    new AccessTokens({
      issuer: "https://as.example",
      audience: "https://as.example/mcp",
      ttlSec: 600,
      keys: [key],
      verifiedMax,
    });
  const claims = (i: number) => ({ userId: `usr${i}`, clientId: "c", scopes: [], grantId: `gr_${i}` });

  it("keeps at most its bound, and a forgotten token still verifies", async () => {
    const tokens = make(3);
    const issued = await Promise.all([0, 1, 2, 3, 4].map((i) => tokens.issue(claims(i))));
    for (const t of issued) await tokens.verify(t);
    expect(tokens.verifiedCount).toBe(3);
    expect((await tokens.verify(issued[0]!)).userId).toBe("usr0");
    expect(tokens.verifiedCount).toBe(3);
  });

  it("never lets a token in because a similar one was verified: a changed signature or payload is refused", async () => {
    const tokens = make(100);
    const good = await tokens.issue(claims(1));
    await tokens.verify(good);
    const [header, payload, signature] = good.split(".") as [string, string, string];
    const otherSignature = `${header}.${payload}.${signature.slice(0, -2)}${signature.endsWith("AA") ? "BB" : "AA"}`;
    const forgedPayload = Buffer.from(payload, "base64url").toString().replace("usr1", "usr2");
    const otherPayload = `${header}.${Buffer.from(forgedPayload).toString("base64url")}.${signature}`;
    await expect(tokens.verify(otherSignature)).rejects.toBeInstanceOf(InvalidAccessTokenError);
    await expect(tokens.verify(otherPayload)).rejects.toBeInstanceOf(InvalidAccessTokenError);
    expect(tokens.verifiedCount).toBe(1);
  });
});
