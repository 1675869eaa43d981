import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fixture, type Fixture } from "./test-helpers.ts";

let f: Fixture;
let tasks: string;
let recordId: string;
beforeEach(async () => {
  f = await fixture({ perBaseRps: 10_000, perTokenRps: 10_000 });
  tasks = `/v0/${f.base.id}/Tasks`;
  recordId = (await f.call("POST", tasks, { fields: { Name: "with comments" } })).body.id;
});
afterEach(() => f.sandbox.close());

describe("comments", () => {
  it("creates and pages comments, newest first", async () => {
    const path = `${tasks}/${recordId}/comments`;
    for (const text of ["one", "two", "three"]) {
      const c = await f.call("POST", path, { text });
      expect(c.body).toMatchObject({
        id: expect.stringMatching(/^com/),
        text,
        author: { id: f.user.id, email: f.user.email, name: "Owner" },
        lastUpdatedTime: null,
      });
    }
    const page1 = await f.call("GET", `${path}?pageSize=2`);
    expect(page1.body.comments.map((c: { text: string }) => c.text)).toEqual(["three", "two"]);
    const page2 = await f.call("GET", `${path}?pageSize=2&offset=${page1.body.offset}`);
    expect(page2.body).toMatchObject({ offset: null });
    expect(page2.body.comments.map((c: { text: string }) => c.text)).toEqual(["one"]);
    expect((await f.call("GET", `${path}?pageSize=101`)).status).toBe(422);
    expect((await f.call("POST", path, { text: "" })).status).toBe(422);
    expect((await f.call("GET", `${tasks}/recAAAAAAAAAAAAAA/comments`)).status).toBe(404);
    const noScope = f.sandbox.createPersonalAccessToken(f.user.id, ["data.records:read"]);
    expect((await f.call("GET", path, undefined, noScope)).status).toBe(403);
  });

  it("mentions: @[email] is answered as @[user id], with the mentioned map, on create and on list", async () => {
    // https://airtable.com/developers/web/api/model/user-mentioned: users are mentioned "by including the userId or
    // email surrounded by @[]"; answers give "the userId surrounded by the same @[]" and a `mentioned` object map.
    const ada = f.sandbox.addUser({ email: "ada@example.com", name: "Ada Lovelace" });
    const path = `${tasks}/${recordId}/comments`;
    const created = await f.call("POST", path, { text: "@[ADA@example.com] and @[" + f.user.id + "]: see @[nobody]" });
    expect(created.status).toBe(200);
    const mentioned = {
      [ada.id]: { type: "user", id: ada.id, name: "Ada Lovelace", email: "ada@example.com" },
      [f.user.id]: { type: "user", id: f.user.id, name: "Owner", email: f.user.email },
    };
    expect(created.body).toMatchObject({ text: `@[${ada.id}] and @[${f.user.id}]: see @[nobody]`, mentioned });
    const listed = await f.call("GET", path);
    expect(listed.body.comments[0]).toMatchObject({ text: created.body.text, mentioned });
    // A comment without mentions has no map.
    expect((await f.call("POST", path, { text: "plain" })).body).not.toHaveProperty("mentioned");
  });
});

describe("attachments", () => {
  it("uploads base64 content, appends it to the record and serves it", async () => {
    const file = Buffer.from("hello world").toString("base64");
    const path = `/v0/${f.base.id}/${recordId}/Files/uploadAttachment`;
    const up = await f.call("POST", path, { contentType: "text/plain", file, filename: "hello.txt" });
    expect(up.status).toBe(200);
    const filesId = f.base.tables[0]?.fields.find((x) => x.name === "Files")?.id as string;
    expect(up.body.id).toBe(recordId);
    const [att] = up.body.fields[filesId];
    expect(att).toMatchObject({
      id: expect.stringMatching(/^att/),
      filename: "hello.txt",
      size: 11,
      type: "text/plain",
    });
    expect(await (await fetch(att.url)).text()).toBe("hello world");
    await f.call("POST", path, { contentType: "text/plain", file, filename: "again.txt" });
    expect((f.sandbox.listRecordsDirect(f.base.id, "Tasks")[0]?.fields.Files as unknown[]).length).toBe(2);
    const big = Buffer.alloc(5 * 1024 * 1024 + 1).toString("base64");
    expect(
      (await f.call("POST", path, { contentType: "application/octet-stream", file: big, filename: "big.bin" })).status,
    ).toBe(413);
    expect(
      (
        await f.call("POST", `/v0/${f.base.id}/${recordId}/Name/uploadAttachment`, {
          contentType: "text/plain",
          file,
          filename: "a",
        })
      ).status,
    ).toBe(422);
    expect((await f.call("POST", path, { contentType: "text/plain", file: "not base64!", filename: "a" })).status).toBe(
      422,
    );
  });
});

