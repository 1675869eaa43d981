import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fixture, type Fixture } from "./test-helpers.ts";

let f: Fixture;
let tasks: string;
beforeEach(async () => {
  // High limits: these tests are about records, not rate limits.
  f = await fixture({ perBaseRps: 10_000, perTokenRps: 10_000 });
  tasks = `/v0/${f.base.id}/Tasks`;
});
afterEach(() => f.sandbox.close());

const many = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({ fields: { Name: `r${from + i}`, Count: from + i } }));

describe("records CRUD", () => {
  it("creates, reads, updates, replaces and deletes", async () => {
    const created = await f.call("POST", tasks, { records: [{ fields: { Name: "A", Count: 1, Tags: ["a"] } }] });
    expect(created.status).toBe(200);
    const rec = created.body.records[0];
    expect(rec.id).toMatch(/^rec[0-9A-Za-z]{14}$/);
    expect(rec.createdTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/);
    expect(rec.fields).toEqual({ Name: "A", Count: 1, Tags: ["a"], Created: rec.createdTime, Number: 1 });

    const single = await f.call("POST", tasks, { fields: { Name: "B" } });
    expect(single.body.fields.Name).toBe("B");
    expect(single.body.fields.Number).toBe(2);

    const got = await f.call("GET", `${tasks}/${rec.id}`);
    expect(got.body).toEqual(rec);

    const patched = await f.call("PATCH", tasks, { records: [{ id: rec.id, fields: { Done: true } }] });
    expect(patched.body.records[0].fields).toMatchObject({ Name: "A", Count: 1, Done: true });

    const replaced = await f.call("PUT", `${tasks}/${rec.id}`, { fields: { Name: "A2" } });
    expect(replaced.body.fields).toEqual({ Name: "A2", Created: rec.createdTime, Number: 1 });

    const del = await f.call("DELETE", `${tasks}?records[]=${rec.id}&records[]=${single.body.id}`);
    expect(del.body).toEqual({
      records: [
        { id: rec.id, deleted: true },
        { id: single.body.id, deleted: true },
      ],
    });
    expect(f.sandbox.listRecordsDirect(f.base.id, "Tasks")).toEqual([]);
    expect((await f.call("GET", `${tasks}/${rec.id}`)).body).toEqual({
      error: { type: "MODEL_ID_NOT_FOUND", message: "Record not found" },
    });
  });

  it("omits empty values and unchecked checkboxes", async () => {
    const r = await f.call("POST", tasks, { fields: { Name: "x", Done: false, Tags: [], Email: "", Count: null } });
    expect(Object.keys(r.body.fields).sort()).toEqual(["Created", "Name", "Number"]);
  });

  it("accepts field ids as keys and answers by field id when asked", async () => {
    const countId = f.base.tables[0]?.fields.find((x) => x.name === "Count")?.id as string;
    const r = await f.call("POST", tasks, { fields: { [countId]: 5 }, returnFieldsByFieldId: true });
    expect(r.body.fields[countId]).toBe(5);
  });

  it("limits writes to 10 records and deletes to 10 ids", async () => {
    const r = await f.call("POST", tasks, { records: many(11) });
    expect(r.status).toBe(422);
    expect(r.body.error.type).toBe("INVALID_RECORDS");
    expect((await f.call("POST", tasks, { records: [] })).status).toBe(422);
    const ten = await f.call("POST", tasks, { records: many(10) });
    expect(ten.body.records).toHaveLength(10);
    const ids: string[] = ten.body.records.map((x: { id: string }) => x.id);
    const q = [...ids, ids[0]].map((id) => `records[]=${id}`).join("&");
    expect((await f.call("DELETE", `${tasks}?${q}`)).body.error.type).toBe("INVALID_RECORDS");
    // Without brackets Airtable refuses it (pyairtable#94: '"records" must be an array of up to 10 record IDs').
    const bare = await f.call("DELETE", `${tasks}?records=${ids[0]}`);
    expect([bare.status, bare.body.error.type]).toEqual([422, "INVALID_RECORDS"]);
    const eleven = ids.concat(ids[0] as string).map((id) => ({ id, fields: {} }));
    expect((await f.call("PATCH", tasks, { records: eleven })).status).toBe(422);
  });

  it("applies a batch atomically: one bad value or unknown id fails all", async () => {
    const bad = await f.call("POST", tasks, { records: [...many(9), { fields: { Count: "12" } }] });
    expect(bad.status).toBe(422);
    expect(bad.body).toEqual({
      error: { type: "INVALID_VALUE_FOR_COLUMN", message: 'Field "Count" cannot accept the provided value' },
    });
    expect(f.sandbox.listRecordsDirect(f.base.id, "Tasks")).toHaveLength(0);

    const ok = await f.call("POST", tasks, { records: many(2) });
    const [a, b] = ok.body.records as { id: string }[];
    const upd = await f.call("PATCH", tasks, {
      records: [
        { id: a?.id, fields: { Name: "changed" } },
        { id: "recAAAAAAAAAAAAAA", fields: { Name: "x" } },
      ],
    });
    expect(upd.status).toBe(422);
    expect(f.sandbox.listRecordsDirect(f.base.id, "Tasks").map((r) => r.fields.Name)).toEqual(["r0", "r1"]);
    const del = await f.call("DELETE", `${tasks}?records[]=${b?.id}&records[]=recAAAAAAAAAAAAAA`);
    expect(del.status).toBe(404);
    expect(f.sandbox.listRecordsDirect(f.base.id, "Tasks")).toHaveLength(2);
    // A refused typecast batch creates no select option either.
    await f.call("POST", tasks, {
      typecast: true,
      records: [{ fields: { Status: "New" } }, { fields: { Count: "x" } }],
    });
    const schema = await f.call("GET", `/v0/meta/bases/${f.base.id}/tables`);
    expect(schema.body.tables[0].fields[3].options.choices.map((c: { name: string }) => c.name)).toEqual([
      "Todo",
      "Done",
    ]);
  });

  it("answers a write naming a record the table lacks as Airtable does: 422 for an update, 404 NOT_FOUND for a delete", async () => {
    // Airtable: a batch PATCH 422 ROW_DOES_NOT_EXIST "Record ID rec… does not exist in this table"
    // (domdomegg/airtable-mcp-server#28); a DELETE 404 NOT_FOUND 'Could not find a record with ID "rec…".', naming
    // only the first missing id (measured in 2026); a get 404 MODEL_ID_NOT_FOUND "Record not found" (grouparoo's
    // recorded fixtures). Sources in src/sandbox/errors.ts.
    const [a, b] = (await f.call("POST", tasks, { records: many(2) })).body.records as { id: string }[];
    const other = await f.call("POST", `/v0/meta/bases/${f.base.id}/tables`, {
      name: "Elsewhere",
      fields: [{ name: "Name", type: "singleLineText" }],
    });
    const foreign = (await f.call("POST", `/v0/${f.base.id}/${other.body.id}`, { fields: { Name: "x" } })).body.id;
    const gone = "recAAAAAAAAAAAAAA";
    const notInTable = (id: string) => ({
      error: { type: "ROW_DOES_NOT_EXIST", message: `Record ID ${id} does not exist in this table` },
    });
    for (const method of ["PATCH", "PUT"]) {
      const batch = await f.call(method, tasks, {
        records: [
          { id: a!.id, fields: { Name: "changed" } },
          { id: gone, fields: { Name: "x" } },
          { id: foreign, fields: { Name: "y" } },
        ],
      });
      expect([batch.status, batch.body]).toEqual([422, notInTable(gone)]);
      const one = await f.call(method, `${tasks}/${foreign}`, { fields: { Name: "y" } });
      expect([one.status, one.body]).toEqual([422, notInTable(foreign)]);
    }
    const notFound = (id: string) => ({
      error: { type: "NOT_FOUND", message: `Could not find a record with ID "${id}".` },
    });
    const batchDelete = await f.call("DELETE", `${tasks}?records[]=${b!.id}&records[]=${foreign}&records[]=${gone}`);
    expect([batchDelete.status, batchDelete.body]).toEqual([404, notFound(foreign)]);
    const oneDelete = await f.call("DELETE", `${tasks}/${gone}`);
    expect([oneDelete.status, oneDelete.body]).toEqual([404, notFound(gone)]);
    // Nothing applied; the foreign record is still in its own table, and a get finds it from any table.
    expect(f.sandbox.listRecordsDirect(f.base.id, "Tasks").map((r) => r.fields.Name)).toEqual(["r0", "r1"]);
    expect((await f.call("GET", `${tasks}/${foreign}`)).body.fields).toEqual({ Name: "x" });
    expect(await f.call("GET", `${tasks}/${gone}`)).toMatchObject({
      status: 404,
      body: { error: { type: "MODEL_ID_NOT_FOUND", message: "Record not found" } },
    });
  });

  it("validates values per field type and refuses unknown and computed fields", async () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [{ Nope: 1 }, "UNKNOWN_FIELD_NAME", 'Unknown field name: "Nope"'],
      [{ Count: "3" }, "INVALID_VALUE_FOR_COLUMN", 'Field "Count" cannot accept the provided value'],
      [{ Done: "true" }, "INVALID_VALUE_FOR_COLUMN", 'Field "Done" cannot accept the provided value'],
      [{ Due: "2026-01-05T10:00:00.000Z" }, "INVALID_VALUE_FOR_COLUMN", 'Field "Due" cannot accept the provided value'],
      [{ Due: "2026-02-30" }, "INVALID_VALUE_FOR_COLUMN", 'Field "Due" cannot accept the provided value'],
      [{ Name: 5 }, "INVALID_VALUE_FOR_COLUMN", 'Field "Name" cannot accept the provided value'],
      [
        { Status: "Blocked" },
        "INVALID_MULTIPLE_CHOICE_OPTIONS",
        'Insufficient permissions to create new select option ""Blocked""',
      ],
      [
        { Created: "2026-01-01" },
        "INVALID_VALUE_FOR_COLUMN",
        'Field "Created" cannot accept a value because the field is computed',
      ],
      [{ Number: 3 }, "INVALID_VALUE_FOR_COLUMN", 'Field "Number" cannot accept a value because the field is computed'],
    ];
    for (const [fields, type, message] of cases) {
      const r = await f.call("POST", tasks, { fields });
      expect({ fields, status: r.status, body: r.body }).toEqual({
        fields,
        status: 422,
        body: { error: { type, message } },
      });
    }
    // email and url are not format-checked by Airtable
    expect((await f.call("POST", tasks, { fields: { Email: "not an email" } })).status).toBe(200);
  });

  it("converts strings with typecast and creates select options", async () => {
    const r = await f.call("POST", tasks, {
      typecast: true,
      fields: { Count: "12", Done: "true", Status: "Blocked", Tags: ["a", "c"], Due: "2026-03-04T10:00:00Z", Name: 7 },
    });
    expect(r.status).toBe(200);
    expect(r.body.fields).toMatchObject({
      Count: 12,
      Done: true,
      Status: "Blocked",
      Tags: ["a", "c"],
      Due: "2026-03-04",
      Name: "7",
    });
    const schema = await f.call("GET", `/v0/meta/bases/${f.base.id}/tables`);
    expect(schema.body.tables[0].fields[3].options.choices.map((c: { name: string }) => c.name)).toEqual([
      "Todo",
      "Done",
      "Blocked",
    ]);
  });

  it("refuses malformed bodies", async () => {
    const res = await fetch(`${f.sandbox.url}${tasks}`, {
      method: "POST",
      headers: { authorization: `Bearer ${f.token}`, "content-type": "application/json" },
      body: "{",
    });
    expect(res.status).toBe(400);
    expect((await f.call("POST", tasks, {})).body.error.type).toBe("INVALID_RECORDS");
    expect((await f.call("POST", tasks, { fields: {}, colour: 1 })).body.error.type).toBe("INVALID_REQUEST_UNKNOWN");
    expect((await f.call("PATCH", tasks, { records: [{ fields: {} }] })).body.error.type).toBe("INVALID_RECORDS");
    expect((await f.call("PATCH", `${tasks}/recAAAAAAAAAAAAAA`, { fields: {} })).status).toBe(422);
  });
});

