/**
 * The client's orchestration (limiter, tokens, retries, outcome-unknown, validation, logging) against a scripted
 * HTTP server on localhost: real sockets, so resets, refusals and timeouts are undici's own errors.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AirtableLimiter, RateLimitScope } from "../../../src/shared/limiter/types.ts";
import { createLogger } from "../../../src/shared/logger.ts";
import { AirtableClient, type AirtableClientOptions } from "../../../src/shared/airtable/client.ts";
import {
  AirtableAuthError,
  AirtableNetworkError,
  AirtableNotFoundError,
  AirtableOutcomeUnknownError,
  AirtablePermissionError,
  AirtableProtocolError,
  AirtableRateLimitError,
  AirtableServerError,
  AirtableValidationError,
} from "../../../src/shared/airtable/errors.ts";

interface SeenRequest {
  method: string;
  url: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: string;
}

type Reply =
  | { status: number; json?: unknown; text?: string }
  /** Read the request, then destroy the socket without answering. */
  | "drop"
  /** Never answer (the client's timeout fires). */
  | "hang";

type Script = (req: SeenRequest, index: number) => Reply;

class ScriptedServer {
  readonly seen: SeenRequest[] = [];
  script: Script = () => ({ status: 500, json: { error: "NO_SCRIPT" } });
  #server: Server;
  #hanging: ServerResponse[] = [];
  url = "";

  constructor() {
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const res of this.#hanging) res.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** Answers in order; the last one repeats. */
  reply(...replies: Reply[]): void {
    this.script = (_req, i) => replies[Math.min(i, replies.length - 1)] ?? { status: 500 };
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const seen: SeenRequest = {
      method: req.method ?? "",
      url: req.url ?? "",
      authorization: req.headers.authorization,
      contentType: req.headers["content-type"],
      body: Buffer.concat(chunks).toString("utf8"),
    };
    const reply = this.script(seen, this.seen.length);
    this.seen.push(seen);
    if (reply === "drop") {
      req.socket.destroy();
      return;
    }
    if (reply === "hang") {
      this.#hanging.push(res);
      return;
    }
    const text = reply.text ?? (reply.json === undefined ? "" : JSON.stringify(reply.json));
    res.writeHead(reply.status, { "content-type": reply.text === undefined ? "application/json" : "text/html" });
    res.end(text);
  }
}

function recordingLimiter() {
  const scheduled: RateLimitScope[] = [];
  const reported: RateLimitScope[] = [];
  const limiter: AirtableLimiter = {
    async schedule(scope, fn) {
      scheduled.push(scope);
      return fn({ written() {} });
    },
    async reportRateLimited(scope) {
      reported.push(scope);
    },
    async close() {},
  };
  return { limiter, scheduled, reported };
}

const record = (id: string, fields: Record<string, unknown> = {}) => ({
  id,
  createdTime: "2024-01-01T00:00:00.000Z",
  fields,
});
const BASE = "appTESTTESTTEST01";

let api: ScriptedServer;
let content: ScriptedServer;
let lim: ReturnType<typeof recordingLimiter>;
let tokenCalls: (string | undefined)[];
let sleeps: number[];
let logLines: Record<string, unknown>[];

function makeClient(overrides: Partial<AirtableClientOptions> = {}): AirtableClient {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString("utf8").split("\n"))
        if (line.trim() !== "") logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return new AirtableClient({
    apiUrl: api.url,
    contentUrl: content.url,
    userId: "usrTEST",
    getAccessToken: async (rejected) => {
      tokenCalls.push(rejected);
      return rejected === undefined ? "tok-secret-1" : "tok-secret-2";
    },
    limiter: lim.limiter,
    logger: createLogger({ level: "debug" }, sink),
    retry: { maxAttempts: 3, maxRateLimitWaits: 2, baseDelayMs: 100, maxDelayMs: 1000 },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    timeoutMs: 2000,
    ...overrides,
  });
}

