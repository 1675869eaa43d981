/**
 * The client against the project's Airtable sandbox (src/sandbox), over real HTTP: no mock of HTTP anywhere.
 * The limiter is a pass-through that records calls (the Redis limiter is tested on its own); on a 429 it waits
 * out the sandbox's (short) penalty, as the real limiter would.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startSandbox, type BaseInfo, type Sandbox } from "../../../src/sandbox/index.ts";
import type { AirtableLimiter, RateLimitScope } from "../../../src/shared/limiter/types.ts";
import { nowMs } from "../../../src/sandbox/recorder.ts";
import { newCallProgress } from "../../../src/shared/airtable/call-progress.ts";
import { AirtableClient, type AirtableClientOptions } from "../../../src/shared/airtable/client.ts";
import {
  AirtableAuthError,
  AirtableNotFoundError,
  AirtableOutcomeUnknownError,
  AirtablePermissionError,
  AirtableServerError,
  AirtableValidationError,
} from "../../../src/shared/airtable/errors.ts";

const PENALTY_MS = 300;
const TABLE = "Tâches / 2024 ✓"; // a name with a space, a slash and unicode

let sandbox: Sandbox;
let user: { id: string; email: string };
let token: string;
let base: BaseInfo;

/** A pass-through limiter that records calls and can run a hook before each attempt (to script faults). */
function testLimiter() {
  const scheduled: RateLimitScope[] = [];
  const reported: RateLimitScope[] = [];
  /** When each attempt reported its socket write (SendTiming.written), on the sandbox recorder's clock. */
  const written: number[] = [];
  let beforeAttempt: ((n: number) => void) | undefined;
  const limiter: AirtableLimiter = {
    async schedule(scope, fn) {
      scheduled.push(scope);
      beforeAttempt?.(scheduled.length);
      return fn({ written: () => written.push(nowMs()) });
    },
    async reportRateLimited(scope) {
      reported.push(scope);
      await new Promise((resolve) => setTimeout(resolve, PENALTY_MS + 50));
    },
    async close() {},
  };
  return {
    limiter,
    scheduled,
    reported,
    written,
    onAttempt(hook: (n: number) => void) {
      beforeAttempt = hook;
    },
  };
}

let lim: ReturnType<typeof testLimiter>;
let tokenCalls: (string | undefined)[];

function client(overrides: Partial<AirtableClientOptions> = {}): AirtableClient {
  return new AirtableClient({
    apiUrl: sandbox.url,
    contentUrl: sandbox.url,
    userId: user.id,
    getAccessToken: async (rejected) => {
      tokenCalls.push(rejected);
      return token;
    },
    limiter: lim.limiter,
    retry: { baseDelayMs: 10, maxDelayMs: 50 },
    timeoutMs: 5000,
    ...overrides,
  });
}

const names = (table = TABLE) =>
  sandbox
    .listRecordsDirect(base.id, table)
    .map((r) => r.fields.Name)
    .sort();
const requestsTo = (method: string, suffix: string) =>
  sandbox.requests.filter((r) => r.method === method && r.path.endsWith(suffix));

beforeAll(async () => {
  sandbox = await startSandbox({ perBaseRps: 10_000, perTokenRps: 10_000, penaltyMs: PENALTY_MS });
  user = sandbox.addUser({ email: "owner@example.com", name: "Owner" });
  token = sandbox.createPersonalAccessToken(user.id);
  base = sandbox.createBase(user.id, {
    name: "Client tests",
    tables: [
      {
        name: TABLE,
        fields: [
          { name: "Name", type: "singleLineText" },
          { name: "Count", type: "number", options: { precision: 0 } },
          { name: "Status", type: "singleSelect", options: { choices: [{ name: "Todo" }, { name: "Done" }] } },
          { name: "Files", type: "multipleAttachments" },
        ],
        records: [
          { Name: "seed-a", Count: 1 },
          { Name: "seed-b", Count: 2 },
        ],
      },
    ],
  });
});
afterAll(() => sandbox.close());
beforeEach(() => {
  lim = testLimiter();
  tokenCalls = [];
  sandbox.setFaults({
    latencyMs: 0,
    serverErrorRate: 0,
    dropAfterApply: 0,
    dropBeforeApply: 0,
    unavailable: 0,
    retryAfter: undefined,
  });
  sandbox.clearRequests();
});