describe("upsert", () => {
  it("updates the matching record, creates the rest", async () => {
    await f.call("POST", tasks, {
      records: [{ fields: { Name: "a", Count: 1 } }, { fields: { Name: "b", Count: 2 } }],
    });
    const r = await f.call("PATCH", tasks, {
      performUpsert: { fieldsToMergeOn: ["Name"] },
      records: [{ fields: { Name: "a", Count: 10 } }, { fields: { Name: "c", Count: 3 } }],
    });
    expect(r.status).toBe(200);
    expect(r.body.updatedRecords).toHaveLength(1);
    expect(r.body.createdRecords).toHaveLength(1);
    expect(r.body.records.map((x: { fields: { Count: number } }) => x.fields.Count)).toEqual([10, 3]);
    expect(f.sandbox.listRecordsDirect(f.base.id, "Tasks").map((x) => [x.fields.Name, x.fields.Count])).toEqual([
      ["a", 10],
      ["b", 2],
      ["c", 3],
    ]);
  });

  it("refuses ambiguous matches, bad merge fields, and applies nothing", async () => {
    await f.call("POST", tasks, { records: [{ fields: { Name: "twin" } }, { fields: { Name: "twin" } }] });
    const amb = await f.call("PATCH", tasks, {
      performUpsert: { fieldsToMergeOn: ["Name"] },
      records: [{ fields: { Name: "new" } }, { fields: { Name: "twin", Count: 1 } }],
    });
    expect(amb.status).toBe(422);
    expect(amb.body.error.type).toBe("INVALID_RECORDS");
    expect(f.sandbox.listRecordsDirect(f.base.id, "Tasks")).toHaveLength(2);
    const upsert = (fieldsToMergeOn: unknown) =>
      f.call("PATCH", tasks, { performUpsert: { fieldsToMergeOn }, records: [{ fields: { Name: "x" } }] });
    expect((await upsert([])).status).toBe(422);
    expect((await upsert(["Name", "Count", "Due", "Email"])).status).toBe(422);
    expect((await upsert(["Nope"])).body.error.type).toBe("UNKNOWN_FIELD_NAME");
    expect((await upsert(["Created"])).body.error.type).toBe("INVALID_REQUEST_UNKNOWN");
    // Only number, text, long text, single select, multiple select and date fields are matched on.
    expect((await upsert(["Done"])).body.error.type).toBe("INVALID_REQUEST_UNKNOWN");
  });

  it("a record with an id is a plain update; an unknown id fails the whole request and creates nothing", async () => {
    // "Update multiple records" (https://airtable.com/developers/web/api/update-multiple-records): "Records that
    // include id will ignore fieldsToMergeOn and behave as normal updates. If no record with the given id exists,
    // the request will fail and will not create a new record."
    await f.call("POST", tasks, {
      records: [{ fields: { Name: "a", Count: 1 } }, { fields: { Name: "b", Count: 2 } }],
    });
    const [a] = f.sandbox.listRecordsDirect(f.base.id, "Tasks");
    const byId = await f.call("PATCH", tasks, {
      performUpsert: { fieldsToMergeOn: ["Name"] },
      // Its Name matches "b", yet the record named by the id is the one updated.
      records: [{ id: a!.id, fields: { Name: "b", Count: 10 } }],
    });
    expect(byId.status).toBe(200);
    expect(byId.body.updatedRecords).toEqual([a!.id]);
    expect(byId.body.createdRecords).toEqual([]);

    const missing = await f.call("PATCH", tasks, {
      performUpsert: { fieldsToMergeOn: ["Name"] },
      records: [{ fields: { Name: "new" } }, { id: "recAAAAAAAAAAAAAA", fields: { Name: "x" } }],
    });
    expect(missing.status).toBe(422);
    expect(missing.body.error.type).toBe("ROW_DOES_NOT_EXIST");
    expect(f.sandbox.listRecordsDirect(f.base.id, "Tasks").map((x) => [x.fields.Name, x.fields.Count])).toEqual([
      ["b", 10],
      ["b", 2],
    ]);
  });

  it("matches on a multiple select field (a type Airtable's upsert lists)", async () => {
    await f.call("POST", tasks, { records: [{ fields: { Name: "tagged", Tags: ["a"] } }] });
    const r = await f.call("PATCH", tasks, {
      performUpsert: { fieldsToMergeOn: ["Tags"] },
      records: [{ fields: { Tags: ["a"], Count: 5 } }],
    });
    expect(r.status).toBe(200);
    expect(r.body.updatedRecords).toHaveLength(1);
    expect(r.body.records[0].fields).toMatchObject({ Name: "tagged", Count: 5 });
  });
});