beforeEach(async () => {
  api = await new ScriptedServer().start();
  content = await new ScriptedServer().start();
  lim = recordingLimiter();
  tokenCalls = [];
  sleeps = [];
  logLines = [];
});
afterEach(async () => {
  await api.close();
  await content.close();
});

describe("requests on the wire", () => {
  it("whoami: bearer token, base-less limiter scope, validated answer", async () => {
    api.reply({ status: 200, json: { id: "usrTEST", email: "a@b.c", scopes: ["data.records:read"] } });
    const me = await makeClient().whoami();
    expect(me).toEqual({ id: "usrTEST", email: "a@b.c", scopes: ["data.records:read"] });
    expect(api.seen[0]).toMatchObject({ method: "GET", url: "/v0/meta/whoami", authorization: "Bearer tok-secret-1" });
    expect(lim.scheduled).toEqual([{ userId: "usrTEST" }]);
  });

  it("encodes table names, record ids and field names as single path segments", async () => {
    api.reply({ status: 200, json: record("rec1") });
    const table = "Tâches / 2024 ?#% ✓";
    await makeClient().getRecord(BASE, table, "rec1", { returnFieldsByFieldId: true });
    const url = api.seen[0]!.url;
    expect(url).toBe(`/v0/${BASE}/T%C3%A2ches%20%2F%202024%20%3F%23%25%20%E2%9C%93/rec1?returnFieldsByFieldId=true`);
    expect(decodeURIComponent(url.split("/")[3]!.split("?")[0]!)).toBe(table);
    expect(lim.scheduled).toEqual([{ userId: "usrTEST", baseId: BASE }]);
  });

  it("refuses dot-segment table names and oversized batches locally, without a request", async () => {
    const client = makeClient();
    await expect(client.listRecords(BASE, "..")).rejects.toMatchObject({ type: "INVALID_PATH_SEGMENT", status: 0 });
    const eleven = Array.from({ length: 11 }, () => ({ fields: { Name: "x" } }));
    const error = await client.createRecords(BASE, "T", eleven).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AirtableValidationError);
    expect(error).toMatchObject({ type: "TOO_MANY_RECORDS", operation: "createRecords" });
    expect((error as Error).message).toMatch(/1 to 10 records.*got 11/);
    await expect(client.deleteRecords(BASE, "T", [])).rejects.toMatchObject({ type: "NO_RECORDS" });
    await expect(
      client.updateRecords(
        BASE,
        "T",
        Array.from({ length: 11 }, (_, i) => ({ id: `rec${i}`, fields: {} })),
      ),
    ).rejects.toBeInstanceOf(AirtableValidationError);
    await expect(client.upsertRecords(BASE, "T", [{ fields: {} }], { fieldsToMergeOn: [] })).rejects.toMatchObject({
      type: "INVALID_MERGE_FIELDS",
    });
    expect(api.seen).toHaveLength(0);
    expect(lim.scheduled).toHaveLength(0);
  });

  it("listRecords: GET with bracketed parameters, POST …/listRecords once the URL reaches 16k", async () => {
    api.reply({ status: 200, json: { records: [record("rec1", { Name: "a" })], offset: "itr1/rec1" } });
    const client = makeClient();
    const page = await client.listRecords(BASE, "My Tasks", {
      pageSize: 2,
      fields: ["Name"],
      sort: [{ field: "Name", direction: "desc" }],
      filterByFormula: "{Name} != ''",
    });
    expect(page).toEqual({ records: [record("rec1", { Name: "a" })], offset: "itr1/rec1" });
    const get = new URL(api.seen[0]!.url, api.url);
    expect(api.seen[0]!.method).toBe("GET");
    expect(get.pathname).toBe(`/v0/${BASE}/My%20Tasks`);
    expect(get.searchParams.getAll("fields[]")).toEqual(["Name"]);
    expect(get.searchParams.get("sort[0][direction]")).toBe("desc");

    const formula = `OR(${Array.from({ length: 1500 }, (_, i) => `{Name}='n${i}'`).join(",")})`;
    await client.listRecords(BASE, "My Tasks", { filterByFormula: formula, offset: "itr1/rec1" });
    expect(api.seen[1]).toMatchObject({
      method: "POST",
      url: `/v0/${BASE}/My%20Tasks/listRecords`,
      contentType: "application/json",
    });
    expect(JSON.parse(api.seen[1]!.body)).toEqual({ filterByFormula: formula, offset: "itr1/rec1" });
  });

  it("sends the documented bodies for create, update (PATCH/PUT), upsert, delete and comments", async () => {
    const client = makeClient();
    api.reply({ status: 200, json: { records: [record("rec1", { Name: "a" })] } });
    await client.createRecords(BASE, "T", [{ fields: { Name: "a" } }], { typecast: true });
    await client.updateRecords(BASE, "T", [{ id: "rec1", fields: { Name: "b" } }]);
    await client.updateRecords(BASE, "T", [{ id: "rec1", fields: { Name: "b" } }], { replace: true, typecast: false });
    api.reply({ status: 200, json: { records: [record("rec1")], createdRecords: [], updatedRecords: ["rec1"] } });
    const upsert = await client.upsertRecords(BASE, "T", [{ fields: { Name: "a" } }], {
      fieldsToMergeOn: ["Name"],
      typecast: true,
    });
    expect(upsert).toMatchObject({ createdRecords: [], updatedRecords: ["rec1"] });
    api.reply({
      status: 200,
      json: {
        records: [
          { id: "rec1", deleted: true },
          { id: "rec2", deleted: true },
        ],
      },
    });
    expect(await client.deleteRecords(BASE, "T", ["rec1", "rec2"])).toEqual([
      { id: "rec1", deleted: true },
      { id: "rec2", deleted: true },
    ]);
    api.reply({
      status: 200,
      json: { id: "com1", text: "hi", createdTime: "2024-01-01T00:00:00.000Z", author: { id: "usrTEST" } },
    });
    await client.createComment(BASE, "T", "rec1", "hi");

    const [create, patch, put, ups, del, comment] = api.seen;
    expect(create).toMatchObject({ method: "POST", url: `/v0/${BASE}/T` });
    expect(JSON.parse(create!.body)).toEqual({ records: [{ fields: { Name: "a" } }], typecast: true });
    expect(patch!.method).toBe("PATCH");
    expect(JSON.parse(patch!.body)).toEqual({ records: [{ id: "rec1", fields: { Name: "b" } }] });
    expect(put!.method).toBe("PUT");
    expect(JSON.parse(put!.body)).toEqual({ records: [{ id: "rec1", fields: { Name: "b" } }], typecast: false });
    expect(JSON.parse(ups!.body)).toEqual({
      performUpsert: { fieldsToMergeOn: ["Name"] },
      records: [{ fields: { Name: "a" } }],
      typecast: true,
    });
    expect(del).toMatchObject({
      method: "DELETE",
      url: `/v0/${BASE}/T?records%5B%5D=rec1&records%5B%5D=rec2`,
      body: "",
    });
    expect(comment).toMatchObject({ method: "POST", url: `/v0/${BASE}/T/rec1/comments` });
    expect(JSON.parse(comment!.body)).toEqual({ text: "hi" });
  });

  it("schema calls hit the meta API", async () => {
    const client = makeClient();
    const table = {
      id: "tbl1",
      name: "T",
      primaryFieldId: "fld1",
      fields: [{ id: "fld1", name: "Name", type: "singleLineText" }],
      views: [],
    };
    api.reply({ status: 200, json: { tables: [table] } });
    expect(await client.getBaseSchema(BASE)).toEqual({ tables: [table] });
    api.reply({ status: 200, json: table });
    await client.createTable(BASE, { name: "T", fields: [{ name: "Name", type: "singleLineText" }] });
    await client.updateTable(BASE, "My T", { description: "d" });
    api.reply({ status: 200, json: { id: "fld2", name: "N", type: "number", options: { precision: 0 } } });
    await client.createField(BASE, "tbl1", { name: "N", type: "number", options: { precision: 0 } });
    await client.updateField(BASE, "tbl1", "fld2", { name: "N2" });
    expect(api.seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      `GET /v0/meta/bases/${BASE}/tables`,
      `POST /v0/meta/bases/${BASE}/tables`,
      `PATCH /v0/meta/bases/${BASE}/tables/My%20T`,
      `POST /v0/meta/bases/${BASE}/tables/tbl1/fields`,
      `PATCH /v0/meta/bases/${BASE}/tables/tbl1/fields/fld2`,
    ]);
  });

  it("listAllBases follows offset; listComments normalises offset null", async () => {
    api.reply(
      { status: 200, json: { bases: [{ id: "app1", name: "A", permissionLevel: "create" }], offset: "o1" } },
      { status: 200, json: { bases: [{ id: "app2", name: "B", permissionLevel: "read" }] } },
    );
    const client = makeClient();
    expect((await client.listAllBases()).map((b) => b.id)).toEqual(["app1", "app2"]);
    expect(api.seen.map((s) => s.url)).toEqual(["/v0/meta/bases", "/v0/meta/bases?offset=o1"]);

    api.reply({ status: 200, json: { comments: [], offset: null } });
    expect(await client.listComments(BASE, "T", "rec1", { pageSize: 5 })).toEqual({ comments: [] });
    expect(api.seen[2]!.url).toBe(`/v0/${BASE}/T/rec1/comments?pageSize=5`);
  });

  it("uploadAttachment goes to the content origin and returns the attachment cell", async () => {
    const attachment = { id: "att1", url: "https://x/y", filename: "a.txt", size: 5, type: "text/plain" };
    content.reply({
      status: 200,
      json: { id: "rec1", createdTime: "2024-01-01T00:00:00.000Z", fields: { fldFILES: [attachment] } },
    });
    const result = await makeClient().uploadAttachment(BASE, "rec1", "Files & Docs", {
      contentType: "text/plain",
      filename: "a.txt",
      file: Buffer.from("hello").toString("base64"),
    });
    expect(result.attachments).toEqual([attachment]);
    expect(api.seen).toHaveLength(0);
    expect(content.seen[0]).toMatchObject({
      method: "POST",
      url: `/v0/${BASE}/rec1/Files%20%26%20Docs/uploadAttachment`,
    });
    expect(JSON.parse(content.seen[0]!.body)).toEqual({
      contentType: "text/plain",
      file: "aGVsbG8=",
      filename: "a.txt",
    });
  });
});