describe("a 503 with Retry-After (RFC 9110 §10.2.3)", () => {
  const gaps = () => {
    const times = sandbox.requests.map((r) => r.time);
    return times.slice(1).map((t, i) => t - times[i]!);
  };

  it("waits the seconds it asks before the next attempt of a read, instead of the short backoff", async () => {
    sandbox.setFaults({ unavailable: 1, retryAfter: "1" });
    const page = await client().listRecords(base.id, TABLE);
    expect(page.records.map((r) => r.fields.Name)).toEqual(expect.arrayContaining(["seed-a", "seed-b"]));
    expect(sandbox.requests.map((r) => r.status)).toEqual([503, 200]);
    expect(gaps()[0]).toBeGreaterThanOrEqual(950);
  });

  it("waits until the HTTP-date it names", async () => {
    const at = Math.floor(Date.now() / 1000) * 1000 + 2000; // whole seconds, as the header has them
    sandbox.setFaults({ unavailable: 1, retryAfter: new Date(at).toUTCString() });
    await client().getBaseSchema(base.id);
    expect(sandbox.requests.map((r) => r.status)).toEqual([503, 200]);
    expect(Date.now()).toBeGreaterThanOrEqual(at);
    expect(gaps()[0]).toBeGreaterThanOrEqual(900);
  });

  it("fails at once, saying when, when the time asked is beyond what a call waits (retry.maxRetryAfterMs)", async () => {
    sandbox.setFaults({ unavailable: 5, retryAfter: "120" });
    const started = Date.now();
    const error = await client()
      .listRecords(base.id, TABLE)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AirtableServerError);
    const failed = error as AirtableServerError;
    expect(failed.status).toBe(503);
    expect(failed.retryAt).toBeGreaterThanOrEqual(started + 120_000);
    expect(failed.retryAt).toBeLessThan(Date.now() + 120_000 + 1000);
    expect(failed.describe()).toContain(`(Retry-After: ${new Date(failed.retryAt!).toISOString()})`);
    // One request: the four retries the transport would send meet the same 503 well before then.
    expect(sandbox.requests).toHaveLength(1);
  });
});

describe("telling the limiter when a request leaves", () => {
  it("reports each attempt's socket write once, after it was scheduled and before Airtable received it", async () => {
    const c = client({ retry: { baseDelayMs: 10, maxDelayMs: 50 } });
    await c.listRecords(base.id, TABLE);
    sandbox.setFaults({ serverErrorRate: 1 });
    lim.onAttempt((n) => {
      if (n === 4) sandbox.setFaults({ serverErrorRate: 0 });
    });
    await c.listRecords(base.id, TABLE); // two 5xx, then an answer: three attempts, three writes
    const arrivals = sandbox.requests.map((r) => r.time);
    expect(arrivals).toHaveLength(4);
    expect(lim.written).toHaveLength(4);
    for (const [i, writtenAt] of lim.written.entries()) expect(writtenAt).toBeLessThanOrEqual(arrivals[i]!);
    for (let i = 1; i < 4; i += 1) expect(lim.written[i]).toBeGreaterThan(arrivals[i - 1]!);
  });
});