describe("list records", () => {
  beforeEach(async () => {
    for (let i = 0; i < 25; i += 10) await f.call("POST", tasks, { records: many(Math.min(10, 25 - i), i) });
  });

  it("pages with an opaque offset and refuses bad page sizes and offsets", async () => {
    const seen: string[] = [];
    let offset: string | undefined;
    let pages = 0;
    do {
      const r = await f.call(
        "GET",
        `${tasks}?pageSize=10${offset === undefined ? "" : `&offset=${encodeURIComponent(offset)}`}`,
      );
      expect(r.status).toBe(200);
      seen.push(...r.body.records.map((x: { fields: { Name: string } }) => x.fields.Name));
      offset = r.body.offset;
      pages++;
    } while (offset !== undefined);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(25);
    expect((await f.call("GET", `${tasks}?pageSize=101`)).status).toBe(422);
    expect((await f.call("GET", `${tasks}?pageSize=0`)).status).toBe(422);
    expect((await f.call("GET", `${tasks}?offset=garbage`)).body.error.type).toBe("INVALID_OFFSET_VALUE");
    expect((await f.call("GET", `${tasks}?offset=itrAAAAAAAAAAAAAA/recAAAAAAAAAAAAAA`)).body.error.type).toBe(
      "LIST_RECORDS_ITERATOR_NOT_AVAILABLE",
    );
    const full = await f.call("GET", tasks);
    expect(full.body.records).toHaveLength(25);
    expect(full.body.offset).toBeUndefined();
    expect((await f.call("GET", `${tasks}?maxRecords=3`)).body.records).toHaveLength(3);
    expect((await f.call("GET", `${tasks}?colour=red`)).body.error.type).toBe("INVALID_REQUEST_UNKNOWN");
    expect((await f.call("GET", `${tasks}?cellFormat=string`)).status).toBe(422);
  });

  it("sorts, selects fields, filters by formula, and takes the same options in POST listRecords", async () => {
    const sorted = await f.call(
      "GET",
      `${tasks}?sort%5B0%5D%5Bfield%5D=Count&sort%5B0%5D%5Bdirection%5D=desc&fields%5B%5D=Count&maxRecords=3`,
    );
    expect(sorted.body.records.map((x: { fields: unknown }) => x.fields)).toEqual([
      { Count: 24 },
      { Count: 23 },
      { Count: 22 },
    ]);
    const filtered = await f.call(
      "GET",
      `${tasks}?filterByFormula=${encodeURIComponent("AND({Count} >= 5, {Count} < 8)")}&fields[]=Name`,
    );
    expect(filtered.body.records.map((x: { fields: { Name: string } }) => x.fields.Name)).toEqual(["r5", "r6", "r7"]);
    const bad = await f.call("GET", `${tasks}?filterByFormula=${encodeURIComponent("{Nope} = 1")}`);
    expect(bad.status).toBe(422);
    expect(bad.body.error.type).toBe("INVALID_FILTER_BY_FORMULA");
    expect(bad.body.error.message).toMatch(/^The formula for filtering records is invalid: /);
    const post = await f.call("POST", `${tasks}/listRecords`, {
      sort: [{ field: "Count", direction: "asc" }],
      filterByFormula: "{Count} < 2",
      fields: ["Count"],
      returnFieldsByFieldId: true,
      view: "Grid view",
    });
    const countId = f.base.tables[0]?.fields.find((x) => x.name === "Count")?.id as string;
    expect(post.body.records.map((x: { fields: unknown }) => x.fields)).toEqual([{ [countId]: 0 }, { [countId]: 1 }]);
    expect((await f.call("GET", `${tasks}?fields[]=Nope`)).body.error.type).toBe("UNKNOWN_FIELD_NAME");
    expect((await f.call("GET", `${tasks}?view=Nope`)).body.error.type).toBe("VIEW_NAME_NOT_FOUND");
    expect((await f.call("POST", `${tasks}/listRecords`, { pageSize: "3" })).status).toBe(422);
  });

  it("refuses URLs over 16,000 characters but takes the same formula in POST listRecords", async () => {
    const formula = `OR(${Array.from({ length: 1500 }, (_, i) => `{Count} = ${i}`).join(", ")})`;
    const long = await f.call("GET", `${tasks}?filterByFormula=${encodeURIComponent(formula)}`);
    expect(long.status).toBe(414);
    const post = await f.call("POST", `${tasks}/listRecords`, { filterByFormula: formula });
    expect(post.status).toBe(200);
    expect(post.body.records).toHaveLength(25);
  });

  it("takes a URL of 15,999 characters and refuses one of 16,000 ('shorter than 16,000 characters')", async () => {
    // Measured as Airtable's edge would: https://api.airtable.com plus the path and query.
    const at = (length: number) => {
      const start = `${tasks}?filterByFormula=`;
      // A number literal (0…01: true), so no character of the URL is percent-encoded on the way.
      const pad = length - "https://api.airtable.com".length - start.length;
      return `${start}${"0".repeat(pad - 1)}1`;
    };
    expect((await f.call("GET", at(15_999))).status).toBe(200);
    expect((await f.call("GET", at(16_000))).status).toBe(414);
  });
});