describe("answers that do not match the documented shape", () => {
  it("a read → AirtableProtocolError naming the endpoint and the zod issue", async () => {
    api.reply({ status: 200, json: { records: [{ createdTime: "x", fields: {} }] } });
    const error = await makeClient()
      .listRecords(BASE, "T")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AirtableProtocolError);
    expect((error as Error).message).toMatch(/^listRecords: unexpected answer from Airtable \(records\.0\.id: /);
    api.reply({ status: 200, text: "<html>ok</html>" });
    await expect(makeClient().whoami()).rejects.toThrow(/whoami: Airtable's answer is not JSON/);
  });

  it("a create → outcome unknown (Airtable applied it, we cannot read the ids)", async () => {
    api.reply({ status: 200, json: { nope: true } });
    const error = await makeClient()
      .createRecords(BASE, "T", [{ fields: {} }])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AirtableOutcomeUnknownError);
    expect(error).toMatchObject({
      reason: "invalid_response",
      request: { operation: "createRecords", recordCount: 1, baseId: BASE },
    });
    expect((error as Error).cause).toBeInstanceOf(AirtableProtocolError);
  });
});

describe("error mapping", () => {
  it.each([
    [
      422,
      { error: { type: "UNKNOWN_FIELD_NAME", message: 'Unknown field name: "Nope"' } },
      AirtableValidationError,
      "UNKNOWN_FIELD_NAME",
    ],
    [400, { error: { type: "INVALID_REQUEST_BODY", message: "bad" } }, AirtableValidationError, "INVALID_REQUEST_BODY"],
    [
      403,
      { error: { type: "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND", message: "no" } },
      AirtablePermissionError,
      "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND",
    ],
    [404, { error: "NOT_FOUND" }, AirtableNotFoundError, "NOT_FOUND"],
  ])("%i is final at once, also for creates", async (status, json, cls, type) => {
    api.reply({ status, json });
    const error = await makeClient()
      .createRecords(BASE, "T", [{ fields: { Nope: 1 } }])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(cls);
    expect(error).toMatchObject({ status, type, method: "POST", path: `/v0/${BASE}/T`, attempts: 1 });
    expect(api.seen).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });
});