describe("faults", () => {
  it("dropAfterApply applies the write, then drops the connection", async () => {
    f.sandbox.setFaults({ dropAfterApply: 1 });
    await expect(f.call("POST", tasks, { fields: { Name: "ghost" } })).rejects.toThrow();
    expect(f.sandbox.listRecordsDirect(f.base.id, "Tasks").map((r) => r.fields.Name)).toContain("ghost");
    expect(f.sandbox.requests.at(-1)).toMatchObject({ status: 0, recordCount: 1 });
    expect(f.sandbox.faults.dropAfterApply).toBe(0);
    expect((await f.call("POST", tasks, { fields: { Name: "fine" } })).status).toBe(200);
  });

  it("dropBeforeApply drops without applying; reads are not affected", async () => {
    f.sandbox.setFaults({ dropBeforeApply: 1 });
    expect((await f.call("GET", tasks)).status).toBe(200);
    await expect(
      f.call("PATCH", tasks, { records: [{ id: recordId, fields: { Name: "changed" } }] }),
    ).rejects.toThrow();
    expect(f.sandbox.listRecordsDirect(f.base.id, "Tasks")[0]?.fields.Name).toBe("with comments");
  });

  it("serverErrorRate answers 5xx without applying; latency delays answers", async () => {
    f.sandbox.setFaults({ serverErrorRate: 1 });
    const r = await f.call("POST", tasks, { fields: { Name: "never" } });
    expect([500, 502, 503]).toContain(r.status);
    expect(f.sandbox.listRecordsDirect(f.base.id, "Tasks")).toHaveLength(1);
    f.sandbox.setFaults({ serverErrorRate: 0, latencyMs: 150 });
    const start = performance.now();
    expect((await f.call("GET", tasks)).status).toBe(200);
    expect(performance.now() - start).toBeGreaterThanOrEqual(140);
    expect(f.sandbox.faults).toEqual({
      serverErrorRate: 0,
      latencyMs: 150,
      tokenLatencyMs: 0,
      dropAfterApply: 0,
      dropBeforeApply: 0,
      failBeforeApply: 0,
      unavailable: 0,
      dropAfterApplyRate: 0,
    });
  });

  it("failBeforeApply answers the next record writes 503 without applying them; reads pass", async () => {
    const before = f.sandbox.listRecordsDirect(f.base.id, "Tasks").length;
    f.sandbox.setFaults({ latencyMs: 0, failBeforeApply: 1 });
    expect((await f.call("GET", tasks)).status).toBe(200);
    expect((await f.call("POST", tasks, { fields: { Name: "refused once" } })).status).toBe(503);
    expect(f.sandbox.listRecordsDirect(f.base.id, "Tasks")).toHaveLength(before);
    expect((await f.call("POST", tasks, { fields: { Name: "then applied" } })).status).toBe(200);
    expect(f.sandbox.listRecordsDirect(f.base.id, "Tasks")).toHaveLength(before + 1);
    expect(f.sandbox.faults.failBeforeApply).toBe(0);
  });

  it("dropAfterApplyRate 1 applies every record write and loses its answer", async () => {
    const before = f.sandbox.listRecordsDirect(f.base.id, "Tasks").length;
    f.sandbox.setFaults({ latencyMs: 0, dropAfterApplyRate: 1 });
    try {
      await expect(f.call("POST", tasks, { fields: { Name: "applied, answer lost" } })).rejects.toThrow();
    } finally {
      f.sandbox.setFaults({ dropAfterApplyRate: 0 });
    }
    expect(f.sandbox.listRecordsDirect(f.base.id, "Tasks")).toHaveLength(before + 1);
  });
});
