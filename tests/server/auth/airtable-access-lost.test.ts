/**
 * The grant policy when a user's Airtable sign-in is lost, on the real server app: the request that finds out
 * is answered 401 with a challenge naming our resource metadata (urls.ts), and every grant of that user ends at
 * once (Grants.revokeAllForUser): another client's access token stops working and its refresh token is refused.
 * Another user's grant is untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../../src/sandbox/index.ts";
import { allScopes } from "../../../src/shared/auth/scopes.ts";
import { signInAndConnect } from "../../e2e/helpers/mcp-client.ts";
import { TestOAuthProvider } from "../../e2e/helpers/test-oauth-provider.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";
import { startServerHarness, type ServerHarness } from "../../support/admin-test-harness.ts";

const keyPrefix = uniquePrefix("access-lost");
const redis = createTestRedis();
let sandbox: Sandbox;
let server: ServerHarness;

beforeAll(async () => {
  sandbox = await startSandbox();
  server = await startServerHarness({ sandbox, keyPrefix });
});

afterAll(async () => {
  await server?.close();
  await sandbox?.close();
  await deleteKeys(redis, keyPrefix);
  redis.disconnect();
});

/** A signed-in MCP client's provider (its tokens and client id). */
async function signIn(sandboxUser: string): Promise<TestOAuthProvider> {
  const provider = new TestOAuthProvider({ sandboxUser });
  const { client } = await signInAndConnect(`${server.url}/mcp`, provider);
  await client.close();
  return provider;
}

function callListBases(accessToken: string) {
  return fetch(`${server.url}/mcp`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      authorization: `Bearer ${accessToken}`,
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "list_bases", arguments: {} },
    }),
  });
}

describe("a user's Airtable sign-in is lost", () => {
  it("401 with a challenge from urls.ts; all the user's grants end; another user's grant stays", async () => {
    const dave = sandbox.addUser({ email: "dave-lost@example.com", name: "Dave" });
    const erin = sandbox.addUser({ email: "erin-kept@example.com", name: "Erin" });
    const daveLaptop = await signIn(dave.id);
    const daveDesktop = await signIn(dave.id);
    const erinClient = await signIn(erin.id);
    expect((await callListBases(daveDesktop.tokens()!.access_token)).status).toBe(200);

    // Airtable refused the refresh token: the token provider deletes the stored sign-in. Here, directly.
    await server.store.deleteAirtableAccount(dave.id);
    const found = await callListBases(daveLaptop.tokens()!.access_token);
    expect(found.status).toBe(401);
    expect(found.headers.get("www-authenticate")).toBe(
      `Bearer error="invalid_token", error_description="Airtable sign-in ended; sign in again", ` +
        `resource_metadata="${server.url}/.well-known/oauth-protected-resource/mcp", ` +
        `scope="${allScopes.join(" ")}"`,
    );
    expect(await found.json()).toMatchObject({ jsonrpc: "2.0", error: { code: -32001 } });

    const grants = await server.store.listGrantsForUser(dave.id);
    expect(grants).toHaveLength(2);
    for (const grant of grants) expect(grant.revokedReason).toBe("airtable_access_lost");

    // The other client of the same user: its access token stops at once, its refresh token is refused.
    const desktop = await callListBases(daveDesktop.tokens()!.access_token);
    expect(desktop.status).toBe(401);
    expect(desktop.headers.get("www-authenticate")).toContain("revoked");
    const refresh = await fetch(`${server.url}/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        client_id: daveDesktop.clientId!,
        refresh_token: daveDesktop.tokens()!.refresh_token!,
      }),
    });
    expect(refresh.status).toBe(400);
    expect(await refresh.json()).toMatchObject({ error: "invalid_grant" });

    // Erin is another user: nothing of hers ended.
    expect((await callListBases(erinClient.tokens()!.access_token)).status).toBe(200);
    expect((await server.store.listGrantsForUser(erin.id)).every((g) => g.revokedAt === undefined)).toBe(true);
  });
});