describe("401: one refresh", () => {
  it("asks the provider again with the rejected token and retries once (also a create)", async () => {
    api.script = (req) =>
      req.authorization === "Bearer tok-secret-2"
        ? { status: 200, json: { records: [record("rec1")] } }
        : {
            status: 401,
            json: { error: { type: "AUTHENTICATION_REQUIRED", message: "Invalid authentication token" } },
          };
    const records = await makeClient().createRecords(BASE, "T", [{ fields: {} }]);
    expect(records.map((r) => r.id)).toEqual(["rec1"]);
    expect(tokenCalls).toEqual([undefined, "tok-secret-1"]);
    expect(api.seen.map((s) => s.authorization)).toEqual(["Bearer tok-secret-1", "Bearer tok-secret-2"]);
  });

  it("a second 401 is final", async () => {
    api.reply({
      status: 401,
      json: { error: { type: "AUTHENTICATION_REQUIRED", message: "Invalid authentication token" } },
    });
    const error = await makeClient()
      .whoami()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AirtableAuthError);
    expect(error).toMatchObject({
      status: 401,
      type: "AUTHENTICATION_REQUIRED",
      message: "Invalid authentication token",
      attempts: 2,
    });
    expect(api.seen).toHaveLength(2);
  });

  it("does not resend when the provider hands back the same token", async () => {
    api.reply({ status: 401, json: { error: { type: "AUTHENTICATION_REQUIRED", message: "x" } } });
    const client = makeClient({ getAccessToken: async (rejected) => (tokenCalls.push(rejected), "same") });
    await expect(client.whoami()).rejects.toBeInstanceOf(AirtableAuthError);
    expect(tokenCalls).toEqual([undefined, "same"]);
    expect(api.seen).toHaveLength(1);
  });

  it("propagates the provider's own error unchanged", async () => {
    const boom = new Error("refresh token revoked");
    api.reply({ status: 401, json: { error: { type: "AUTHENTICATION_REQUIRED", message: "x" } } });
    const client = makeClient({
      getAccessToken: async (rejected) => (rejected === undefined ? "t1" : Promise.reject(boom)),
    });
    await expect(client.whoami()).rejects.toBe(boom);
  });
});