describe("auth, scopes and permissions", () => {
  it("answers 401 without a valid token and 403 for unknown bases, tables and missing scopes", async () => {
    const auth = { error: { type: "AUTHENTICATION_REQUIRED", message: "Authentication required" } };
    expect((await f.call("GET", tasks, undefined, null)).body).toEqual(auth);
    expect((await f.call("GET", tasks, undefined, "patNope")).status).toBe(401);
    expect((await f.call("GET", `/v0/appAAAAAAAAAAAAAA/Tasks`)).body.error.type).toBe(
      "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND",
    );
    expect((await f.call("GET", `/v0/${f.base.id}/Nope`)).status).toBe(403);
    expect((await f.call("GET", `/v0/appShort/Tasks`, undefined, null)).body).toEqual({ error: "NOT_FOUND" });
    const readOnly = f.sandbox.createPersonalAccessToken(f.user.id, ["data.records:read"]);
    expect((await f.call("GET", tasks, undefined, readOnly)).status).toBe(200);
    expect((await f.call("POST", tasks, { fields: {} }, readOnly)).status).toBe(403);
    expect((await f.call("GET", `/v0/meta/bases`, undefined, readOnly)).status).toBe(403);
  });

  it("keeps users to their bases and permission levels", async () => {
    const other = f.sandbox.addUser({ email: "other@example.com" });
    const otherToken = f.sandbox.createPersonalAccessToken(other.id);
    expect((await f.call("GET", tasks, undefined, otherToken)).status).toBe(403);
    f.sandbox.grantAccess(f.base.id, other.id, "read");
    expect((await f.call("GET", tasks, undefined, otherToken)).status).toBe(200);
    const write = await f.call("POST", tasks, { fields: { Name: "x" } }, otherToken);
    expect(write.body).toEqual({
      error: { type: "INVALID_PERMISSIONS", message: "You are not permitted to perform this operation" },
    });
    f.sandbox.grantAccess(f.base.id, other.id, "edit");
    expect((await f.call("POST", tasks, { fields: { Name: "x" } }, otherToken)).status).toBe(200);
    expect(
      (
        await f.call(
          "POST",
          `/v0/meta/bases/${f.base.id}/tables/Tasks/fields`,
          { name: "X", type: "email" },
          otherToken,
        )
      ).status,
    ).toBe(403);
  });

  it("answers 404 NOT_FOUND to unrouted paths and methods", async () => {
    expect((await f.call("GET", "/v0/nope")).body).toEqual({ error: "NOT_FOUND" });
    expect((await f.call("POST", `${tasks}/recAAAAAAAAAAAAAA`, { fields: {} })).status).toBe(404);
  });
});
