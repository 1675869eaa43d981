/**
 * A confidential DCR client (Claude.ai registers one) whose secret was encrypted with a key the server no longer
 * holds: TOKEN_ENCRYPTION_KEY_PREVIOUS was dropped before the client was read again during the rotation window
 * (reading re-seals it: tests/support/token-store.contract.ts). The token endpoint answers 401 invalid_client
 * saying to register again, which MCP clients act on by themselves, instead of 500 server_error for good.
 * Two real servers on one Redis namespace: the first with the old key, the second with only the new one.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerClient, startHarness, tokenRequest, type Harness } from "../../support/auth-test-harness.ts";

let before: Harness;
let after: Harness;
beforeAll(async () => {
  before = await startHarness();
  after = await startHarness({
    sandbox: before.sandbox,
    keyPrefix: before.keyPrefix,
    env: { TOKEN_ENCRYPTION_KEY: randomBytes(32).toString("base64") },
  });
});
afterAll(async () => {
  await after?.close();
  await before?.close();
});

describe("a client registered under a key the server no longer holds", () => {
  it("gets invalid_client (register again) at the token endpoint, not a server error", async () => {
    const registered = await registerClient(before, {
      client_name: "Claude",
      redirect_uris: ["https://claude.ai/api/mcp/auth_callback"],
      token_endpoint_auth_method: "client_secret_post",
    });
    expect(registered.status).toBe(201);
    const answer = await tokenRequest(after, {
      grant_type: "refresh_token",
      refresh_token: "gr_unknown.token",
      client_id: registered.clientId,
      client_secret: registered.secret,
    });
    expect(answer.status).toBe(401);
    expect(answer.body.error).toBe("invalid_client");
    expect(String(answer.body.error_description)).toContain("can no longer be read");
    expect(String(answer.body.error_description)).toContain("register again");
  });
});