describe("429: wait out the shared penalty", () => {
  const rateLimited = {
    status: 429,
    json: { errors: [{ error: "RATE_LIMIT_REACHED", message: "Rate limit exceeded." }] },
  };

  it("reports to the limiter and schedules again, not counted as an attempt (also a create)", async () => {
    api.reply(rateLimited, rateLimited, { status: 200, json: { records: [record("rec1")] } });
    const records = await makeClient({ retry: { maxAttempts: 1, maxRateLimitWaits: 2 } }).createRecords(BASE, "T", [
      { fields: {} },
    ]);
    expect(records).toHaveLength(1);
    expect(lim.reported).toEqual([
      { userId: "usrTEST", baseId: BASE },
      { userId: "usrTEST", baseId: BASE },
    ]);
    expect(lim.scheduled).toHaveLength(3);
    expect(tokenCalls).toEqual([undefined, undefined, undefined]); // token asked before every attempt
    expect(sleeps).toEqual([]); // the limiter does the waiting
  });

  it("gives up after maxRateLimitWaits with AirtableRateLimitError", async () => {
    api.reply(rateLimited);
    const error = await makeClient()
      .listRecords(BASE, "T")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AirtableRateLimitError);
    expect(error).toMatchObject({ status: 429, type: "RATE_LIMIT_REACHED", attempts: 3 });
    expect(api.seen).toHaveLength(3);
    expect(lim.reported).toHaveLength(3); // the last 429 is reported too: other requests must pause
  });
});