describe("reads", () => {
  it("whoami, bases and schema", async () => {
    const c = client();
    expect(await c.whoami()).toMatchObject({ id: user.id, email: user.email });
    const bases = await c.listAllBases();
    expect(bases.map((b) => b.id)).toContain(base.id);
    const schema = await c.getBaseSchema(base.id);
    const table = schema.tables.find((t) => t.name === TABLE);
    expect(table?.fields.map((f) => f.name)).toEqual(["Name", "Count", "Status", "Files"]);
    expect(table?.primaryFieldId).toBe(table?.fields[0]?.id);
    expect(lim.scheduled[0]).toEqual({ userId: user.id });
    expect(lim.scheduled[2]).toEqual({ userId: user.id, baseId: base.id });
  });

  it("listRecords with fields, sort, formula and paging; getRecord", async () => {
    const c = client();
    const page = await c.listRecords(base.id, TABLE, {
      fields: ["Name"],
      sort: [{ field: "Name", direction: "desc" }],
      filterByFormula: "FIND('seed', {Name})",
      pageSize: 1,
    });
    expect(page.records.map((r) => r.fields)).toEqual([{ Name: "seed-b" }]);
    expect(page.offset).toBeDefined();
    const next = await c.listRecords(base.id, TABLE, {
      fields: ["Name"],
      sort: [{ field: "Name", direction: "desc" }],
      filterByFormula: "FIND('seed', {Name})",
      pageSize: 1,
      ...(page.offset === undefined ? {} : { offset: page.offset }),
    });
    expect(next.records.map((r) => r.fields.Name)).toEqual(["seed-a"]);
    const id = next.records[0]!.id;
    const byFieldId = await c.getRecord(base.id, TABLE, id, { returnFieldsByFieldId: true });
    const nameFieldId = base.tables[0]!.fields[0]!.id;
    expect(byFieldId.fields[nameFieldId]).toBe("seed-a");
    // The table name travelled as one percent-encoded segment.
    expect(requestsTo("GET", `/v0/${base.id}/${encodeURIComponent(TABLE)}`)).toHaveLength(2);
  });

  it("iterateRecords follows offset page by page", async () => {
    const pages: unknown[][] = [];
    for await (const page of client().iterateRecords(base.id, TABLE, {
      filterByFormula: "FIND('seed', {Name})",
      pageSize: 1,
      fields: ["Name"],
    })) {
      pages.push(page.map((r) => r.fields.Name));
    }
    expect(pages).toEqual([["seed-a"], ["seed-b"]]);
    expect(sandbox.requests).toHaveLength(2);
  });

  it("a formula longer than the URL limit switches to POST listRecords and still answers correctly", async () => {
    const c = client();
    const clauses = Array.from({ length: 1200 }, (_, i) => `{Name} = 'no-such-name-${i}'`);
    const formula = `OR(${[...clauses, "{Name} = 'seed-b'"].join(", ")})`;
    expect(formula.length).toBeGreaterThan(16_000);
    const page = await c.listRecords(base.id, TABLE, { filterByFormula: formula, fields: ["Name", "Count"] });
    expect(page.records.map((r) => r.fields)).toEqual([{ Name: "seed-b", Count: 2 }]);
    expect(sandbox.requests.map((r) => `${r.method} ${r.status}`)).toEqual(["POST 200"]);
    expect(sandbox.requests[0]!.path).toMatch(/\/listRecords$/);

    // A short one stays a GET.
    sandbox.clearRequests();
    await c.listRecords(base.id, TABLE, { filterByFormula: "{Name} = 'seed-b'" });
    expect(sandbox.requests.map((r) => r.method)).toEqual(["GET"]);
  });
});

