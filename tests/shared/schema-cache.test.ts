import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { seedDemo, type DemoData } from "../../src/sandbox/demo-data.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../helpers/redis.ts";
import { AirtableClient } from "../../src/shared/airtable/client.ts";
import { AirtablePermissionError } from "../../src/shared/airtable/errors.ts";
import { BottleneckAirtableLimiter } from "../../src/shared/limiter/index.ts";
import {
  BASE_LIST_TTL_MS,
  SchemaCache,
  SchemaLookupError,
  resolveField,
  resolveTable,
} from "../../src/shared/schema-cache.ts";

let sandbox: Sandbox;
let demo: DemoData;
let limiter: BottleneckAirtableLimiter;
const redis = createTestRedis();
const prefix = uniquePrefix("schema-cache");
let other: { id: string; token: string };

beforeAll(async () => {
  sandbox = await startSandbox({ perBaseRps: 50 });
  limiter = BottleneckAirtableLimiter.local({ settings: { baseRps: 50 } });
  demo = seedDemo(sandbox);
  const user = sandbox.addUser({ email: "other@example.com" });
  other = { id: user.id, token: sandbox.createPersonalAccessToken(user.id) };
});
afterAll(async () => {
  await limiter.close();
  await sandbox.close();
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

function client(userId: string, token: string): AirtableClient {
  return new AirtableClient({
    apiUrl: sandbox.url,
    contentUrl: sandbox.url,
    userId,
    getAccessToken: async () => token,
    limiter,
  });
}

function schemaRequests(baseId: string): number {
  return sandbox.requests.filter((r) => r.path === `/v0/meta/bases/${baseId}/tables`).length;
}

describe("SchemaCache in Redis", () => {
  it("a burst of gets costs one Airtable request, and other instances read it from Redis", async () => {
    const keyPrefix = `${prefix}:burst`;
    const cache = new SchemaCache({ redis, keyPrefix });
    const a = client(demo.user.id, demo.token);
    const before = schemaRequests(demo.base.id);
    const schemas = await Promise.all(Array.from({ length: 20 }, () => cache.get(a, demo.base.id, demo.user.id)));
    expect(schemaRequests(demo.base.id) - before).toBe(1);
    expect(schemas[0]?.tables.map((t) => t.name)).toEqual(["Companies", "Contacts"]);

    const otherInstance = new SchemaCache({ redis, keyPrefix });
    const again = await otherInstance.get(a, demo.base.id, demo.user.id);
    expect(again).toEqual(schemas[0]);
    expect(schemaRequests(demo.base.id) - before).toBe(1);
  });

  it("is kept per user: another user's access is checked by Airtable, not served from A's entry", async () => {
    const cache = new SchemaCache({ redis, keyPrefix: `${prefix}:per-user` });
    await cache.get(client(demo.user.id, demo.token), demo.base.id, demo.user.id);
    await expect(cache.get(client(other.id, other.token), demo.base.id, other.id)).rejects.toBeInstanceOf(
      AirtablePermissionError,
    );
    sandbox.grantAccess(demo.base.id, other.id, "read");
    const before = schemaRequests(demo.base.id);
    await cache.get(client(other.id, other.token), demo.base.id, other.id);
    expect(schemaRequests(demo.base.id) - before).toBe(1);
  });

  it("invalidate(baseId) forgets the base for every user; fresh skips the cache", async () => {
    const keyPrefix = `${prefix}:invalidate`;
    const cache = new SchemaCache({ redis, keyPrefix });
    const a = client(demo.user.id, demo.token);
    await cache.get(a, demo.base.id, demo.user.id);
    expect(await redis.exists(`${keyPrefix}:schema:${demo.base.id}:u:${demo.user.id}`)).toBe(1);
    await cache.invalidate(demo.base.id);
    expect(await redis.exists(`${keyPrefix}:schema:${demo.base.id}:u:${demo.user.id}`)).toBe(0);
    const before = schemaRequests(demo.base.id);
    await cache.get(a, demo.base.id, demo.user.id);
    await cache.get(a, demo.base.id, demo.user.id);
    await cache.get(a, demo.base.id, demo.user.id, { fresh: true });
    expect(schemaRequests(demo.base.id) - before).toBe(2);
  });

  it("a fresh get while a cached read of the same schema is in flight reads Airtable, not that cached copy", async () => {
    const keyPrefix = `${prefix}:fresh-joins`;
    const cache = new SchemaCache({ redis, keyPrefix });
    const a = client(demo.user.id, demo.token);
    const companies = demo.base.tables.find((t) => t.name === "Companies")!.id;
    await cache.get(a, demo.base.id, demo.user.id);
    // Renamed in Airtable (as a person does) while the cached schema still has the old name.
    const rename = (name: string) =>
      fetch(`${sandbox.url}/v0/meta/bases/${demo.base.id}/tables/${companies}`, {
        method: "PATCH",
        headers: { authorization: `Bearer ${demo.token}`, "content-type": "application/json" },
        body: JSON.stringify({ name }),
      });
    expect((await rename("Firms")).status).toBe(200);
    try {
      // A read of the cached copy and a fresh read (a write re-checking its names) start together.
      const [cached, fresh] = await Promise.all([
        cache.get(a, demo.base.id, demo.user.id),
        cache.get(a, demo.base.id, demo.user.id, { fresh: true }),
      ]);
      expect(cached.tables.map((t) => t.name)).toContain("Companies");
      expect(fresh.tables.map((t) => t.name)).toContain("Firms");
      // The fresh answer is what the cache holds now.
      expect((await cache.get(a, demo.base.id, demo.user.id)).tables.map((t) => t.name)).toContain("Firms");
    } finally {
      expect((await rename("Companies")).status).toBe(200);
      await cache.invalidate(demo.base.id);
    }
  });

  it("a schema change made through another instance is seen at once, although this one parsed the old schema", async () => {
    const keyPrefix = `${prefix}:memo`;
    const here = new SchemaCache({ redis, keyPrefix });
    const there = new SchemaCache({ redis, keyPrefix });
    const a = client(demo.user.id, demo.token);
    await here.get(a, demo.base.id, demo.user.id); // miss: fetched and written
    const old = await here.get(a, demo.base.id, demo.user.id); // read from Redis and parsed: now remembered
    expect(here.memoChars).toBeGreaterThan(0);
    const table = old.tables[0]!;
    await a.createField(demo.base.id, table.id, { name: "Memo probe", type: "singleLineText" });
    await there.invalidate(demo.base.id);
    await there.get(a, demo.base.id, demo.user.id); // the new schema, written to Redis by the other instance
    const now = await here.get(a, demo.base.id, demo.user.id);
    expect(now.tables[0]!.fields.map((f) => f.name)).toContain("Memo probe");
    expect(old.tables[0]!.fields.map((f) => f.name)).not.toContain("Memo probe");
  });

  it("the parsed-schema memo stays within its bound", async () => {
    const keyPrefix = `${prefix}:memo-bound`;
    const writer = new SchemaCache({ redis, keyPrefix });
    const a = client(demo.user.id, demo.token);
    const b = client(other.id, other.token);
    sandbox.grantAccess(demo.base.id, other.id, "read");
    await writer.get(a, demo.base.id, demo.user.id);
    await writer.get(b, demo.base.id, other.id);
    const oneSchema = (await redis.get(`${keyPrefix}:schema:${demo.base.id}:u:${demo.user.id}`))!.length;
    const reader = new SchemaCache({ redis, keyPrefix, memoChars: oneSchema + 10 });
    const first = await reader.get(a, demo.base.id, demo.user.id);
    const second = await reader.get(b, demo.base.id, other.id);
    expect(reader.memoChars).toBeLessThanOrEqual(oneSchema + 10);
    expect(first.tables.length).toBe(second.tables.length);
  });

  it("expires after ttlMs", async () => {
    const cache = new SchemaCache({ redis, keyPrefix: `${prefix}:ttl`, ttlMs: 150 });
    const a = client(demo.user.id, demo.token);
    const before = schemaRequests(demo.base.id);
    await cache.get(a, demo.base.id, demo.user.id);
    await cache.get(a, demo.base.id, demo.user.id);
    await new Promise((r) => setTimeout(r, 200));
    await cache.get(a, demo.base.id, demo.user.id);
    expect(schemaRequests(demo.base.id) - before).toBe(2);
  });
});

describe("SchemaCache: the user's bases as list bases answered them", () => {
  const bases = [
    { id: "appAAAAAAAAAAAAAA", name: "Mine", permissionLevel: "create" },
    { id: "appBBBBBBBBBBBBBB", name: "Shared", permissionLevel: "read" },
  ];
  for (const store of ["Redis", "memory"] as const) {
    it(`answers a base's level from the last list for ${BASE_LIST_TTL_MS / 60_000} minutes, per user (${store})`, async () => {
      let now = 1_000_000;
      const cache = new SchemaCache({
        ...(store === "Redis" && { redis }),
        keyPrefix: `${prefix}:levels-${store}`,
        now: () => now,
      });
      expect(await cache.baseAccess("usrA", "appBBBBBBBBBBBBBB")).toBeUndefined();
      await cache.rememberBases("usrA", bases, now);
      expect(await cache.baseAccess("usrA", "appBBBBBBBBBBBBBB")).toEqual({
        baseId: "appBBBBBBBBBBBBBB",
        seenAt: now,
        name: "Shared",
        level: "read",
      });
      // A base the list does not show: known as not reached, without a level.
      expect(await cache.baseAccess("usrA", "appCCCCCCCCCCCCCC")).toEqual({ baseId: "appCCCCCCCCCCCCCC", seenAt: now });
      expect(await cache.baseAccess("usrB", "appBBBBBBBBBBBBBB")).toBeUndefined();
      now += BASE_LIST_TTL_MS;
      expect(await cache.baseAccess("usrA", "appBBBBBBBBBBBBBB")).toBeUndefined();
    });
  }
});

describe("SchemaCache in memory (no Redis)", () => {
  it("single-flights, caches until the TTL and invalidates", async () => {
    let now = 1_000;
    const cache = new SchemaCache({ keyPrefix: "mem", ttlMs: 60_000, now: () => now });
    const a = client(demo.user.id, demo.token);
    const before = schemaRequests(demo.base.id);
    await Promise.all([cache.get(a, demo.base.id, demo.user.id), cache.get(a, demo.base.id, demo.user.id)]);
    await cache.get(a, demo.base.id, demo.user.id);
    expect(schemaRequests(demo.base.id) - before).toBe(1);
    now += 60_001;
    await cache.get(a, demo.base.id, demo.user.id);
    expect(schemaRequests(demo.base.id) - before).toBe(2);
    await cache.invalidate(demo.base.id);
    await cache.get(a, demo.base.id, demo.user.id);
    expect(schemaRequests(demo.base.id) - before).toBe(3);
  });
});

describe("SchemaCache: a shared load whose call is stopped", () => {
  it("another call waiting on it loads the schema for itself instead of failing with the first call's stop", async () => {
    const cache = new SchemaCache({ keyPrefix: "stopped-load" });
    const stop = new AbortController();
    // A read call with a deadline (read-call.ts) starts the load; a second call of the same user joins it.
    const first = client(demo.user.id, demo.token).withCancelSignal(stop.signal, { scope: "all" });
    const second = client(demo.user.id, demo.token);
    const before = schemaRequests(demo.base.id);
    sandbox.setFaults({ latencyMs: 300 });
    try {
      const a = cache.get(first, demo.base.id, demo.user.id);
      const b = cache.get(second, demo.base.id, demo.user.id);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const reason = new Error("the first call's deadline passed");
      stop.abort(reason);
      await expect(a).rejects.toBe(reason);
      expect((await b).tables.map((t) => t.name)).toEqual(["Companies", "Contacts"]);
      expect(schemaRequests(demo.base.id) - before).toBe(2);
    } finally {
      sandbox.setFaults({ latencyMs: 0 });
    }
  });
});

describe("resolveTable / resolveField", () => {
  it("accept ids, exact names and unambiguous case-insensitive names; unknown names list the real ones", async () => {
    const schema = await new SchemaCache({ keyPrefix: "resolve" }).get(
      client(demo.user.id, demo.token),
      demo.base.id,
      demo.user.id,
    );
    const contacts = resolveTable(schema, "Contacts");
    expect(resolveTable(schema, contacts.id)).toBe(contacts);
    expect(resolveTable(schema, " contacts ")).toBe(contacts);
    const email = resolveField(contacts, "email");
    expect(resolveField(contacts, email.id)).toBe(email);

    const table = (() => {
      try {
        resolveTable(schema, "People", demo.base.id);
      } catch (error) {
        return error;
      }
    })();
    expect(table).toBeInstanceOf(SchemaLookupError);
    expect((table as Error).message).toContain(`Unknown table "People" in ${demo.base.id}`);
    expect((table as Error).message).toContain(`"Companies" (${resolveTable(schema, "Companies").id})`);
    expect(() => resolveField(contacts, "Salary")).toThrow(/Unknown field "Salary".*"Name" \(fld.*"Deal size"/s);
  });

  it("say 'did you mean' for a name one keystroke from a real one, never between names of one or two characters", () => {
    // Short names are common (X, Y, Q1, Q2) and each is one edit from every other: no guess is worth making there.
    const table = {
      id: "tblShort",
      name: "Grid",
      primaryFieldId: "fldX",
      views: [],
      fields: ["X", "Y", "Q1", "Q2", "Cost"].map((name) => ({ id: `fld${name}`, name, type: "singleLineText" })),
    } as unknown as Parameters<typeof resolveField>[0];
    const message = (name: string) => {
      try {
        resolveField(table, name);
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error(`${name} was found`);
    };
    expect(message("Z")).toMatch(/^Unknown field "Z" in table "Grid" \(tblShort\)\. The fields are: /);
    expect(message("Q3")).toMatch(/^Unknown field "Q3" in table "Grid" \(tblShort\)\. The fields are: /);
    expect(message("Cots")).toContain('. Did you mean "Cost" (fldCost)? The fields are: ');
  });
});