describe("5xx", () => {
  it("a read is retried with jittered backoff", async () => {
    api.reply(
      { status: 500, json: { error: { type: "SERVER_ERROR", message: "x" } } },
      { status: 503, text: "<html>down</html>" },
      { status: 200, json: { records: [] } },
    );
    const page = await makeClient({ random: () => 0.5 }).listRecords(BASE, "T");
    expect(page.records).toEqual([]);
    expect(api.seen).toHaveLength(3);
    expect(sleeps).toEqual([50, 100]); // 0.5 · min(1000, 100·2^n)
    expect(tokenCalls).toHaveLength(3);
  });

  it("a read gives up after maxAttempts with AirtableServerError", async () => {
    api.reply({ status: 502, text: "Bad gateway" });
    const error = await makeClient()
      .getRecord(BASE, "T", "rec1")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AirtableServerError);
    expect(error).toMatchObject({ status: 502, type: "BAD_GATEWAY", attempts: 3, priorAttemptMayHaveApplied: true });
    expect(api.seen).toHaveLength(3);
  });

  it("an update is retried", async () => {
    api.reply({ status: 500 }, { status: 200, json: { records: [record("rec1")] } });
    await makeClient().updateRecords(BASE, "T", [{ id: "rec1", fields: { A: 1 } }]);
    expect(api.seen.map((s) => s.method)).toEqual(["PATCH", "PATCH"]);
  });

  it("a create is never re-sent: outcome unknown", async () => {
    api.reply({ status: 503, json: { error: { type: "SERVICE_UNAVAILABLE", message: "busy" } } });
    const error = await makeClient()
      .createRecords(BASE, "T", [{ fields: {} }, { fields: {} }])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AirtableOutcomeUnknownError);
    expect(error).toMatchObject({
      reason: "server_error",
      status: 503,
      type: "SERVICE_UNAVAILABLE",
      request: { recordCount: 2 },
    });
    expect(api.seen).toHaveLength(1);
  });

  it("a DELETE retried after a 5xx flags a later 404 as possibly already applied", async () => {
    api.reply({ status: 500 }, { status: 404, json: { error: "NOT_FOUND" } });
    const error = await makeClient()
      .deleteRecords(BASE, "T", ["rec1"])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AirtableNotFoundError);
    expect(error).toMatchObject({ priorAttemptMayHaveApplied: true, attempts: 2 });
  });
});

