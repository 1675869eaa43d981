/**
 * What a queued write's failed operation says when the user's Airtable access is lost while it waits: the person
 * revokes the integration on Airtable's account page (Integrations, Third-party integrations, Revoke access). Real
 * sandbox OAuth (sign-in, refresh refused with invalid_grant), the real token provider and token store in Redis, the
 * processor sending to the sandbox over HTTP.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { signIn, TEST_REDIRECT_URI } from "../../fixtures/airtable-sign-in.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";
import { startSandbox, type Sandbox } from "../../../src/sandbox/index.ts";
import { AirtableClient } from "../../../src/shared/airtable/client.ts";
import { AirtableOAuth } from "../../../src/shared/airtable/oauth.ts";
import { RedisKeyValueStore } from "../../../src/shared/kv/redis-key-value-store.ts";
import { BottleneckAirtableLimiter } from "../../../src/shared/limiter/index.ts";
import { createLogger } from "../../../src/shared/logger.ts";
import { OperationFailedError } from "../../../src/shared/operations/operation-errors.ts";
import { OperationLog } from "../../../src/shared/operations/operation-log.ts";
import { operationFromPlan } from "../../../src/shared/operations/plan.ts";
import { processOperation } from "../../../src/shared/operations/processor.ts";
import { AirtableTokenProvider } from "../../../src/shared/tokens/airtable-token-provider.ts";
import { TokenCipher } from "../../../src/shared/tokens/cipher.ts";
import { RedisTokenStore } from "../../../src/shared/tokens/redis-token-store.ts";

const CLIENT = { clientId: "mcp-server", clientSecret: "server-secret" };
const redis = createTestRedis();
const keyPrefix = uniquePrefix("access-lost-reason");
const limiter = BottleneckAirtableLimiter.local({ settings: { baseRps: 50 } });
const logger = createLogger({ level: "silent" });
let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox({ oauthClients: [{ ...CLIENT, redirectUris: [TEST_REDIRECT_URI] }] });
});
afterAll(async () => {
  await limiter.close();
  await sandbox.close();
  await deleteKeys(redis, keyPrefix);
  redis.disconnect();
});

it("a write whose user revoked the integration at Airtable fails saying the sign-in ended, not '401 after a refresh'", async () => {
  const oauth = new AirtableOAuth({ authUrl: sandbox.url, ...CLIENT });
  const user = sandbox.addUser({ email: `${randomBytes(6).toString("hex")}@example.com` });
  const base = sandbox.createBase(user.id, {
    name: "Revoked",
    tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }] }],
  });
  const tokens = await signIn(oauth, user.id, ["data.records:read", "data.records:write", "schema.bases:read"]);
  const store = new RedisTokenStore({ redis, cipher: TokenCipher.create(randomBytes(32)), keyPrefix });
  await store.putAirtableAccount({ userId: user.id, tokens, updatedAt: Date.now() });
  const provider = new AirtableTokenProvider({ store, oauth, locks: new RedisKeyValueStore(redis), keyPrefix });
  const airtable = new AirtableClient({
    apiUrl: sandbox.url,
    contentUrl: sandbox.url,
    userId: user.id,
    getAccessToken: (rejected) => provider.getAccessToken(user.id, rejected),
    limiter,
    logger,
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
  });
  const log = new OperationLog({ redis, keyPrefix, retentionMs: 600_000 });
  const op = operationFromPlan(
    {
      baseId: base.id,
      kind: "create_records",
      tableId: base.tables[0]!.id,
      input: [{ fields: { Name: "after the revoke" } }],
      options: { typecast: false, onError: "continue" },
    },
    user.id,
  );
  await log.create(op);

  // Queued, then the person revokes this server's access at Airtable before a worker sends it.
  expect(sandbox.revokeIntegration(user.id, CLIENT.clientId)).toMatchObject({ refreshTokens: 1, accessTokens: 1 });
  const error = await processOperation(op.operationId, { store: log, airtable, logger }).catch((e: unknown) => e);

  expect(error).toBeInstanceOf(OperationFailedError);
  const state = await log.state(op.operationId);
  expect(state?.status).toBe("failed");
  expect(state?.failure?.errorType).toBe("AUTHENTICATION_REQUIRED");
  expect(state?.failure?.reason).toMatch(/^This user's Airtable sign-in has ended \(Airtable refused to renew it/);
  expect(state?.failure?.reason).toContain("access revoked in Airtable");
  expect(state?.failure?.reason).toContain("Sign in again, then check with get_operation which items were written");
  expect(state?.failure?.reason).not.toContain("401 after a refresh");
  // The ended sign-in is forgotten (the provider deletes it), and nothing was written.
  expect(await store.getAirtableAccount(user.id)).toBeUndefined();
  expect(sandbox.listRecordsDirect(base.id, "Tasks")).toHaveLength(0);
});