describe("writes", () => {
  it("create, update, replace, upsert, delete", async () => {
    const c = client();
    const created = await c.createRecords(base.id, TABLE, [
      { fields: { Name: "crud-1", Count: 1 } },
      { fields: { Name: "crud-2", Status: "Todo" } },
    ]);
    expect(created.map((r) => r.fields.Name)).toEqual(["crud-1", "crud-2"]);
    const [one, two] = created as [(typeof created)[0], (typeof created)[0]];

    const updated = await c.updateRecords(base.id, TABLE, [{ id: one.id, fields: { Count: 10 } }]);
    expect(updated[0]?.fields).toMatchObject({ Name: "crud-1", Count: 10 });
    const replaced = await c.updateRecords(base.id, TABLE, [{ id: two.id, fields: { Name: "crud-2b" } }], {
      replace: true,
    });
    expect(replaced[0]?.fields).toEqual({ Name: "crud-2b" }); // Status cleared by PUT

    const upsert = await c.upsertRecords(
      base.id,
      TABLE,
      [{ fields: { Name: "crud-1", Count: 11 } }, { fields: { Name: "crud-3", Count: 3 } }],
      { fieldsToMergeOn: ["Name"] },
    );
    expect(upsert.updatedRecords).toEqual([one.id]);
    expect(upsert.createdRecords).toHaveLength(1);
    const threeId = upsert.createdRecords[0]!;

    const typecast = await c.createRecords(base.id, TABLE, [{ fields: { Name: "crud-4", Count: "4" } }], {
      typecast: true,
    });
    expect(typecast[0]?.fields.Count).toBe(4);

    const deleted = await c.deleteRecords(base.id, TABLE, [one.id, two.id, threeId, typecast[0]!.id]);
    expect(deleted.every((d) => d.deleted)).toBe(true);
    expect(names().filter((n) => String(n).startsWith("crud"))).toEqual([]);
    expect(sandbox.requests.every((r) => r.status === 200)).toBe(true);
  });

  it("schema changes: create/update table and field", async () => {
    const c = client();
    const table = await c.createTable(base.id, {
      name: `Schema ${Date.now()}`,
      description: "made by the client test",
      fields: [
        { name: "Title", type: "singleLineText" },
        { name: "Amount", type: "number", options: { precision: 2 } },
      ],
    });
    expect(table.fields.map((f) => f.name)).toEqual(["Title", "Amount"]);
    const renamed = await c.updateTable(base.id, table.id, { name: `${table.name} renamed`, description: "d2" });
    expect(renamed).toMatchObject({ id: table.id, description: "d2" });
    const field = await c.createField(base.id, table.id, { name: "Notes", type: "multilineText", description: "n" });
    expect(field).toMatchObject({ name: "Notes", type: "multilineText" });
    const field2 = await c.updateField(base.id, table.id, field.id, { name: "Remarks" });
    expect(field2).toMatchObject({ id: field.id, name: "Remarks" });
  });

  it("comments and attachment upload", async () => {
    const c = client();
    const [rec] = await c.createRecords(base.id, TABLE, [{ fields: { Name: "with-extras" } }]);
    const comment = await c.createComment(base.id, TABLE, rec!.id, "first!");
    expect(comment).toMatchObject({ text: "first!", author: { id: user.id } });
    await c.createComment(base.id, TABLE, rec!.id, "second");
    const page = await c.listComments(base.id, TABLE, rec!.id, { pageSize: 1 });
    expect(page.comments.map((x) => x.text)).toEqual(["second"]);
    const rest = await c.listComments(base.id, TABLE, rec!.id, { pageSize: 1, offset: page.offset! });
    expect(rest).toEqual({ comments: [expect.objectContaining({ text: "first!" })] });
    // A threaded reply names its parent, in the answer and when listed; a top-level comment has no parent.
    const reply = await c.createComment(base.id, TABLE, rec!.id, "re: first", { parentCommentId: comment.id });
    expect(reply).toMatchObject({ text: "re: first", parentCommentId: comment.id });
    const listed = await c.listComments(base.id, TABLE, rec!.id);
    expect(listed.comments.map((x) => [x.text, x.parentCommentId])).toEqual([
      ["re: first", comment.id],
      ["second", undefined],
      ["first!", undefined],
    ]);

    const upload = await c.uploadAttachment(base.id, rec!.id, "Files", {
      contentType: "text/plain",
      filename: "hello.txt",
      file: Buffer.from("hello world").toString("base64"),
    });
    expect(upload.id).toBe(rec!.id);
    expect(upload.attachments).toEqual([
      expect.objectContaining({ filename: "hello.txt", size: 11, type: "text/plain" }),
    ]);
    expect(await (await fetch(upload.attachments![0]!.url)).text()).toBe("hello world");
  });
});

describe("error mapping", () => {
  it("unknown field → AirtableValidationError UNKNOWN_FIELD_NAME, nothing created", async () => {
    const before = names().length;
    const error = await client()
      .createRecords(base.id, TABLE, [{ fields: { Name: "x" } }, { fields: { Nope: 1 } }])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AirtableValidationError);
    expect(error).toMatchObject({
      status: 422,
      type: "UNKNOWN_FIELD_NAME",
      method: "POST",
      operation: "createRecords",
    });
    expect((error as Error).message).toContain("Nope");
    expect(names()).toHaveLength(before);
  });

  it("bad value → INVALID_VALUE_FOR_COLUMN; unknown select option → INVALID_MULTIPLE_CHOICE_OPTIONS", async () => {
    const c = client();
    await expect(c.createRecords(base.id, TABLE, [{ fields: { Count: "many" } }])).rejects.toMatchObject({
      type: "INVALID_VALUE_FOR_COLUMN",
    });
    await expect(c.createRecords(base.id, TABLE, [{ fields: { Status: "Blocked" } }])).rejects.toMatchObject({
      type: "INVALID_MULTIPLE_CHOICE_OPTIONS",
    });
  });

  it("unknown record → AirtableNotFoundError; unknown base → AirtablePermissionError", async () => {
    const c = client();
    const error = await c.getRecord(base.id, TABLE, "recAAAAAAAAAAAAAA").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AirtableNotFoundError);
    expect(error).toMatchObject({ status: 404, path: `/v0/${base.id}/${encodeURIComponent(TABLE)}/recAAAAAAAAAAAAAA` });
    await expect(c.listRecords("appZZZZZZZZZZZZZZ", TABLE)).rejects.toBeInstanceOf(AirtablePermissionError);
    await expect(c.listRecords("appZZZZZZZZZZZZZZ", TABLE)).rejects.toMatchObject({
      type: "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND",
    });
  });

  it("bad token → getAccessToken asked again with the rejected token; a good one then succeeds", async () => {
    const c = client({
      getAccessToken: async (rejected) => {
        tokenCalls.push(rejected);
        return rejected === undefined ? "patBAD.0000" : token;
      },
    });
    const [rec] = await c.createRecords(base.id, TABLE, [{ fields: { Name: "after-refresh" } }]);
    expect(rec?.fields.Name).toBe("after-refresh");
    expect(tokenCalls).toEqual([undefined, "patBAD.0000"]);
    expect(sandbox.requests.map((r) => r.status)).toEqual([401, 200]);
    expect(names().filter((n) => n === "after-refresh")).toHaveLength(1);
  });

  it("a token that stays bad → AirtableAuthError after one refresh", async () => {
    const c = client({
      getAccessToken: async (rejected) => {
        tokenCalls.push(rejected);
        return rejected === undefined ? "patBAD.1" : "patBAD.2";
      },
    });
    const error = await c.whoami().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AirtableAuthError);
    expect(error).toMatchObject({ status: 401, type: "AUTHENTICATION_REQUIRED", attempts: 2 });
    expect(tokenCalls).toEqual([undefined, "patBAD.1"]);
    expect(sandbox.requests.map((r) => r.status)).toEqual([401, 401]);
  });
});