describe("network failures", () => {
  it("connection dropped after sending: a create → outcome unknown, sent once", async () => {
    api.reply("drop");
    const error = await makeClient()
      .createRecords(BASE, "T", [{ fields: {} }])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AirtableOutcomeUnknownError);
    expect(error).toMatchObject({ reason: "connection_lost", status: 0, type: "NETWORK_ERROR" });
    expect(api.seen).toHaveLength(1);
  });

  it("the same for comments, tables, fields and uploads", async () => {
    api.reply("drop");
    content.reply("drop");
    const client = makeClient();
    const calls = [
      client.createComment(BASE, "T", "rec1", "x"),
      client.createTable(BASE, { name: "T", fields: [{ name: "N", type: "singleLineText" }] }),
      client.createField(BASE, "tbl1", { name: "N", type: "singleLineText" }),
      client.uploadAttachment(BASE, "rec1", "fld1", { contentType: "text/plain", filename: "a", file: "YQ==" }),
    ];
    const settled = await Promise.allSettled(calls);
    for (const result of settled) {
      expect(result.status).toBe("rejected");
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(AirtableOutcomeUnknownError);
    }
    expect(api.seen).toHaveLength(3);
    expect(content.seen).toHaveLength(1);
  });

  it("connection dropped: an update is retried and succeeds", async () => {
    api.reply("drop", { status: 200, json: { records: [record("rec1")] } });
    await makeClient().updateRecords(BASE, "T", [{ id: "rec1", fields: {} }]);
    expect(api.seen).toHaveLength(2);
  });

  it("timeout: a read is retried, then AirtableNetworkError TIMEOUT", async () => {
    api.reply("hang");
    const error = await makeClient({ timeoutMs: 150 })
      .listRecords(BASE, "T")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AirtableNetworkError);
    expect(error).toMatchObject({ type: "TIMEOUT", status: 0, attempts: 3 });
    expect(api.seen).toHaveLength(3);
  });

  it("timeout: a create → outcome unknown, sent once", async () => {
    api.reply("hang");
    const error = await makeClient({ timeoutMs: 150 })
      .createRecords(BASE, "T", [{ fields: {} }])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AirtableOutcomeUnknownError);
    expect(error).toMatchObject({ reason: "timeout", type: "TIMEOUT" });
    expect(api.seen).toHaveLength(1);
  });

  it("connection refused: nothing was sent, so even a create is retried; then AirtableNetworkError", async () => {
    const closed = await new ScriptedServer().start();
    const url = closed.url;
    await closed.close();
    const error = await makeClient({ apiUrl: url })
      .createRecords(BASE, "T", [{ fields: {} }])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AirtableNetworkError);
    expect(error).not.toBeInstanceOf(AirtableOutcomeUnknownError);
    expect(error).toMatchObject({ type: "NETWORK_ERROR", attempts: 3, priorAttemptMayHaveApplied: false });
    expect((error as Error).message).toContain("ECONNREFUSED");
    expect(lim.scheduled).toHaveLength(3);
  });
});

describe("logging", () => {
  it("one debug line per attempt, without the token or record contents", async () => {
    api.reply({ status: 500 }, { status: 200, json: { records: [record("rec1", { Secret: "cell-content-xyz" })] } });
    await makeClient().updateRecords(BASE, "T", [{ id: "rec1", fields: { Secret: "cell-content-xyz" } }]);
    const lines = logLines.filter((l) => l.message === "airtable request");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      operation: "updateRecords",
      method: "PATCH",
      path: `/v0/${BASE}/T`,
      status: 500,
      attempt: 1,
      next: "backoff",
    });
    // A logger binding no baseId (a read call's, in the server): the line names the base itself.
    expect(lines[0]!.baseId).toBe(BASE);
    expect(lines[1]).toMatchObject({ status: 200, attempt: 2, next: "success" });
    expect(typeof lines[1]!.durationMs).toBe("number");
    const all = JSON.stringify(logLines);
    expect(all).not.toContain("tok-secret");
    expect(all).not.toContain("cell-content-xyz");
  });

  it("query values (formulas) stay out of logs and error paths", async () => {
    api.reply({ status: 422, json: { error: { type: "INVALID_FILTER_BY_FORMULA", message: "bad formula" } } });
    const error = await makeClient()
      .listRecords(BASE, "T", { filterByFormula: "{Email}='secret@example.com'" })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ path: `/v0/${BASE}/T`, type: "INVALID_FILTER_BY_FORMULA" });
    expect(JSON.stringify(logLines)).not.toContain("secret@example.com");
  });
});
