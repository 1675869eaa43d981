/**
 * The admin check in front of Bull Board and /metrics on the real server app: what an operator (browser or
 * Prometheus) gets with no token, a wrong one, the right one as Bearer or as Basic password, and when
 * ADMIN_TOKEN is unset (the routes do not exist).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/shared/config.ts";
import { startSandbox, type Sandbox } from "../../../src/sandbox/index.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";
import {
  TEST_ADMIN_TOKEN,
  basic,
  bearer,
  startServerHarness,
  type ServerHarness,
} from "../../support/admin-test-harness.ts";

const keyPrefix = uniquePrefix("admin-auth");
const redis = createTestRedis();
let sandbox: Sandbox;
let guarded: ServerHarness;
let open: ServerHarness;

beforeAll(async () => {
  sandbox = await startSandbox();
  [guarded, open] = await Promise.all([
    startServerHarness({ sandbox, keyPrefix, env: { ADMIN_TOKEN: TEST_ADMIN_TOKEN } }),
    startServerHarness({ sandbox, keyPrefix }),
  ]);
});

afterAll(async () => {
  await Promise.allSettled([guarded?.close(), open?.close()]);
  await sandbox?.close();
  await deleteKeys(redis, keyPrefix);
  redis.disconnect();
});

const get = (base: ServerHarness, path: string, authorization?: string) =>
  fetch(`${base.url}${path}`, authorization === undefined ? {} : { headers: { authorization } });

const ADMIN_PATHS = ["/metrics", "/admin/queues", "/admin/queues/api/queues"];

describe("admin auth (ADMIN_TOKEN set)", () => {
  it.each(ADMIN_PATHS)("%s without credentials: 401 with a Basic and Bearer challenge", async (path) => {
    const res = await get(guarded, path);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('Basic realm="admin", Bearer');
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.text()).toContain("ADMIN_TOKEN");
  });

  it.each([
    ["a wrong bearer token", bearer(`${TEST_ADMIN_TOKEN}x`)],
    ["a prefix of the token", bearer(TEST_ADMIN_TOKEN.slice(0, -1))],
    ["the token as Basic user name", basic(TEST_ADMIN_TOKEN, "")],
    ["a wrong Basic password", basic("admin", "not-the-admin-token")],
    ["Basic without a colon", `Basic ${Buffer.from(TEST_ADMIN_TOKEN).toString("base64")}`],
    ["another scheme", `Token ${TEST_ADMIN_TOKEN}`],
  ])("refuses %s with 401", async (_label, authorization) => {
    for (const path of ADMIN_PATHS) {
      const res = await get(guarded, path, authorization);
      expect(res.status, path).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe('Basic realm="admin", Bearer');
    }
  });

  it("accepts the token as Bearer (any case of the scheme)", async () => {
    const metrics = await get(guarded, "/metrics", bearer(TEST_ADMIN_TOKEN));
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await metrics.text()).toContain("# TYPE airtable_requests_total counter");
    const board = await get(guarded, "/admin/queues/api/queues", `bearer ${TEST_ADMIN_TOKEN}`);
    expect(board.status).toBe(200);
    expect(((await board.json()) as { queues: { name: string }[] }).queues.map((q) => q.name)).toEqual(["operations"]);
  });

  it("accepts the token as Basic password with any user name, as a browser sends it", async () => {
    for (const user of ["admin", "someone else", ""]) {
      const res = await get(guarded, "/metrics", basic(user, TEST_ADMIN_TOKEN));
      expect(res.status, user).toBe(200);
    }
    const page = await get(guarded, "/admin/queues", basic("ops", TEST_ADMIN_TOKEN));
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('<base href="/admin/queues/" />');
    // The board's own script loads (static files sit behind the same check).
    const script = /<script defer src="(static\/js\/main\.[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    expect((await get(guarded, `/admin/queues/${script}`)).status).toBe(401);
    const js = await get(guarded, `/admin/queues/${script}`, basic("ops", TEST_ADMIN_TOKEN));
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toMatch(/javascript/);
  });

  it("leaves the public routes alone", async () => {
    expect((await get(guarded, "/healthz")).status).toBe(200);
    const meta = await get(guarded, "/.well-known/oauth-authorization-server");
    expect(meta.status).toBe(200);
  });
});

describe("ADMIN_TOKEN unset", () => {
  it.each(ADMIN_PATHS)("%s does not exist (404), whatever the credentials", async (path) => {
    expect((await get(open, path)).status).toBe(404);
    expect((await get(open, path, bearer(TEST_ADMIN_TOKEN))).status).toBe(404);
  });

  it("config refuses a short ADMIN_TOKEN rather than guarding the board with a guessable one", () => {
    expect(() => loadConfig({ ADMIN_TOKEN: "short" }, "any")).toThrow(/ADMIN_TOKEN: must be at least 16 characters/);
    expect(loadConfig({}, "any").ADMIN_TOKEN).toBeUndefined();
    expect(loadConfig({ ADMIN_READ_ONLY: "true" }, "any").ADMIN_READ_ONLY).toBe(true);
  });
});
