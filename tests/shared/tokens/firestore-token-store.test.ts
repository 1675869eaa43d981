/**
 * The TokenStore contract on Firestore. With FIRESTORE_EMULATOR_HOST set (e.g. `gcloud emulators firestore
 * start`) it runs against that emulator, concurrency test included. Otherwise it starts the npm
 * `@firestore-emulator/server` in this process, which does not isolate transactions: everything but the
 * concurrent-rotation test runs there.
 */
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { Firestore } from "@google-cloud/firestore";
import { FirestoreServer } from "@firestore-emulator/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema } from "../../../src/shared/config.ts";
import { TokenCipher } from "../../../src/shared/tokens/cipher.ts";
import { FirestoreTokenStore } from "../../../src/shared/tokens/firestore-token-store.ts";
import { createTokenStore, DeferredTokenStore } from "../../../src/shared/tokens/index.ts";
import { tokenStoreContract } from "../../support/token-store.contract.ts";

const externalEmulator = process.env.FIRESTORE_EMULATOR_HOST;
const collectionPrefix = `test_${randomBytes(4).toString("hex")}_`;
let host = externalEmulator ?? "";
let server: FirestoreServer | undefined;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject()));
    });
  });
}

beforeAll(async () => {
  if (externalEmulator !== undefined) return;
  const port = await freePort();
  server = new FirestoreServer();
  await server.start(port);
  host = `127.0.0.1:${port}`;
});
afterAll(() => server?.stop());

function firestore(): Firestore {
  return new Firestore({ projectId: "demo-atmcp", host, ssl: false, ignoreUndefinedProperties: true });
}

const names = { account: "airtable_accounts", client: "clients", grant: "grants" } as const;
tokenStoreContract(
  externalEmulator === undefined ? "firestore (npm @firestore-emulator/server)" : `firestore (${externalEmulator})`,
  async (cipher, now) => {
    const db = firestore();
    return {
      store: new FirestoreTokenStore({ firestore: db, cipher, collectionPrefix, ...(now ? { now } : {}) }),
      async readRaw(kind, id) {
        const data = (await db.doc(`${collectionPrefix}${names[kind]}/${id}`).get()).data();
        return data === undefined ? undefined : JSON.stringify(data);
      },
    };
  },
  { isolatesTransactions: externalEmulator !== undefined },
);

describe("createTokenStore with TOKEN_STORE=firestore", () => {
  it("connects through FIRESTORE_EMULATOR_HOST, FIRESTORE_PROJECT_ID and a prefix from the key prefix", async () => {
    const previous = process.env.FIRESTORE_EMULATOR_HOST;
    process.env.FIRESTORE_EMULATOR_HOST = host;
    try {
      const config = configSchema.parse({ TOKEN_STORE: "firestore", FIRESTORE_PROJECT_ID: "demo-atmcp" });
      const cipher = TokenCipher.create(randomBytes(32));
      const keyPrefix = `test:${randomBytes(4).toString("hex")}`;
      // Redis is not used by the Firestore store; nothing connects to it.
      const store = createTokenStore(config, { redis: undefined as never, cipher, keyPrefix });
      // The Firestore SDK is loaded on first use (DeferredTokenStore); what is underneath is the Firestore store.
      expect(store).toBeInstanceOf(DeferredTokenStore);
      expect(await (store as DeferredTokenStore).loaded()).toBeInstanceOf(FirestoreTokenStore);
      const tokens = { accessToken: "a", refreshToken: "r", accessTokenExpiresAt: 1, scopes: [] };
      await store.putAirtableAccount({ userId: "usrX", tokens, updatedAt: 1 });
      const raw = await firestore()
        .doc(`${keyPrefix.replace(":", "_")}_airtable_accounts/usrX`)
        .get();
      expect(raw.exists).toBe(true);
      expect(await store.getAirtableAccount("usrX")).toEqual({ userId: "usrX", tokens, updatedAt: 1 });
      await store.close();
    } finally {
      if (previous === undefined) delete process.env.FIRESTORE_EMULATOR_HOST;
      else process.env.FIRESTORE_EMULATOR_HOST = previous;
    }
  });
});
