/**
 * Plain-valued and object-valued field types, read and written as Airtable's field model documents them
 * (https://airtable.com/developers/web/api/field-model): #currencynumber, #percentnumber (0.5 is 50 %),
 * #durationnumber (seconds), #rating (a positive integer, never 0), #phone, #barcode ({text, type?}), #richtext
 * (markdown text), #collaborator / #multicollaborator (read {id, email, name}; write {id} | {email}, or an array of
 * user ids; an email as text only with typecast), #multipleattachment (write {url, filename?} or a kept {id}, anything
 * else 422 INVALID_ATTACHMENT_OBJECT; filled in by Airtable asynchronously).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BaseInfo } from "../../src/sandbox/index.ts";
import { fixture, sleep, type Fixture } from "./test-helpers.ts";

let f: Fixture;
let base: BaseInfo;
let items: string;

beforeEach(async () => {
  f = await fixture({ perBaseRps: 10_000, perTokenRps: 10_000, attachmentFillInMs: 20 });
  base = f.sandbox.createBase(f.user.id, {
    name: "Values",
    tables: [
      {
        name: "Items",
        fields: [
          { name: "Name", type: "singleLineText" },
          { name: "Price", type: "currency", options: { precision: 2, symbol: "$" } },
          { name: "Share", type: "percent", options: { precision: 1 } },
          { name: "Time", type: "duration", options: { durationFormat: "h:mm:ss" } },
          { name: "Stars", type: "rating", options: { max: 5 } },
          { name: "Phone", type: "phoneNumber" },
          { name: "Code", type: "barcode" },
          { name: "Body", type: "richText" },
          { name: "Owner", type: "singleCollaborator" },
          { name: "Team", type: "multipleCollaborators" },
          { name: "Files", type: "multipleAttachments" },
          {
            name: "Meeting",
            type: "dateTime",
            options: {
              dateFormat: { name: "iso" },
              timeFormat: { name: "24hour" },
              timeZone: "America/Los_Angeles",
            },
          },
          { name: "Day", type: "date", options: { dateFormat: { name: "iso" } } },
          {
            name: "Logged",
            type: "dateTime",
            options: { dateFormat: { name: "iso" }, timeFormat: { name: "24hour" }, timeZone: "utc" },
          },
        ],
      },
    ],
  });
  items = `/v0/${base.id}/Items`;
});
afterEach(() => f.sandbox.close());

async function create(fields: Record<string, unknown>, typecast = false) {
  return f.call("POST", items, typecast ? { fields, typecast } : { fields });
}

describe("number-like fields (#currencynumber, #percentnumber, #durationnumber, #rating)", () => {
  it("store JSON numbers as given", async () => {
    const r = await create({ Price: 12.5, Share: 0.125, Time: 5415.5, Stars: 4 });
    expect(r.body.fields).toMatchObject({ Price: 12.5, Share: 0.125, Time: 5415.5, Stars: 4 });
  });

  it("refuse strings without typecast and parse them with it", async () => {
    for (const [field, value] of [
      ["Price", "12.50"],
      ["Share", "50%"],
      ["Time", "1:30"],
      ["Stars", "3"],
    ] as const) {
      const r = await create({ [field]: value });
      expect(r.body.error).toEqual({
        type: "INVALID_VALUE_FOR_COLUMN",
        message: `Field "${field}" cannot accept the provided value`,
      });
    }
    const r = await create({ Price: "$1,200.50", Share: "50%", Time: "1:30", Stars: "3" }, true);
    expect(r.body.fields).toMatchObject({ Price: 1200.5, Share: 0.5, Time: 5400, Stars: 3 });
    expect((await create({ Time: "1:02:03.5" }, true)).body.fields.Time).toBe(3723.5);
  });

  it("keep ratings to whole stars from 1 to max; 0 clears the cell", async () => {
    expect((await create({ Stars: 6 })).status).toBe(422);
    expect((await create({ Stars: 2.5 })).status).toBe(422);
    expect((await create({ Stars: -1 })).status).toBe(422);
    const zero = await create({ Name: "z", Stars: 0 });
    expect(zero.body.fields.Stars).toBeUndefined();
  });

  it("are described with their options and their options are validated", async () => {
    const schema = await f.call("GET", `/v0/meta/bases/${base.id}/tables`);
    const options = Object.fromEntries(
      (schema.body.tables[0].fields as { name: string; options?: unknown }[]).map((x) => [x.name, x.options]),
    );
    expect(options).toMatchObject({
      Price: { precision: 2, symbol: "$" },
      Share: { precision: 1 },
      Time: { durationFormat: "h:mm:ss" },
      Stars: { max: 5, icon: "star", color: "yellowBright" },
    });
    const fields = `/v0/meta/bases/${base.id}/tables/Items/fields`;
    for (const def of [
      { name: "A", type: "currency", options: { precision: 8, symbol: "$" } },
      { name: "B", type: "currency", options: { precision: 2 } },
      { name: "C", type: "duration", options: { durationFormat: "mm:ss" } },
      { name: "D", type: "rating", options: { max: 11 } },
      { name: "E", type: "percent", options: {} },
    ]) {
      expect((await f.call("POST", fields, def)).body.error.type).toBe("INVALID_FIELD_TYPE_OPTIONS");
    }
    // Airtable's field model lists a rating's icon and color, and a checkbox's, in their write formats, none marked
    // optional: through the API they must be given (a seeded base may leave them out), and from Airtable's lists.
    const missing = await f.call("POST", fields, {
      name: "Hearts",
      type: "rating",
      options: { max: 3, icon: "heart" },
    });
    expect(missing.body.error).toEqual({
      type: "INVALID_FIELD_TYPE_OPTIONS",
      message: "Invalid options for field of type rating: options.color is required",
    });
    const ok = await f.call("POST", fields, {
      name: "Hearts",
      type: "rating",
      options: { max: 3, icon: "heart", color: "redBright" },
    });
    expect(ok.body.options).toEqual({ max: 3, icon: "heart", color: "redBright" });
    for (const options of [
      undefined,
      { icon: "check" },
      { icon: "tick", color: "greenBright" },
      { icon: "check", color: "green" },
    ]) {
      const refused = await f.call("POST", fields, { name: "Done", type: "checkbox", ...(options && { options }) });
      expect(refused.body.error.type).toBe("INVALID_FIELD_TYPE_OPTIONS");
    }
    const box = await f.call("POST", fields, {
      name: "Done",
      type: "checkbox",
      options: { icon: "flag", color: "redBright" },
    });
    expect(box.body.options).toEqual({ icon: "flag", color: "redBright" });
  });
});

describe("dateTime (#dateandtime) and the field's time zone", () => {
  it("reads a date alone or a time without a zone as the field's wall time (UTC for a utc field); a zone is kept", async () => {
    // Field model: ambiguous inputs "will be interpreted according to the timeZone of the field instead of utc".
    const dateOnly = await create({ Meeting: "2030-09-08", Logged: "2030-09-08" });
    expect(dateOnly.body.fields).toMatchObject({
      Meeting: "2030-09-08T07:00:00.000Z", // midnight in Los Angeles (PDT, UTC-7)
      Logged: "2030-09-08T00:00:00.000Z",
    });
    // A time without a zone is one of the field model's own examples: no typecast needed. In winter Los Angeles is
    // UTC-8.
    const wall = await create({ Meeting: "2030-12-05T07:00:00", Logged: "2030-12-05T07:00:00.5" });
    expect(wall.body.fields).toMatchObject({
      Meeting: "2030-12-05T15:00:00.000Z",
      Logged: "2030-12-05T07:00:00.500Z",
    });
    const zoned = await create({ Meeting: "2030-09-05T07:00:00Z", Logged: "2030-09-05T07:00:00+02:00" });
    expect(zoned.body.fields).toMatchObject({
      Meeting: "2030-09-05T07:00:00.000Z",
      Logged: "2030-09-05T05:00:00.000Z",
    });
    expect((await create({ Meeting: "2030-02-31" })).body.error.type).toBe("INVALID_VALUE_FOR_COLUMN");
  });

  it("stores a date typecast from other text as the date written, whatever the process's time zone", async () => {
    const original = process.env.TZ;
    try {
      for (const zone of ["UTC", "Asia/Kolkata", "America/Los_Angeles", "Pacific/Kiritimati"]) {
        process.env.TZ = zone;
        const r = await create({ Day: "9/5/2030" }, true);
        expect(r.body.fields.Day, zone).toBe("2030-09-05");
        expect((await create({ Day: "2030-09-05T23:30:00Z" }, true)).body.fields.Day, zone).toBe("2030-09-05");
      }
    } finally {
      if (original === undefined) delete process.env.TZ;
      else process.env.TZ = original;
    }
  });
});

describe("text-like fields (#phone, #richtext, #barcode)", () => {
  it("take phone numbers and markdown as plain strings, and barcodes as {text, type?}", async () => {
    const markdown = "# Title\n\n**bold** and _italic_\n- item";
    const r = await create({ Phone: "(415) 555-9876", Body: markdown, Code: { text: "0123", type: "upce" } });
    expect(r.body.fields).toMatchObject({
      Phone: "(415) 555-9876",
      Body: markdown,
      Code: { text: "0123", type: "upce" },
    });
    expect((await create({ Code: { text: "42" } })).body.fields.Code).toEqual({ text: "42" });
    expect((await create({ Code: "42" })).status).toBe(422);
    expect((await create({ Code: { text: "4", colour: "red" } })).status).toBe(422);
    expect((await create({ Code: "42" }, true)).body.fields.Code).toEqual({ text: "42" });
  });

  it("hold at most 100,000 characters in single line and rich text (counted in code points)", async () => {
    const limit = 100_000;
    expect((await create({ Name: "x".repeat(limit), Body: "y".repeat(limit) })).status).toBe(200);
    // 100,000 emoji are 200,000 UTF-16 units: still 100,000 characters.
    expect((await create({ Name: "😀".repeat(limit) })).status).toBe(200);
    for (const fields of [{ Name: "x".repeat(limit + 1) }, { Body: "y".repeat(limit + 1) }]) {
      const r = await create(fields);
      expect(r.status).toBe(422);
      expect(r.body.error.type).toBe("INVALID_VALUE_FOR_COLUMN");
    }
  });
});

describe("collaborator fields (#collaborator, #multicollaborator)", () => {
  it("write by id or email, read as {id, email, name}, and only name collaborators of the base", async () => {
    const mate = f.sandbox.addUser({ email: "mate@example.com", name: "Mate" });
    f.sandbox.grantAccess(base.id, mate.id, "read");
    const stranger = f.sandbox.addUser({ email: "stranger@example.com" });
    const me = { id: f.user.id, email: f.user.email, name: "Owner" };
    const mateOut = { id: mate.id, email: "mate@example.com", name: "Mate" };
    const byId = await create({ Owner: { id: mate.id }, Team: [f.user.id, mate.id] });
    expect(byId.body.fields).toMatchObject({ Owner: mateOut, Team: [me, mateOut] });
    const byEmail = await create({ Owner: { email: "MATE@example.com" }, Team: [{ email: f.user.email }] });
    expect(byEmail.body.fields).toMatchObject({ Owner: mateOut, Team: [me] });
    const typecast = await create({ Owner: "mate@example.com", Team: `${f.user.email}, ${mate.id}` }, true);
    expect(typecast.body.fields).toMatchObject({ Owner: mateOut, Team: [me, mateOut] });
    for (const fields of [{ Owner: { id: stranger.id } }, { Team: [stranger.id] }, { Owner: mate.id }, { Team: "x" }]) {
      expect((await create(fields)).status).toBe(422);
    }
  });
  it("look {id} up among user ids and {email} among emails, and take text in a multiple field as ids only", async () => {
    // Field model, "Cell format (write)": a collaborator is {id} ("The user id, group id of the user") or {email};
    // a multiple collaborator cell is an "array of strings: Array of user or group ids". Text is converted only
    // with typecast.
    const mate = f.sandbox.addUser({ email: "mate@example.com", name: "Mate" });
    f.sandbox.grantAccess(base.id, mate.id, "edit");
    const refused = { type: "INVALID_VALUE_FOR_COLUMN", message: "" };
    for (const [fields, name] of [
      [{ Owner: { id: "mate@example.com" } }, "Owner"],
      [{ Owner: { email: mate.id } }, "Owner"],
      [{ Owner: [{ id: mate.id }] }, "Owner"],
      [{ Team: ["mate@example.com"] }, "Team"],
      [{ Team: [` ${mate.id}`] }, "Team"],
      [{ Team: [{ id: "mate@example.com" }] }, "Team"],
    ] as const) {
      const r = await create(fields);
      expect(r.status, JSON.stringify(fields)).toBe(422);
      expect(r.body.error).toEqual({ ...refused, message: `Field "${name}" cannot accept the provided value` });
    }
    const mateOut = { id: mate.id, email: "mate@example.com", name: "Mate" };
    // With typecast the same text is an id or an email.
    const cast = await create({ Team: ["MATE@example.com", ` ${f.user.id}`] }, true);
    expect(cast.body.fields.Team).toEqual([mateOut, expect.objectContaining({ id: f.user.id })]);
    // A read's {id, email, name} is found by its id, whatever else it carries; objects are taken in a multiple
    // field too (what a read gives back).
    const readBack = await create({
      Owner: { id: mate.id, email: f.user.email, name: "Someone" },
      Team: [mate.id, { id: f.user.id, email: f.user.email, name: "Owner" }, { email: "mate@example.com" }],
    });
    expect(readBack.status).toBe(200);
    expect(readBack.body.fields.Owner).toEqual(mateOut);
    expect(readBack.body.fields.Team).toEqual([mateOut, expect.objectContaining({ id: f.user.id })]);
  });
});

describe("attachments written by URL (#multipleattachment)", () => {
  let server: Server;
  let origin: string;
  // The first bytes of a PNG: signature and IHDR with width 640 and height 480 (all the sandbox reads).
  const png = Buffer.alloc(64);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(png, 0);
  png.write("IHDR", 12, "latin1");
  png.writeUInt32BE(640, 16);
  png.writeUInt32BE(480, 20);

  beforeEach(async () => {
    server = createServer((req, res) => {
      if (req.url === "/logo.png") res.writeHead(200, { "content-type": "image/png" }).end(png);
      else if (req.url === "/notes.txt") res.writeHead(200, { "content-type": "text/plain; charset=utf-8" }).end("hi!");
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function filesOf(id: string): Promise<Record<string, unknown>[] | undefined> {
    return (await f.call("GET", `${items}/${id}`)).body.fields.Files;
  }

  async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
    for (let i = 0; i < 100; i++) {
      const value = await read();
      if (done(value)) return value;
      await sleep(20);
    }
    return read();
  }

  it("answers at once with id, url and filename, then fills in size, type and thumbnails a moment later", async () => {
    const r = await create({
      Files: [{ url: `${origin}/logo.png` }, { url: `${origin}/notes.txt`, filename: "Notes.txt" }],
    });
    expect(r.status).toBe(200);
    expect(r.body.fields.Files).toEqual([
      { id: expect.stringMatching(/^att/), url: `${origin}/logo.png`, filename: "logo.png" },
      { id: expect.stringMatching(/^att/), url: `${origin}/notes.txt`, filename: "Notes.txt" },
    ]);
    const [logoId, notesId] = r.body.fields.Files.map((a: { id: string }) => a.id);
    const files = (await eventually(
      () => filesOf(r.body.id),
      (list) => list?.every((a) => a.size !== undefined) === true,
    )) as Record<string, unknown>[];
    const sandboxUrl = expect.stringMatching(new RegExp(`^${f.sandbox.url}/attachments/${logoId}/logo\\.png$`));
    expect(files[0]).toEqual({
      id: logoId,
      url: sandboxUrl,
      filename: "logo.png",
      size: 64,
      type: "image/png",
      width: 640,
      height: 480,
      thumbnails: {
        small: { url: sandboxUrl, width: 48, height: 36 },
        large: { url: sandboxUrl, width: 512, height: 384 },
        full: { url: sandboxUrl, width: 640, height: 480 },
      },
    });
    expect(files[1]).toEqual({
      id: notesId,
      url: expect.stringContaining(`/attachments/${notesId}/Notes.txt`),
      filename: "Notes.txt",
      size: 3,
      type: "text/plain",
    });
    expect(await (await fetch(files[1]?.url as string)).text()).toBe("hi!");

    // Keeping an attachment takes its id; anything else about it is ignored.
    const kept = await f.call("PATCH", `${items}/${r.body.id}`, {
      fields: { Files: [{ id: notesId, filename: "renamed.txt" }] },
    });
    expect(kept.body.fields.Files).toEqual([files[1]]);
  });

  it("drops an attachment whose URL cannot be fetched, as Airtable clears failed uploads", async () => {
    const r = await create({ Name: "x", Files: [{ url: `${origin}/missing.png` }, { url: `${origin}/notes.txt` }] });
    expect(r.body.fields.Files).toHaveLength(2);
    const files = await eventually(
      () => filesOf(r.body.id),
      (list) => list?.length === 1 && list[0]?.size !== undefined,
    );
    expect(files?.map((a) => a.filename)).toEqual(["notes.txt"]);
  });

  it("refuses items that are not {url, filename?} or a kept {id} with Airtable's INVALID_ATTACHMENT_OBJECT", async () => {
    // "Invalid attachment for field Invoice PDF: parameters must be objects, not strings" is Airtable's answer to a
    // string item (gtalarico/pyairtable#74); a new attachment is {url, filename?} only (field model, "Cell format
    // (write)"), and an id must be one of the cell's attachments.
    const url = `${origin}/notes.txt`;
    for (const [value, reason] of [
      [[url], "parameters must be objects, not strings"],
      [[{ url, type: "text/plain" }], 'unknown property "type"'],
      [[{ url, filename: "n.txt", size: 3 }], 'unknown property "size"'],
      [[{ filename: "a.txt" }], "a new attachment needs a url"],
      [[{ url: "data:text/plain;base64,aGk=" }], "the url must start with https:// or http://"],
      [[{ id: "attAAAAAAAAAAAAAA", url }], '"attAAAAAAAAAAAAAA" is not the id of an attachment in this cell'],
    ] as const) {
      const r = await create({ Name: "refused", Files: value });
      expect(r.status, JSON.stringify(value)).toBe(422);
      expect(r.body.error).toEqual({
        type: "INVALID_ATTACHMENT_OBJECT",
        message: `Invalid attachment for field Files: ${reason}`,
      });
    }
    expect(f.sandbox.listRecordsDirect(base.id, "Items").some((r) => r.fields.Name === "refused")).toBe(false);

    // A kept attachment may come back as a read gives it (its other properties are ignored), not with others.
    const r = await create({ Files: [{ url, filename: "Notes.txt" }] });
    const read = (await eventually(
      () => filesOf(r.body.id),
      (list) => list?.[0]?.size !== undefined,
    )) as Record<string, unknown>[];
    const kept = await f.call("PATCH", `${items}/${r.body.id}`, { fields: { Files: read } });
    expect(kept.status).toBe(200);
    expect(kept.body.fields.Files).toEqual(read);
    const extra = await f.call("PATCH", `${items}/${r.body.id}`, { fields: { Files: [{ ...read[0], note: "x" }] } });
    expect(extra.body.error).toEqual({
      type: "INVALID_ATTACHMENT_OBJECT",
      message: 'Invalid attachment for field Files: unknown property "note"',
    });
  });

  it("refuses attachments that are not {url} or a kept {id}", async () => {
    for (const value of [
      "https://x/y.png",
      [{ url: "ftp://x/y" }],
      [{ filename: "a" }],
      [{ id: "attAAAAAAAAAAAAAA" }],
    ]) {
      expect((await create({ Files: value })).status).toBe(422);
    }
    // A URL's scheme is case-insensitive (RFC 3986 §3.1): HTTPS:// is as good as https://.
    expect(
      (await create({ Name: "upper", Files: [{ url: `${origin.replace(/^http/, "HTTP")}/notes.txt` }] })).status,
    ).toBe(200);
  });
});