describe("retries and outcome-unknown", () => {
  it("5xx on a GET is retried until it succeeds", async () => {
    lim.onAttempt((n) => sandbox.setFaults({ serverErrorRate: n <= 2 ? 1 : 0 }));
    const page = await client().listRecords(base.id, TABLE, { filterByFormula: "{Name} = 'seed-a'" });
    expect(page.records.map((r) => r.fields.Name)).toEqual(["seed-a"]);
    expect(sandbox.requests.map((r) => r.status).slice(-1)).toEqual([200]);
    expect(sandbox.requests.slice(0, 2).every((r) => r.status >= 500)).toBe(true);
  });

  it("5xx on an update is retried; a dropped update (before or after apply) too", async () => {
    const c = client();
    const [rec] = await c.createRecords(base.id, TABLE, [{ fields: { Name: "retry-update", Count: 0 } }]);
    sandbox.clearRequests();

    const before = lim.scheduled.length;
    lim.onAttempt((n) => sandbox.setFaults({ serverErrorRate: n === before + 1 ? 1 : 0 }));
    await c.updateRecords(base.id, TABLE, [{ id: rec!.id, fields: { Count: 1 } }]);
    lim.onAttempt(() => {});
    sandbox.setFaults({ dropBeforeApply: 1 });
    await c.updateRecords(base.id, TABLE, [{ id: rec!.id, fields: { Count: 2 } }]);
    sandbox.setFaults({ dropAfterApply: 1 });
    await c.updateRecords(base.id, TABLE, [{ id: rec!.id, fields: { Count: 3 } }]);

    expect(sandbox.requests.map((r) => r.status)).toEqual([expect.any(Number), 200, 0, 200, 0, 200]);
    expect(sandbox.requests[0]!.status).toBeGreaterThanOrEqual(500);
    const row = sandbox.listRecordsDirect(base.id, TABLE).find((r) => r.id === rec!.id);
    expect(row?.fields.Count).toBe(3);
  });

  it("a create dropped after apply → AirtableOutcomeUnknownError; sent once, created exactly once", async () => {
    sandbox.setFaults({ dropAfterApply: 1 });
    const error = await client()
      .createRecords(base.id, TABLE, [{ fields: { Name: "ghost-1" } }, { fields: { Name: "ghost-2" } }])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AirtableOutcomeUnknownError);
    expect(error).toMatchObject({
      reason: "connection_lost",
      request: { operation: "createRecords", method: "POST", baseId: base.id, recordCount: 2 },
    });
    expect(sandbox.requests).toHaveLength(1);
    expect(names().filter((n) => String(n).startsWith("ghost"))).toEqual(["ghost-1", "ghost-2"]);
  });

  it("a create answered 5xx → AirtableOutcomeUnknownError, not re-sent (conservative: a 5xx may have applied)", async () => {
    sandbox.setFaults({ serverErrorRate: 1 });
    const error = await client()
      .createRecords(base.id, TABLE, [{ fields: { Name: "five-hundred" } }])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AirtableOutcomeUnknownError);
    expect(error).toMatchObject({ reason: "server_error" });
    expect(sandbox.requests).toHaveLength(1);
    // This sandbox answers 5xx before applying; the client cannot know that, and must not assume it.
    expect(names()).not.toContain("five-hundred");
  });

  it("a create dropped before apply is also outcome-unknown: the client cannot tell it from after", async () => {
    sandbox.setFaults({ dropBeforeApply: 1 });
    await expect(client().createRecords(base.id, TABLE, [{ fields: { Name: "never" } }])).rejects.toBeInstanceOf(
      AirtableOutcomeUnknownError,
    );
    expect(sandbox.requests).toHaveLength(1);
    expect(names()).not.toContain("never");
  });

  it("a create against a refused connection is retried (nothing was sent) and then fails as a network error", async () => {
    const closed = await startSandbox();
    const url = closed.url;
    await closed.close();
    const error = await client({ apiUrl: url, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 } })
      .createRecords(base.id, TABLE, [{ fields: { Name: "x" } }])
      .catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(AirtableOutcomeUnknownError);
    expect(error).toMatchObject({ name: "AirtableNetworkError", attempts: 2 });
  });

  it("a 429 from a penalty → reportRateLimited, then the request succeeds after the penalty", async () => {
    sandbox.penalize({ baseId: base.id }, PENALTY_MS);
    const started = performance.now();
    const [rec] = await client().createRecords(base.id, TABLE, [{ fields: { Name: "after-penalty" } }]);
    expect(rec?.fields.Name).toBe("after-penalty");
    expect(performance.now() - started).toBeGreaterThanOrEqual(PENALTY_MS);
    expect(lim.reported).toEqual([{ userId: user.id, baseId: base.id }]);
    expect(lim.scheduled).toHaveLength(2);
    expect(sandbox.count429({ baseId: base.id })).toBe(1);
    expect(sandbox.requests.map((r) => r.status)).toEqual([429, 200]);
    expect(names().filter((n) => n === "after-penalty")).toHaveLength(1);
  });

  it("a penalty longer than the waits allow → AirtableRateLimitError", async () => {
    // Its own base: a sandbox penalty cannot be lifted early, and other tests use the shared base.
    const other = sandbox.createBase(user.id, {
      name: "Penalized",
      tables: [{ name: "T", fields: [{ name: "Name", type: "singleLineText" }] }],
    });
    sandbox.penalize({ baseId: other.id }, 5_000);
    const error = await client({ retry: { maxRateLimitWaits: 1 } })
      .listRecords(other.id, "T")
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "AirtableRateLimitError", status: 429, type: "RATE_LIMIT_REACHED" });
    expect(sandbox.requests.map((r) => r.status)).toEqual([429, 429]);
    expect(lim.reported).toEqual([
      { userId: user.id, baseId: other.id },
      { userId: user.id, baseId: other.id },
    ]);
  });
});

