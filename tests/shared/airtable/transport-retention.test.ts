/**
 * An answered Airtable request leaves no timer behind (issue 15: RSS and GC per read call). `AbortSignal.timeout`'s
 * timer cannot be cleared: it stayed pending for the whole request timeout (30 s) after the answer, ~3,700 of them
 * per instance at 125 read calls/s, and since Node 24 each also kept the async context it was made in (with every
 * AsyncLocalStorage store of the MCP request) reachable. The transport's own timeout (timeout-signal.ts) is cleared
 * once the answer is read. That it still fires is client.test.ts's "timeout: a read is retried, then
 * AirtableNetworkError TIMEOUT".
 */
import { setImmediate as tick } from "node:timers/promises";
import { queryObjects } from "node:v8";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type BaseInfo, type Sandbox } from "../../../src/sandbox/index.ts";
import { AirtableClient } from "../../../src/shared/airtable/client.ts";
import type { AirtableLimiter } from "../../../src/shared/limiter/types.ts";

let sandbox: Sandbox;
let base: BaseInfo;
let client: AirtableClient;

const passThrough: AirtableLimiter = {
  schedule: async (_scope, fn) => fn({ written: () => undefined }),
  reportRateLimited: async () => undefined,
  close: async () => undefined,
};

beforeAll(async () => {
  sandbox = await startSandbox({ perBaseRps: 1_000, perTokenRps: 1_000 });
  const userId = sandbox.addUser({ email: "keeper@example.com" }).id;
  const token = sandbox.createPersonalAccessToken(userId);
  base = sandbox.createBase(userId, {
    name: "Retention",
    tables: [{ name: "T", fields: [{ name: "Name", type: "singleLineText" }], records: [{ Name: "a" }] }],
  });
  client = new AirtableClient({
    apiUrl: sandbox.url,
    contentUrl: sandbox.url,
    userId,
    getAccessToken: async () => token,
    limiter: passThrough,
    timeoutMs: 30_000, // the production default: the old timer outlived the test by far
    retry: { maxAttempts: 1 },
  });
  await client.listRecords(base.id, base.tables[0]!.id); // the connection is up before timers are counted
});
afterAll(() => sandbox.close());

/** Live Node timers (after a full collection: `queryObjects` runs one). */
const Timeout = setTimeout(() => undefined, 0).constructor as new () => unknown;
const liveTimers = (): number => queryObjects(Timeout, { format: "count" }) as number;

describe("an Airtable request that has answered", () => {
  it("leaves no timer pending (its 30 s timeout is cleared, not left to fire)", async () => {
    const before = liveTimers();
    for (let i = 0; i < 20; i++) {
      const page = await client.listRecords(base.id, base.tables[0]!.id);
      expect(page.records).toHaveLength(1);
    }
    await tick();
    // A few timers of the sandbox's and undici's own may come and go; 20 left behind would be the old timeouts.
    expect(liveTimers() - before).toBeLessThan(5);
  });
});
