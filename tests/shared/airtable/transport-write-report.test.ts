/**
 * The transport tells the limiter when a request is written to its socket (SendTiming.written, from undici's
 * `onRequestStart`), which is what the limiter counts a request's lateness from: not when the request was started,
 * and not at all for a request aborted before it was written. A connection that takes 300 ms to come up (an undici
 * Agent whose connector waits) separates the three moments; the sandbox records when each request arrived.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Agent, buildConnector, getGlobalDispatcher, setGlobalDispatcher, type Dispatcher } from "undici";
import { startSandbox, type BaseInfo, type Sandbox } from "../../../src/sandbox/index.ts";
import { nowMs } from "../../../src/sandbox/recorder.ts";
import { AirtableClient } from "../../../src/shared/airtable/client.ts";
import type { AirtableLimiter } from "../../../src/shared/limiter/types.ts";

const CONNECT_DELAY_MS = 300;

let sandbox: Sandbox;
let base: BaseInfo;
let userId: string;
let token: string;
const original: Dispatcher = getGlobalDispatcher();
let agent: Agent | undefined;

beforeAll(async () => {
  sandbox = await startSandbox({ perBaseRps: 1_000, perTokenRps: 1_000 });
  userId = sandbox.addUser({ email: "writer@example.com" }).id;
  token = sandbox.createPersonalAccessToken(userId);
  base = sandbox.createBase(userId, {
    name: "Write report",
    tables: [{ name: "T", fields: [{ name: "Name", type: "singleLineText" }], records: [{ Name: "a" }] }],
  });
});
afterEach(async () => {
  setGlobalDispatcher(original);
  await agent?.close();
  agent = undefined;
});
afterAll(() => sandbox.close());

/** Every new connection comes up CONNECT_DELAY_MS late (a fresh Agent: no connection to reuse). */
function slowConnections(): void {
  const connect = buildConnector({});
  agent = new Agent({
    connect: (options, callback) => void setTimeout(() => connect(options, callback), CONNECT_DELAY_MS),
  });
  setGlobalDispatcher(agent);
}

/** A pass-through limiter recording when each request was started (`fn` called) and reported written. */
function recordingLimiter() {
  const started: number[] = [];
  const written: number[] = [];
  const limiter: AirtableLimiter = {
    async schedule(_scope, fn) {
      started.push(nowMs());
      return fn({ written: () => written.push(nowMs()) });
    },
    async reportRateLimited() {},
    async close() {},
  };
  return { limiter, started, written };
}

function client(limiter: AirtableLimiter, timeoutMs: number): AirtableClient {
  return new AirtableClient({
    apiUrl: sandbox.url,
    contentUrl: sandbox.url,
    userId,
    getAccessToken: async () => token,
    limiter,
    timeoutMs,
    retry: { maxAttempts: 1 },
  });
}

describe("the transport's write report", () => {
  it("comes when the request is written, once its connection is up, before Airtable receives it", async () => {
    slowConnections();
    sandbox.clearRequests();
    const recorded = recordingLimiter();
    await client(recorded.limiter, 5_000).listRecords(base.id, base.tables[0]!.id);
    expect(recorded.started).toHaveLength(1);
    expect(recorded.written).toHaveLength(1);
    expect(recorded.written[0]! - recorded.started[0]!).toBeGreaterThanOrEqual(CONNECT_DELAY_MS - 1);
    expect(sandbox.requests).toHaveLength(1);
    expect(recorded.written[0]!).toBeLessThanOrEqual(sandbox.requests[0]!.time);
  });

  it("does not come for a request whose timeout fired while its connection was coming up", async () => {
    slowConnections();
    sandbox.clearRequests();
    const recorded = recordingLimiter();
    await expect(client(recorded.limiter, 100).listRecords(base.id, base.tables[0]!.id)).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, CONNECT_DELAY_MS));
    expect(recorded.started).toHaveLength(1);
    expect(sandbox.requests).toHaveLength(0);
    expect(recorded.written).toEqual([]);
  });
});