describe("a call stopped by its signal with scope all (a read tool call's deadline)", () => {
  it("ends a backoff wait at once: no further attempt, and the progress says where it was", async () => {
    sandbox.setFaults({ serverErrorRate: 1 });
    const stop = new AbortController();
    const progress = newCallProgress();
    // A backoff of ~20 s after the first 5xx: only the stop can end the call soon.
    const c = client({ retry: { baseDelayMs: 20_000, maxDelayMs: 20_000 }, random: () => 0.99 }).withCancelSignal(
      stop.signal,
      { scope: "all", progress },
    );
    const started = performance.now();
    const read = c.listRecords(base.id, TABLE);
    read.catch(() => undefined);
    for (let i = 0; i < 100 && progress.phase !== "backoff"; i++) await new Promise((r) => setTimeout(r, 10));
    const reason = new Error("deadline");
    stop.abort(reason);
    await expect(read).rejects.toBe(reason);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(progress).toMatchObject({ attempts: 1, serverErrors: 1, answered: 0, phase: "backoff" });
    await new Promise((r) => setTimeout(r, 200));
    expect(sandbox.requests).toHaveLength(1);
  });

  it("never cuts off a create once it may have reached Airtable: its answer is still awaited", async () => {
    sandbox.setFaults({ latencyMs: 300 });
    const stop = new AbortController();
    const c = client().withCancelSignal(stop.signal, { scope: "all" });
    const created = c.createRecords(base.id, TABLE, [{ fields: { Name: "stopped-create" } }]);
    for (let i = 0; i < 100 && sandbox.requests.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    stop.abort(new Error("deadline"));
    const [record] = await created;
    expect(record?.fields.Name).toBe("stopped-create");
    expect(sandbox.requests.map((r) => r.status)).toEqual([200]);
  });
});
