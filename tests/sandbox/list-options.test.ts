/**
 * List and get record options, as https://airtable.com/developers/web/api/list-records and
 * https://airtable.com/developers/web/api/get-record document them:
 * - cellFormat: "json" (default) or "string" ("cells will be formatted as user-facing strings, regardless of the
 *   field type. The timeZone and userLocale parameters are required when using string as the cellFormat");
 * - returnFieldsByFieldId: field objects keyed by field id;
 * - recordMetadata: ["commentCount"] adds each record's number of comments;
 * - offset: a cursor that expires after a time without use ("Iteration may timeout due to client inactivity or
 *   server restarts. In that case, the client will receive a 422 response with error message
 *   LIST_RECORDS_ITERATOR_NOT_AVAILABLE") — the sandbox's lifetime is SandboxOptions.listIteratorTtlMs. Airtable
 *   documents no single use: until it expires, an offset asked again answers its page again.
 * - POST listRecords: the parameters as a JSON body, except timeZone and userLocale, which stay in the query string
 *   (Airtable's API team, https://github.com/sleiman/airtable-php/issues/59; Airtable.js does the same).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { seedDemo, type DemoData } from "../../src/sandbox/demo-data.ts";
import { fixture, sleep, type Fixture } from "./test-helpers.ts";

let f: Fixture;
let demo: DemoData;
let contacts: string;
const ITERATOR_TTL_MS = 300;

beforeEach(async () => {
  f = await fixture({ perBaseRps: 10_000, perTokenRps: 10_000, listIteratorTtlMs: ITERATOR_TTL_MS });
  demo = seedDemo(f.sandbox);
  contacts = `/v0/${demo.base.id}/Contacts`;
});
afterEach(() => f.sandbox.close());

const asDemo = (method: string, path: string, body?: unknown) => f.call(method, path, body, demo.token);

describe("cellFormat=string", () => {
  it("requires timeZone and userLocale", async () => {
    for (const query of ["cellFormat=string", "cellFormat=string&timeZone=utc", "cellFormat=string&userLocale=en"]) {
      const r = await asDemo("GET", `${contacts}?${query}`);
      expect({ query, status: r.status, type: r.body.error?.type }).toEqual({
        query,
        status: 422,
        type: "INVALID_REQUEST_UNKNOWN",
      });
    }
    expect((await asDemo("POST", `${contacts}/listRecords`, { cellFormat: "string" })).status).toBe(422);
    expect((await asDemo("GET", `${contacts}?cellFormat=string&timeZone=Mars/Olympus&userLocale=en`)).status).toBe(422);
    expect((await asDemo("GET", `${contacts}?cellFormat=csv`)).status).toBe(422);
  });

  it("takes a timeZone of Airtable's Timezone model only: utc, client or an IANA Region/City name", async () => {
    // https://airtable.com/developers/web/api/model/timezone (list records types timeZone as it): "UTC", "Etc/UTC",
    // "GMT" and "EST" are names Intl knows but not values of the model.
    for (const zone of ["utc", "client", "Europe/Berlin", "America/Argentina/Buenos_Aires"]) {
      const r = await asDemo("GET", `${contacts}?maxRecords=1&cellFormat=string&timeZone=${zone}&userLocale=en`);
      expect(r.status, zone).toBe(200);
    }
    for (const zone of ["UTC", "Etc/UTC", "GMT", "EST", "europe/berlin"]) {
      const r = await asDemo("GET", `${contacts}?maxRecords=1&cellFormat=string&timeZone=${zone}&userLocale=en`);
      expect({ zone, status: r.status, type: r.body.error?.type }).toEqual({
        zone,
        status: 422,
        type: "INVALID_REQUEST_UNKNOWN",
      });
    }
  });

  it("renders every cell as the text a user sees, in the time zone asked for", async () => {
    const [json] = (await asDemo("GET", `${contacts}?maxRecords=1`)).body.records;
    const query = "maxRecords=1&cellFormat=string&timeZone=America%2FNew_York&userLocale=en-us";
    const [text] = (await asDemo("GET", `${contacts}?${query}`)).body.records;
    expect(text.id).toBe(json.id);
    expect(text.fields).toMatchObject({
      Name: "Ada Park",
      // Links and lookups show primary values, not record ids.
      Company: "Acme",
      "Company name": "Acme",
      Stage: "Lead",
      "Deal size": "1000.00",
      Subscribed: "checked",
      "Last contact": "2026-01-10",
      // Next meeting is 15:30 UTC in a field whose time zone is utc.
      "Next meeting": "2026-12-01 15:30",
      "Win probability": "10%",
      Satisfaction: "1",
      "Call time": "0:15",
      Label: "Ada Park (Lead)",
      "Open website": "Open",
    });
    for (const value of Object.values(text.fields)) expect(typeof value).toBe("string");
    // The same through POST listRecords (timeZone and userLocale in its query string) and get record.
    const post = await asDemo("POST", `${contacts}/listRecords?timeZone=utc&userLocale=en`, {
      maxRecords: 1,
      cellFormat: "string",
    });
    expect(post.body.records[0].fields.Company).toBe("Acme");
    const one = await asDemo("GET", `${contacts}/${json.id}?cellFormat=string&timeZone=utc&userLocale=en`);
    expect(one.body.fields["Company name"]).toBe("Acme");
    const companies = await asDemo(
      "GET",
      `/v0/${demo.base.id}/Companies?maxRecords=1&cellFormat=string&timeZone=utc&userLocale=en-us`,
    );
    expect(companies.body.records[0].fields).toMatchObject({
      "Annual revenue": "$250,000",
      "Account manager": "Demo User",
      "Number of contacts": "5",
    });
  });
});

describe("cellFormat=string: times of computed fields and negative amounts", () => {
  // The field model's Created time / Last modified time: "result: optional<date field config | dateTime field
  // config>", whose timeZone is one zone for all collaborators or `client` (each viewer's): a string cell shows the
  // time as a dateTime field with that config would. Without one (and for date-valued formulas) the sandbox shows
  // each viewer's zone, the interface's default; before session 28 these were always UTC.
  it("shows created and modified times, and date-valued formulas, in the request's zone unless the field sets one", async () => {
    const log = f.sandbox.createBase(f.user.id, {
      name: "Log",
      tables: [
        {
          name: "Entries",
          fields: [
            { name: "Name", type: "singleLineText" },
            { name: "Created", type: "createdTime" },
            {
              name: "Created in UTC",
              type: "createdTime",
              options: {
                result: {
                  type: "dateTime",
                  options: { dateFormat: { name: "iso" }, timeFormat: { name: "24hour" }, timeZone: "utc" },
                },
              },
            },
            {
              name: "Changed in Kolkata",
              type: "lastModifiedTime",
              options: {
                result: {
                  type: "dateTime",
                  options: { dateFormat: { name: "iso" }, timeFormat: { name: "24hour" }, timeZone: "Asia/Kolkata" },
                },
              },
            },
            { name: "Made", type: "formula", options: { formula: "CREATED_TIME()" } },
            { name: "Amount", type: "currency", options: { precision: 2, symbol: "$" } },
            { name: "Change", type: "percent", options: { precision: 0 } },
          ],
          records: [{ Name: "one", Amount: -1234.5, Change: -0.05 }],
        },
      ],
    });
    const path = `/v0/${log.id}/Entries`;
    const [json] = (await f.call("GET", path)).body.records;
    // The instant as a wall time `hours` east of UTC, as the field's ISO date and 24-hour time show it.
    const wall = (iso: string, hours: number): string =>
      new Date(Date.parse(iso) + hours * 3_600_000).toISOString().slice(0, 16).replace("T", " ");
    const created = json.createdTime as string;
    expect(json.fields["Changed in Kolkata"]).toBeDefined();
    const changed = json.fields["Changed in Kolkata"] as string;

    const tokyo = await f.call("GET", `${path}?cellFormat=string&timeZone=Asia%2FTokyo&userLocale=en-us`);
    expect(tokyo.status).toBe(200);
    expect(tokyo.body.records[0].fields).toEqual({
      Name: "one",
      // Each viewer's zone: the request's, Tokyo (UTC+9).
      Created: wall(created, 9),
      Made: wall(created, 9),
      // One zone for all collaborators: the field's, whatever the request's.
      "Created in UTC": wall(created, 0),
      "Changed in Kolkata": wall(changed, 5.5),
      // The sign before the symbol, as a person reads an amount owed.
      Amount: "-$1,234.50",
      Change: "-5%",
    });
    // In German the separators are the locale's; the symbol is still the field's, in front.
    const german = await f.call("GET", `${path}?cellFormat=string&timeZone=utc&userLocale=de`);
    expect(german.body.records[0].fields).toMatchObject({ Created: wall(created, 0), Amount: "-$1.234,50" });

    // The meta API shows each field's result as set up, and `client` for the ones set up without.
    const schema = await f.call("GET", `/v0/meta/bases/${log.id}/tables`);
    const zoneOf = (name: string): unknown =>
      schema.body.tables[0].fields.find((x: { name: string }) => x.name === name).options.result.options.timeZone;
    expect(["Created", "Created in UTC", "Changed in Kolkata", "Made"].map(zoneOf)).toEqual([
      "client",
      "utc",
      "Asia/Kolkata",
      "client",
    ]);
  });

  it("refuses a created time whose result is no date or dateTime config, naming the option", () => {
    expect(() =>
      f.sandbox.createBase(f.user.id, {
        name: "Bad",
        tables: [
          {
            name: "T",
            fields: [
              { name: "Name", type: "singleLineText" },
              { name: "Created", type: "createdTime", options: { result: { type: "number" } } },
            ],
          },
        ],
      }),
    ).toThrow(/type createdTime: options\.result\.type must be \\"date\\" or \\"dateTime\\"/);
  });
});

describe("returnFieldsByFieldId and recordMetadata", () => {
  it("keys fields by id in list, POST listRecords, get and writes", async () => {
    const schema = await asDemo("GET", `/v0/meta/bases/${demo.base.id}/tables`);
    const fields = schema.body.tables[1].fields as { id: string; name: string }[];
    const id = (name: string) => fields.find((x) => x.name === name)?.id as string;
    const list = await asDemo("GET", `${contacts}?maxRecords=1&returnFieldsByFieldId=true`);
    const record = list.body.records[0];
    expect(record.fields[id("Name")]).toBe("Ada Park");
    expect(record.fields[id("Company name")]).toEqual(["Acme"]);
    expect(record.fields.Name).toBeUndefined();
    const post = await asDemo("POST", `${contacts}/listRecords`, { maxRecords: 1, returnFieldsByFieldId: true });
    expect(post.body.records[0].fields).toEqual(record.fields);
    const got = await asDemo("GET", `${contacts}/${record.id}?returnFieldsByFieldId=1`);
    expect(got.body.fields).toEqual(record.fields);
    const patched = await asDemo("PATCH", contacts, {
      returnFieldsByFieldId: true,
      records: [{ id: record.id, fields: { [id("Notes")]: "by id" } }],
    });
    expect(patched.body.records[0].fields[id("Notes")]).toBe("by id");
  });

  it("adds commentCount with recordMetadata=commentCount", async () => {
    const [first] = (await asDemo("GET", `${contacts}?maxRecords=1`)).body.records;
    expect(first.commentCount).toBeUndefined();
    for (const text of ["one", "two"]) await asDemo("POST", `${contacts}/${first.id}/comments`, { text });
    const get = await asDemo("GET", `${contacts}?maxRecords=2&recordMetadata%5B%5D=commentCount`);
    expect(get.body.records.map((r: { commentCount: number }) => r.commentCount)).toEqual([2, 0]);
    const post = await asDemo("POST", `${contacts}/listRecords`, { maxRecords: 1, recordMetadata: ["commentCount"] });
    expect(post.body.records[0].commentCount).toBe(2);
    expect((await asDemo("GET", `${contacts}?recordMetadata[]=likes`)).status).toBe(422);
  });
});

describe("array parameters in a GET list", () => {
  // https://community.airtable.com/t/api-error-requesting-a-single-field/20018: `fields=Email` alone is refused,
  // `fields[]=Email` is the documented form, and the key repeated without [] is taken.
  it("refuses one fields= or recordMetadata= without [], as Airtable does, and takes them with [] or repeated", async () => {
    for (const query of ["fields=Name", "recordMetadata=commentCount"]) {
      const r = await asDemo("GET", `${contacts}?maxRecords=1&${query}`);
      expect({ query, status: r.status, error: r.body.error }).toEqual({
        query,
        status: 422,
        error: {
          type: "INVALID_REQUEST_UNKNOWN",
          message: "Invalid request: parameter validation failed. Check your request data.",
        },
      });
    }
    const bracketed = await asDemo("GET", `${contacts}?maxRecords=1&fields%5B%5D=Name`);
    expect(Object.keys(bracketed.body.records[0].fields)).toEqual(["Name"]);
    const repeated = await asDemo("GET", `${contacts}?maxRecords=1&fields=Name&fields=Stage`);
    expect(Object.keys(repeated.body.records[0].fields).sort()).toEqual(["Name", "Stage"]);
  });
});

describe("POST listRecords", () => {
  it("takes timeZone and userLocale in the query string only, as Airtable does", async () => {
    const inBody = await asDemo("POST", `${contacts}/listRecords`, {
      maxRecords: 1,
      cellFormat: "string",
      timeZone: "UTC",
      userLocale: "en",
    });
    expect(inBody.status).toBe(422);
    expect(inBody.body.error.type).toBe("INVALID_REQUEST_UNKNOWN");
    // Without cellFormat too: they are not body parameters at all.
    const alone = await asDemo("POST", `${contacts}/listRecords`, { maxRecords: 1, timeZone: "UTC" });
    expect(alone.body.error?.type).toBe("INVALID_REQUEST_UNKNOWN");
    const inQuery = await asDemo("POST", `${contacts}/listRecords?timeZone=utc&userLocale=en`, {
      maxRecords: 1,
      cellFormat: "string",
    });
    expect(inQuery.status).toBe(200);
    expect(typeof inQuery.body.records[0].fields.Name).toBe("string");
  });
});

describe("list offsets", () => {
  it("answers an offset asked again with the same page, until the listing ends and after", async () => {
    const page = (offset?: string) =>
      asDemo("GET", `${contacts}?pageSize=12${offset === undefined ? "" : `&offset=${encodeURIComponent(offset)}`}`);
    const ids = (r: { body: { records: { id: string }[] } }) => r.body.records.map((x) => x.id);
    const first = await page();
    const second = await page(first.body.offset);
    expect(second.status).toBe(200);
    // A retried page (its answer lost on the way, say) answers the same records and the same next offset.
    const again = await page(first.body.offset);
    expect(again.status).toBe(200);
    expect(ids(again)).toEqual(ids(second));
    expect(again.body.offset).toBe(second.body.offset);
    const last = await page(second.body.offset);
    expect(last.body.offset).toBeUndefined();
    expect([...ids(first), ...ids(second), ...ids(last)]).toHaveLength(30);
    // The listing is over, and its offsets still answer their pages.
    expect(ids(await page(second.body.offset))).toEqual(ids(last));
    expect(ids(await page(first.body.offset))).toEqual(ids(second));
    // The same through POST listRecords.
    const posted = await asDemo("POST", `${contacts}/listRecords`, { pageSize: 12 });
    const postedNext = await asDemo("POST", `${contacts}/listRecords`, { pageSize: 12, offset: posted.body.offset });
    const postedAgain = await asDemo("POST", `${contacts}/listRecords`, { pageSize: 12, offset: posted.body.offset });
    expect(ids(postedAgain)).toEqual(ids(postedNext));
  });

  it("keeps a listing in use open past the lifetime: it ends after a time without use", async () => {
    let offset = (await asDemo("GET", `${contacts}?pageSize=1`)).body.offset as string;
    // Five pages, each within the lifetime of the one before, together well past one lifetime.
    for (let i = 0; i < 5; i++) {
      await sleep(ITERATOR_TTL_MS / 2);
      const next = await asDemo("GET", `${contacts}?pageSize=1&offset=${encodeURIComponent(offset)}`);
      expect({ i, status: next.status }).toEqual({ i, status: 200 });
      offset = next.body.offset;
    }
    await sleep(ITERATOR_TTL_MS + 50);
    const idle = await asDemo("GET", `${contacts}?pageSize=1&offset=${encodeURIComponent(offset)}`);
    expect(idle.body.error?.type).toBe("LIST_RECORDS_ITERATOR_NOT_AVAILABLE");
  });

  it("answers LIST_RECORDS_ITERATOR_NOT_AVAILABLE for an offset older than the iterator lifetime", async () => {
    const first = await asDemo("GET", `${contacts}?pageSize=10`);
    expect(first.body.offset).toEqual(expect.any(String));
    const second = await asDemo("GET", `${contacts}?pageSize=10&offset=${encodeURIComponent(first.body.offset)}`);
    expect(second.status).toBe(200);
    await sleep(ITERATOR_TTL_MS + 50);
    const expired = await asDemo("GET", `${contacts}?pageSize=10&offset=${encodeURIComponent(second.body.offset)}`);
    expect(expired.status).toBe(422);
    expect(expired.body.error).toEqual({
      type: "LIST_RECORDS_ITERATOR_NOT_AVAILABLE",
      message: "The iterator is not available. Please restart your query.",
    });
    // Starting over works.
    expect((await asDemo("GET", `${contacts}?pageSize=10`)).body.records).toHaveLength(10);
  });

  it("expires every offset handed out so far on expireListIterators()", async () => {
    const first = await asDemo("POST", `${contacts}/listRecords`, { pageSize: 5 });
    f.sandbox.expireListIterators();
    const next = await asDemo("POST", `${contacts}/listRecords`, { pageSize: 5, offset: first.body.offset });
    expect(next.body.error.type).toBe("LIST_RECORDS_ITERATOR_NOT_AVAILABLE");
  });
});
