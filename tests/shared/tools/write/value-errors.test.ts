/**
 * Value errors caught before queueing (src/shared/tools/write/check-values.ts):
 * - per field type, with and without typecast: what is refused, with the field's type and an accepted example;
 * - through the write tools on the sandbox's demo base: the refusal the agent sees, the select refusal listing the
 *   options and naming typecast: true, and typecast: true letting the new option through to Airtable;
 * - never stricter than Airtable: every value refused here is one the sandbox (the faithful fake Airtable) refuses too;
 * - delete results say "deleted".
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AirtableField } from "../../../../src/shared/airtable/schemas.ts";
import { EmbeddedOperationRunner } from "../../../../src/shared/operations/embedded-runner.ts";
import type { OperationResultOutput } from "../../../../src/shared/tools/operation-result.ts";
import { createWriteRunner } from "../../../../src/shared/tools/run-write.ts";
import { ToolInputError } from "../../../../src/shared/tools/tool-input-error.ts";
import { checkCellValue } from "../../../../src/shared/tools/write/check-values.ts";
import { createComment } from "../../../../src/shared/tools/write/create-comment.ts";
import { createRecord } from "../../../../src/shared/tools/write/create-record.ts";
import { createRecords } from "../../../../src/shared/tools/write/create-records.ts";
import { deleteRecords } from "../../../../src/shared/tools/write/delete-records.ts";
import { updateRecords } from "../../../../src/shared/tools/write/update-records.ts";
import { uploadAttachment } from "../../../../src/shared/tools/write/upload-attachment.ts";
import { upsertRecords } from "../../../../src/shared/tools/write/upsert-records.ts";
import { startToolContextHarness, type ToolContextHarness } from "../../../support/tool-context-test-harness.ts";

const field = (name: string, type: string, options?: Record<string, unknown>): AirtableField => ({
  id: `fld${name.replace(/\W/g, "").padEnd(14, "x").slice(0, 14)}`,
  name,
  type,
  ...(options === undefined ? {} : { options }),
});

/** The message checkCellValue refuses with, or undefined when it lets the value through. */
function refusalOf(f: AirtableField, value: unknown, typecast: boolean): string | undefined {
  try {
    checkCellValue(f, value, "records[0].fields", typecast);
    return undefined;
  } catch (error) {
    if (!(error instanceof ToolInputError)) throw error;
    return error.message;
  }
}

describe("checkCellValue, attachment urls", () => {
  it("refuses a url without https:// or http://, which Airtable requires; keeps by id and http(s) urls pass", () => {
    const files = field("Files", "multipleAttachments");
    for (const url of ["example.com/a.pdf", "ftp://example.com/a.pdf", "/tmp/a.pdf"]) {
      expect(refusalOf(files, [{ url }], true)).toContain("must start with https://");
    }
    expect(
      refusalOf(files, [{ url: "https://example.com/a.pdf" }, { url: "HTTP://example.com/b" }], false),
    ).toBeUndefined();
    expect(refusalOf(files, [{ id: "att0123456789abcd" }], false)).toBeUndefined();
  });
});

describe("checkCellValue, clearing a cell", () => {
  it.each([
    ["number", "", false],
    ["checkbox", "", false],
    ["date", "", false],
    ["multipleRecordLinks", "", false],
    ["singleCollaborator", "", false],
    ["multipleAttachments", "", true],
    ["singleLineText", [], true],
    ["number", [], true],
    ["checkbox", [], true],
    ["singleSelect", [], true],
    ["singleCollaborator", [], true],
  ])("refuses %s given %j (typecast %s), which Airtable refuses: give null", (type, value, typecast) => {
    expect(refusalOf(field("F", type), value, typecast)).toMatch(
      /is not a value of it.*To clear the cell, give null\.$/,
    );
  });

  it.each([
    ["number", null, false],
    ["number", "", true],
    ["singleLineText", "", false],
    ["singleSelect", "", false],
    ["multipleSelects", [], false],
    ["multipleRecordLinks", [], false],
    ["multipleCollaborators", [], false],
    ["multipleAttachments", [], false],
    ["someFutureType", "", false],
    ["someFutureType", [], false],
  ])("lets %s given %j (typecast %s) through", (type, value, typecast) => {
    expect(refusalOf(field("F", type), value, typecast)).toBeUndefined();
  });
});

describe("checkCellValue, a worded date with a two-digit year", () => {
  it('"17-Mar-27", "Mar 17, 27": told the year is in two digits (not that it names none), with the 20YY day', () => {
    const due = field("Due", "date", { dateFormat: { name: "iso" } });
    expect(refusalOf(due, "17-Mar-27", true)).toBe(
      'records[0].fields: "Due" is a date field, given "17-Mar-27", which gives its year in two digits: Airtable\'s ' +
        "typecast would pick the century of its own, and which one is not documented. Give the day meant as " +
        'YYYY-MM-DD, such as "2027-03-17".',
    );
    for (const value of ["Mar 17, 27", "Mar 17 '27", "Wed, 17 March 27"]) {
      expect(refusalOf(due, value, true), value).toContain("which gives its year in two digits");
      expect(refusalOf(due, value, true), value).toContain('such as "2027-03-17"');
    }
    // No year at all, and a time after the day, keep their sentence.
    expect(refusalOf(due, "Mar 17", true)).toContain("which names no year");
    expect(refusalOf(due, "Dec 24 10:00", true)).toContain("which names no year");
  });
});

describe("checkCellValue, duration text as Airtable's formats write it", () => {
  it('"3:45.6" (m:ss.S, how h:mm:ss.S shows a time under an hour) is left to typecast, as "1:23:40.0" is', () => {
    // Airtable's "Duration field type" page: h:mm:ss.s is "for minutes, seconds, and deciseconds, e.g. 3:45.6".
    const lap = field("Lap", "duration", { durationFormat: "h:mm:ss.S" });
    for (const value of ["3:45.6", "3:45.67", "3:45.678", "1:23:40.0", "1:23"]) {
      expect(() => checkCellValue(lap, value, "records[0].fields", true, undefined, true), value).not.toThrow();
    }
    expect(() => checkCellValue(lap, "3m 45s", "records[0].fields", true, undefined, true)).toThrow(
      /give the number 225 \(a JSON number of seconds/,
    );
  });
});

describe("checkCellValue, per field type", () => {
  const stage = field("Stage", "singleSelect", {
    choices: [
      { id: "selLead", name: "Lead" },
      { id: "selQual", name: "Qualified" },
    ],
  });
  const tags = field("Tags", "multipleSelects", { choices: [{ id: "selVip", name: "vip" }, { name: "beta" }] });

  it("finds an option's id inside a comma-separated multiple select value with typecast (Airtable would split it)", () => {
    expect(refusalOf(tags, "beta, selVip", true)).toContain('is the id of the option "vip" of "Tags"');
    expect(refusalOf(tags, "beta, vip", true)).toBeUndefined();
  });

  it('refuses "" in a date or date-time field even with typecast, and a time of day that does not exist', () => {
    const day = field("Due", "date");
    const when = field("When", "dateTime");
    for (const f of [day, when]) expect(refusalOf(f, "", true)).toContain("To clear the cell, give null");
    expect(refusalOf(when, "2026-03-14T25:61:00", false)).toBeDefined();
    expect(refusalOf(when, "2026-03-14T23:59:59", false)).toBeUndefined();
  });

  it("refuses an option's id with typecast, naming the option (it could become a new option named sel…); leaves it to Airtable without", () => {
    expect(refusalOf(stage, "selLead", true)).toBe(
      'records[0].fields: "selLead" is the id of the option "Lead" of "Stage" (a single select field): with ' +
        'typecast, Airtable may add it as a new option named "selLead"; give "Lead".',
    );
    expect(refusalOf(tags, ["beta", "selVip"], true)).toContain('is the id of the option "vip" of "Tags"');
    expect(refusalOf(stage, "selLead", false)).toBeUndefined();
    expect(refusalOf(tags, ["beta", "selVip"], false)).toBeUndefined();
  });

  it('names the field, its type and what to give, as an example: "Employees" is a number field: give a number such as 42, not "lots"', () => {
    expect(refusalOf(field("Employees", "number", { precision: 0 }), "lots", true)).toBe(
      'records[0].fields: "Employees" is a number field: give a number such as 42, not "lots".',
    );
  });

  it("without typecast, says when typecast: true would have let Airtable convert the value", () => {
    const size = field("Deal size", "number", { precision: 0 });
    expect(refusalOf(size, "1,500.00", false)).toBe(
      'records[0].fields: "Deal size" is a number field: give the number 1500 (a JSON number, without symbols or ' +
        'separators), not "1,500.00", or pass typecast: true to let Airtable convert "1,500.00".',
    );
    // A comma followed by three digits may be a decimal comma too (session 30): both readings, no typecast hint.
    expect(refusalOf(size, "1,500", false)).toBe(
      'records[0].fields: "Deal size" is a number field, given "1,500", whose comma may be a thousands separator ' +
        "(1500) or a decimal comma (1.5, as European text writes 1,500): which one Airtable's typecast reads is not " +
        "documented. Give the number meant as a JSON number: 1500 or 1.5.",
    );
    // Text with no digit does not convert: no such hint.
    expect(refusalOf(size, "lots", false)).toBe(
      'records[0].fields: "Deal size" is a number field: give a number such as 42, not "lots".',
    );
    expect(refusalOf(field("Due", "date"), "14 March 2026", false)).toBe(
      'records[0].fields: "Due" is a date field: give a date as YYYY-MM-DD, such as "2026-03-14", not ' +
        '"14 March 2026", or pass typecast: true to let Airtable try to read "14 March 2026".',
    );
    expect(refusalOf(field("Done", "checkbox"), { on: true }, false)).not.toContain("typecast");
  });

  // The text's number is named when the text names one (session 29: "give the number 1200", not an example).
  const meant = "the number 1200 (a JSON number, without symbols or separators)";
  it.each([
    ["number", 42, "1,200.00", "lots", "a number field: give a number such as 42", `a number field: give ${meant}`],
    [
      "currency",
      1250.5,
      "$1,250.50",
      "expensive",
      "a currency field: give a plain number such as 1250.5 (no currency symbol)",
      "a currency field: give the number 1250.5 (a JSON number, without symbols or separators)",
    ],
    [
      "percent",
      0.25,
      "25%",
      "a quarter",
      "a percent field: give a decimal such as 0.25 (0.25 is 25%)",
      "a percent field: give the number 0.25 (a JSON number: a percent cell holds a fraction, 0.25 is 25 %)",
    ],
    [
      "duration",
      5400,
      "1:30",
      "long",
      "a duration field: give a number of seconds such as 5400 (1 h 30 min)",
      "a duration field: give a number of seconds such as 5400 (1 h 30 min)",
    ],
  ])(
    "%s: numbers pass; text only with typecast and a digit in it",
    (type, good, convertible, words, message, named) => {
      const f = field("Amount", type);
      expect(refusalOf(f, good, false)).toBeUndefined();
      expect(refusalOf(f, convertible, true)).toBeUndefined();
      expect(refusalOf(f, convertible, false)).toBe(
        `records[0].fields: "Amount" is ${named}, not ${JSON.stringify(convertible)}, or pass typecast: true to let ` +
          `Airtable convert ${JSON.stringify(convertible)}.`,
      );
      expect(refusalOf(f, words, true)).toBe(
        `records[0].fields: "Amount" is ${message}, not ${JSON.stringify(words)}.`,
      );
      for (const value of [true, { amount: 1 }, [1]]) expect(refusalOf(f, value, true)).toContain(message);
      // null clears the cell; "" only with typecast ("" is not a number: Airtable refuses it without typecast).
      expect(refusalOf(f, null, false)).toBeUndefined();
      expect(refusalOf(f, "", true)).toBeUndefined();
      expect(refusalOf(f, "", false)).toMatch(/To clear the cell, give null\.$/);
    },
  );

  it("text: at most 100,000 characters in single line, long and rich text (code points); other text types unchecked", () => {
    for (const type of ["singleLineText", "multilineText", "richText"]) {
      const f = field("Notes", type);
      expect(refusalOf(f, "x".repeat(100_000), false)).toBeUndefined();
      expect(refusalOf(f, "😀".repeat(100_000), false)).toBeUndefined();
      expect(refusalOf(f, "x".repeat(100_001), true)).toBe(
        'records[0].fields: "Notes" holds at most 100,000 characters (Airtable\'s limit for text fields); this text ' +
          "has 100,001. Shorten it, split it across records, or attach it as a file (upload_attachment).",
      );
    }
    expect(refusalOf(field("Site", "url"), `https://x.io/${"a".repeat(100_001)}`, false)).toBeUndefined();
  });

  it("rating: a whole number of stars up to the field's max", () => {
    const f = field("Score", "rating", { max: 5, icon: "star" });
    expect(refusalOf(f, 3, false)).toBeUndefined();
    expect(refusalOf(f, 6, false)).toBe(
      'records[0].fields: "Score" is a rating field: give a whole number of stars such as 3 (1 to 5), not 6.',
    );
    expect(refusalOf(f, 2.5, false)).toContain("a whole number of stars");
    expect(refusalOf(f, "great", true)).toContain('"Score" is a rating field: give a whole number of stars such as 3');
  });

  it("checkbox: true/false; with typecast text and numbers convert, objects never", () => {
    const f = field("Subscribed", "checkbox");
    expect(refusalOf(f, true, false)).toBeUndefined();
    expect(refusalOf(f, "yes", false)).toBe(
      'records[0].fields: "Subscribed" is a checkbox field: give true or false, not "yes", or pass typecast: true ' +
        'to let Airtable convert "yes".',
    );
    expect(refusalOf(f, "yes", true)).toBeUndefined();
    expect(refusalOf(f, { on: true }, true)).toContain("give true or false");
  });

  it("date: YYYY-MM-DD; dateTime: ISO 8601; with typecast, text with a digit may convert", () => {
    const date = field("Last contact", "date");
    expect(refusalOf(date, "2026-03-14", false)).toBeUndefined();
    expect(refusalOf(date, "14 March 2026", false)).toBe(
      'records[0].fields: "Last contact" is a date field: give a date as YYYY-MM-DD, such as "2026-03-14", not ' +
        '"14 March 2026", or pass typecast: true to let Airtable try to read "14 March 2026".',
    );
    expect(refusalOf(date, "14 March 2026", true)).toBeUndefined();
    expect(refusalOf(date, "soon", true)).toContain("is a date field");
    expect(refusalOf(date, 20260314, false)).toContain("is a date field");
    const at = field("Next meeting", "dateTime");
    expect(refusalOf(at, "2026-03-14T15:30:00.000Z", false)).toBeUndefined();
    expect(refusalOf(at, "2026-03-14T15:30:00+01:00", false)).toBeUndefined();
    // Without a zone: the field model's own example of an input, read in the field's time zone; no typecast needed.
    expect(refusalOf(at, "2026-03-14T15:30:00", false)).toBeUndefined();
    expect(refusalOf(at, "2026-03-14T15:30", false)).toBeUndefined();
    expect(refusalOf(at, "next tuesday 3pm", false)).toContain(
      '"Next meeting" is a date and time field: give an ISO 8601 date and time such as "2026-03-14T15:30:00.000Z"',
    );
    // A day that does not exist is refused with or without typecast: a parser that rolls it over (JavaScript's
    // Date, the sandbox) would write another day than the one asked for.
    for (const typecast of [false, true]) {
      expect(refusalOf(date, "2026-02-30", typecast)).toBe(
        'records[0].fields: "Last contact" is given "2026-02-30", a day that does not exist (February 2026 has 28 days).',
      );
      expect(refusalOf(date, "2028-02-29", typecast)).toBeUndefined();
      expect(refusalOf(at, "2026-04-31T09:00:00.000Z", typecast)).toContain("(April 2026 has 30 days)");
      expect(refusalOf(date, "2026-13-01", typecast)).toContain("(there is no month 13)");
      expect(refusalOf(date, "2026-00-10", typecast)).toContain("(there is no month 00)");
      // The forms a typecast parser also reads: a space or a lower-case t before the time, short parts, spaces.
      for (const loose of ["2026-02-30 10:00", "2026-02-30t10:00", " 2026-02-30", "2026-2-30", "2026-02-30 "]) {
        expect(refusalOf(at, loose, typecast), loose).toContain("(February 2026 has 28 days)");
      }
      expect(refusalOf(date, "2000-02-29", typecast)).toBeUndefined();
      expect(refusalOf(date, "1900-02-29", typecast)).toContain("(February 1900 has 28 days)");
      expect(refusalOf(date, "0000-02-29", typecast)).toBeUndefined();
    }
  });

  it("a date in a local numeric format is refused with or without typecast, naming the day(s) it can mean as YYYY-MM-DD", () => {
    // Newcomer trial: "03/11/2026" (meant 3 November) was stored as 2026-03-11 without a word, and "13/11/2026" failed
    // in the worker with Airtable's bare "cannot accept the provided value".
    const date = field("Last contact", "date");
    const at = field("Next meeting", "dateTime");
    for (const typecast of [false, true]) {
      expect(refusalOf(date, "03/11/2026", typecast)).toBe(
        'records[0].fields: "Last contact" is given "03/11/2026", a date in a local format that reads as 3 November ' +
          "2026 (day first) or 11 March 2026 (month first), and Airtable may store either. Give the one meant as " +
          'YYYY-MM-DD: "2026-11-03" or "2026-03-11".',
      );
      expect(refusalOf(date, "13/11/2026", typecast)).toBe(
        'records[0].fields: "Last contact" is given "13/11/2026", a date in a local format (day first: 13 November ' +
          `2026). Airtable's API takes YYYY-MM-DD: give "2026-11-13".`,
      );
      expect(refusalOf(date, "11/13/2026", typecast)).toContain("(month first: 13 November 2026)");
      expect(refusalOf(date, "13.11.2026", typecast)).toContain('give "2026-11-13"');
      expect(refusalOf(date, "3-11-26", typecast)).toContain(
        'taking the year as 2026, and Airtable may store either. Give the one meant as YYYY-MM-DD: "2026-11-03" or ' +
          '"2026-03-11".',
      );
      expect(refusalOf(date, "31/31/2026", typecast)).toContain("names no day in either order");
      // A time keeps its place in the suggestion for a date and time field.
      expect(refusalOf(at, "03/11/2026 9:30", typecast)).toContain(
        "Give the one meant as YYYY-MM-DDTHH:mm (read in the field's time zone; add Z or an offset for another): " +
          '"2026-11-03T09:30" or "2026-03-11T09:30".',
      );
      expect(refusalOf(at, "13/11/2026", typecast)).toContain('give "2026-11-13"');
      // ISO dates are untouched.
      expect(refusalOf(date, "2026-11-03", typecast)).toBeUndefined();
    }
    // Both orders naming the same day leave nothing to mix up: typecast may read it.
    expect(refusalOf(date, "05/05/2026", true)).toBeUndefined();
    expect(refusalOf(date, "14 March 2026", true)).toBeUndefined();
  });

  it("single select: an option's exact name (or, left to Airtable, its id); otherwise the options are listed and typecast: true named", () => {
    expect(refusalOf(stage, "Lead", false)).toBeUndefined();
    expect(refusalOf(stage, "selQual", false)).toBeUndefined();
    expect(refusalOf(stage, "Prospect", false)).toBe(
      'records[0].fields: "Prospect" is not an option of "Stage" (a single select field): its options are "Lead", ' +
        '"Qualified". Give one of them, or pass typecast: true to add "Prospect" as a new option.',
    );
    expect(refusalOf(stage, "lead", false)).toContain('"lead" is not an option'); // Airtable matches exactly
    expect(refusalOf(stage, "Prospect", true)).toBeUndefined(); // typecast creates it
    expect(refusalOf(stage, ["Lead"], true)).toContain('give an option\'s name such as "Lead"');
  });

  it("multiple select: an array of option names; each unknown one refused without typecast", () => {
    expect(refusalOf(tags, ["vip", "beta"], false)).toBeUndefined();
    expect(refusalOf(tags, ["vip", "gold"], false)).toBe(
      'records[0].fields: "gold" is not an option of "Tags" (a multiple select field): its options are "vip", ' +
        '"beta". Give one of them, or pass typecast: true to add "gold" as a new option.',
    );
    expect(refusalOf(tags, ["vip", "gold"], true)).toBeUndefined();
    expect(refusalOf(tags, "vip, beta", true)).toBeUndefined(); // Airtable splits it
    expect(refusalOf(tags, "vip", false)).toContain('give an array of option names such as ["vip"]');
  });

  it("lists at most 25 options and counts the rest", () => {
    const many = field("Country", "singleSelect", {
      choices: Array.from({ length: 40 }, (_, i) => ({ name: `C${i}` })),
    });
    const message = refusalOf(many, "Atlantis", false)!;
    expect(message).toContain('"C24" and 15 more.');
    expect(message).not.toContain('"C25"');
  });

  it.each([
    ["email", 'a string such as "ada@example.com"'],
    ["url", 'a string such as "https://example.com"'],
    ["phoneNumber", 'a string such as "+1 415 555 0100"'],
    ["singleLineText", "a string"],
  ])("%s: any string (Airtable checks no format); numbers only with typecast; never objects", (type, example) => {
    const f = field("Contact", type);
    expect(refusalOf(f, "not an email at all", false)).toBeUndefined();
    expect(refusalOf(f, 12, false)).toContain(
      `give ${example}, not 12, or pass typecast: true to let Airtable convert 12.`,
    );
    expect(refusalOf(f, 12, true)).toBeUndefined();
    expect(refusalOf(f, { a: 1 }, true)).toContain(`give ${example}`);
  });

  it("multipleRecordLinks: an array of record ids or of the linked records' primary values (resolved later)", () => {
    // Names such as "Acme" are resolved to record ids before queueing (linked-records.ts, issue 12), with or
    // without typecast; only items that are not text are refused here.
    const f = field("Company", "multipleRecordLinks", { linkedTableId: "tblCompanies000000" });
    expect(refusalOf(f, ["rec0123456789abcd"], false)).toBeUndefined();
    expect(refusalOf(f, ["Acme"], false)).toBeUndefined();
    expect(refusalOf(f, ["Acme"], true)).toBeUndefined();
    expect(refusalOf(f, "rec0123456789abcd", false)).toContain("is a link field: give");
    expect(refusalOf(f, [{ id: 1 }], true)).toBe(
      'records[0].fields: "Company" is a link field: give an array of record ids such as ["rec0123456789abcd"] ' +
        "(from list_records or search_records) or of the linked records' primary field values such as " +
        '["Acme"], not [{"id":1}]: item 0 ({"id":1}) is neither.',
    );
  });

  it("multipleAttachments: objects with a url (new) or an id (kept)", () => {
    const f = field("Files", "multipleAttachments");
    expect(refusalOf(f, [{ url: "https://example.com/a.pdf" }, { id: "att123" }], false)).toBeUndefined();
    expect(refusalOf(f, "https://example.com/a.pdf", true)).toContain(
      '"Files" is an attachment field: give an array such as [{"url"',
    );
    expect(refusalOf(f, [{ filename: "a.pdf" }], true)).toContain("is an attachment field");
  });

  it("leaves types it cannot decide to Airtable", () => {
    for (const type of ["barcode", "someFutureType"]) {
      expect(refusalOf(field("X", type), { anything: true }, false)).toBeUndefined();
    }
    // A collaborator named by id or email: whether that person is on the base is Airtable's to say.
    expect(
      refusalOf(field("X", "singleCollaborator"), { id: "usr0123456789abcd", name: "Ada" }, false),
    ).toBeUndefined();
    expect(
      refusalOf(field("X", "multipleCollaborators"), ["usr0123456789abcd", { email: "a@b.c" }], false),
    ).toBeUndefined();
  });
});

describe("through the write tools, on the demo base", () => {
  let h: ToolContextHarness;
  let runner: EmbeddedOperationRunner;
  let baseId: string;
  beforeAll(async () => {
    h = await startToolContextHarness("value-errors");
    baseId = h.demo.base.id;
    runner = new EmbeddedOperationRunner({
      store: h.operations,
      logger: h.ctx.logger,
      processorDeps: () => ({ airtable: h.ctx.airtable, schemas: h.ctx.schemas }),
    });
  });
  afterAll(async () => {
    await runner?.close();
    await h?.close();
  });

  async function refusal(promise: Promise<unknown>): Promise<string> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ToolInputError);
    return (error as Error).message;
  }

  it("every wrong value of a call is refused at once (the first 10 listed), so an agent fixes them in one more call", async () => {
    const message = await refusal(
      h.plan(createRecords, {
        baseId,
        tableId: "Contacts",
        records: [
          { fields: { Name: "A", "Last contact": "not a date", Subscribed: { on: true } } },
          { fields: { Name: "B", "Last contact": "2026-03-14" } },
          { fields: { Name: "C", "Last contact": "2026-02-30" } },
        ],
        typecast: false,
      }),
    );
    expect(message).toBe(
      "3 values cannot be written as given (2 fields); nothing was queued. Fix them all, then call again:\n" +
        '- records[0].fields: "Last contact" is a date field: give a date as YYYY-MM-DD, such as "2026-03-14", not ' +
        '"not a date". The value of "Last contact" is wrong in records[2].fields too.\n' +
        '- records[0].fields: "Subscribed" is a checkbox field: give true or false, not {"on":true}.',
    );
    // 5,000 records with one wrong field make one line, and a second wrong field is not hidden behind it.
    const many = await refusal(
      h.plan(createRecords, {
        baseId,
        tableId: "Companies",
        records: Array.from({ length: 12 }, (_, i) => ({
          fields: { Name: `N${i}`, Employees: "lots", ...(i === 11 && { Industry: 7 }) },
        })),
        typecast: false,
      }),
    );
    expect(many.split("\n")).toEqual([
      "13 values cannot be written as given (2 fields); nothing was queued. Fix them all, then call again:",
      '- records[0].fields: "Employees" is a number field: give a number such as 42, not "lots". The value of "Employees" is wrong ' +
        "in records[1].fields, records[2].fields, records[3].fields, records[4].fields, records[5].fields, … (12 " +
        "records in all) too.",
      expect.stringMatching(/^- records\[11\]\.fields: "Industry" is a single select field/),
    ]);
  });

  it("create_records refuses a wrong value before anything is queued, naming the record, the field and an example", async () => {
    const message = await refusal(
      h.plan(createRecords, {
        baseId,
        tableId: "Companies",
        records: [{ fields: { Name: "Fine", Employees: 12 } }, { fields: { Name: "Vague", Employees: "lots" } }],
      }),
    );
    expect(message).toBe('records[1].fields: "Employees" is a number field: give a number such as 42, not "lots".');
    // The same for the single-record tool, and for updates and upserts.
    expect(await refusal(h.plan(createRecord, { baseId, tableId: "Companies", fields: { Employees: "lots" } }))).toBe(
      'fields: "Employees" is a number field: give a number such as 42, not "lots".',
    );
    expect(
      await refusal(
        h.plan(updateRecords, {
          baseId,
          tableId: "Contacts",
          records: [{ id: "recAAAAAAAAAAAAAA", fields: { Subscribed: "maybe" } }],
          typecast: false,
        }),
      ),
    ).toBe(
      'records[0].fields: "Subscribed" is a checkbox field: give true or false, not "maybe", or pass typecast: ' +
        'true to let Airtable convert "maybe".',
    );
    expect(
      await refusal(
        h.plan(upsertRecords, {
          baseId,
          tableId: "Contacts",
          records: [{ fields: { Email: "a@example.com", "Last contact": "yesterday" } }],
          fieldsToMergeOn: ["Email"],
        }),
      ),
    ).toContain('"Last contact" is a date field: give a date as YYYY-MM-DD, such as "2026-03-14", not "yesterday".');
  });

  it("a select value that is not an option: refused without typecast (listing the options), written with typecast: true", async () => {
    const message = await refusal(
      h.plan(createRecords, {
        baseId,
        tableId: "Contacts",
        records: [{ fields: { Name: "Pat", Stage: "Prospect" } }],
        typecast: false,
      }),
    );
    expect(message).toBe(
      'records[0].fields: "Prospect" is not an option of "Stage" (a single select field): its options are "Lead", ' +
        '"Qualified", "Customer", "Churned". Give one of them, or pass typecast: true to add "Prospect" as a new option.',
    );

    const runWrite = createWriteRunner({ runner, operations: h.operations, waitMs: 10_000 });
    const plan = await h.plan(createRecords, {
      baseId,
      tableId: "Contacts",
      records: [{ fields: { Name: "Pat", Stage: "Prospect", Tags: ["vip", "gold"] } }],
      typecast: true,
    });
    const answer = (await runWrite(createRecords, plan, h.ctx)).structuredContent as OperationResultOutput;
    expect(answer.status).toBe("completed");
    const pat = h.sandbox.listRecordsDirect(baseId, "Contacts").find((r) => r.fields.Name === "Pat");
    expect(pat?.fields).toMatchObject({ Stage: "Prospect", Tags: ["vip", "gold"] });
  });

  it("is never stricter than Airtable: every value refused here, the sandbox refuses too", async () => {
    const cases: [table: string, fieldName: string, value: unknown][] = [
      ["Companies", "Employees", "lots"],
      ["Companies", "Employees", "1,200"],
      ["Companies", "Employees", true],
      ["Companies", "Employees", [3]],
      ["Companies", "Industry", "Aerospace"],
      ["Companies", "Industry", 7],
      ["Contacts", "Tags", ["vip", "gold"]],
      ["Contacts", "Tags", "vip"],
      ["Contacts", "Subscribed", "yes"],
      ["Contacts", "Subscribed", { on: true }],
      ["Contacts", "Last contact", "14/03/2026"],
      ["Contacts", "Last contact", "2026-03-14T10:00:00.000Z"],
      ["Contacts", "Last contact", "soon"],
      ["Contacts", "Next meeting", "tomorrow"],
      ["Contacts", "Next meeting", "2026-03-14"],
      ["Contacts", "Email", 42],
      ["Contacts", "Email", ["a@example.com"]],
      ["Contacts", "Website", { href: "https://example.com" }],
      ["Contacts", "Phone", 4155550100],
      ["Contacts", "Files", "https://example.com/a.pdf"],
      // Empty values that are not a value of the type: "" for a number, a checkbox, a date, a link; [] for text.
      ["Companies", "Employees", ""],
      ["Companies", "Employees", []],
      ["Contacts", "Subscribed", ""],
      ["Contacts", "Last contact", ""],
      ["Contacts", "Email", []],
      ["Contacts", "Files", ""],
      ["Contacts", "Files", [{ url: "example.com/a.pdf" }]],
      // A new attachment is {url, filename?}: the sandbox answers INVALID_ATTACHMENT_OBJECT for other properties
      // (Airtable's answer is not documented: the server leaves them to it, so it is never stricter here).
      ["Contacts", "Files", [{ url: "https://example.com/a.pdf", type: "application/pdf" }]],
      ["Contacts", "Files", [{ url: "https://example.com/a.pdf", filename: 7 }]],
      // A collaborator's id is looked up among ids, an email among emails.
      ["Companies", "Account manager", { id: "demo@example.com" }],
      ["Companies", "Account manager", { email: "usr0123456789abcd" }],
      // A collaborator by name: neither an id nor an email, which is all Airtable (and its typecast) looks up.
      ["Companies", "Account manager", "Demo User"],
      // Over Airtable's 100,000-character limit of text cells.
      ["Companies", "Name", "x".repeat(100_001)],
    ];
    const tables = new Map(h.demo.base.tables.map((t) => [t.name, t]));
    const schema = await h.ctx.schemas.get(h.ctx.airtable, baseId, h.ctx.userId, { fresh: true });
    let refused = 0;
    for (const typecast of [false, true]) {
      for (const [tableName, fieldName, value] of cases) {
        const f = schema.tables
          .find((t) => t.id === tables.get(tableName)!.id)!
          .fields.find((x) => x.name === fieldName)!;
        const ours = refusalOf(f, value, typecast);
        if (ours === undefined) continue;
        refused++;
        const sandbox = await h.ctx.airtable
          .createRecords(baseId, tableName, [{ fields: { [fieldName]: value } }], { typecast })
          .then(
            () => "accepted",
            (e: { type?: string }) => e.type ?? "refused",
          );
        expect(
          sandbox,
          `${tableName}.${fieldName} = ${JSON.stringify(value)} (typecast ${typecast}): ${ours}`,
        ).not.toBe("accepted");
      }
    }
    expect(refused).toBeGreaterThan(20);
    // The one refusal stricter than the sandbox: a day that does not exist, which the sandbox (like JavaScript's
    // Date) rolls over to another day under typecast. Without typecast it refuses it too.
    const lastContact = schema.tables
      .find((t) => t.id === tables.get("Contacts")!.id)!
      .fields.find((x) => x.name === "Last contact")!;
    expect(refusalOf(lastContact, "2026-02-30", false)).toContain("a day that does not exist");
    const strict = await h.ctx.airtable
      .createRecords(baseId, "Contacts", [{ fields: { "Last contact": "2026-02-30" } }], { typecast: false })
      .then(
        () => "accepted",
        (e: { type?: string }) => e.type ?? "refused",
      );
    expect(strict).not.toBe("accepted");
  });

  it("a comment or an attachment on a record that does not exist fails naming the record, not the base or table", async () => {
    const runWrite = createWriteRunner({ runner, operations: h.operations, waitMs: 10_000 });
    const missing = "recAAAAAAAAAAAAAA";
    const commented = await runWrite(
      createComment,
      await h.plan(createComment, { baseId, tableId: "Contacts", recordId: missing, text: "hello" }),
      h.ctx,
    );
    const comment = commented.structuredContent as OperationResultOutput;
    expect(comment.status).toBe("failed");
    expect(comment.message).toContain("Airtable found no such record in table");
    expect(comment.message).toContain("Check recordId with list_records or search_records");
    expect(comment.message).toContain("parentCommentId with list_comments");
    expect(comment.message).not.toContain("the base or table");
    const uploaded = await runWrite(
      uploadAttachment,
      await h.plan(uploadAttachment, {
        baseId,
        tableId: "Contacts",
        recordId: missing,
        fieldId: "Files",
        filename: "a.txt",
        contentType: "text/plain",
        file: Buffer.from("hi").toString("base64"),
      }),
      h.ctx,
    );
    const upload = uploaded.structuredContent as OperationResultOutput;
    expect(upload.status).toBe("failed");
    expect(upload.message).toContain("Airtable found no such record in table");
    expect(upload.message).not.toContain("the base or table");
  });

  it("delete results say deleted: the message and each result", async () => {
    const ids = h.sandbox
      .listRecordsDirect(baseId, "Contacts")
      .slice(0, 2)
      .map((r) => r.id);
    const runWrite = createWriteRunner({ runner, operations: h.operations, waitMs: 10_000 });
    const plan = await h.plan(deleteRecords, { baseId, tableId: "Contacts", recordIds: ids });
    const answer = (await runWrite(deleteRecords, plan, h.ctx)).structuredContent as OperationResultOutput;
    expect(answer.message).toBe("Done: 2 records deleted of 2.");
    expect(answer.results).toEqual(ids.map((id, index) => ({ index, id, action: "deleted" })));
  });

  it("a record id from another table: the item's error says ids belong to one table", async () => {
    const contact = h.sandbox.listRecordsDirect(baseId, "Contacts")[0]!.id;
    const company = h.sandbox.listRecordsDirect(baseId, "Companies")[0]!;
    const runWrite = createWriteRunner({ runner, operations: h.operations, waitMs: 10_000 });
    const plan = await h.plan(updateRecords, {
      baseId,
      tableId: "Companies",
      records: [
        { id: company.id, fields: { Name: company.fields.Name } },
        { id: contact, fields: { Name: "Wrong table" } },
      ],
    });
    const answer = (await runWrite(updateRecords, plan, h.ctx)).structuredContent as OperationResultOutput;
    expect(answer.results?.[0]).toEqual({ index: 0, id: company.id });
    // Settled by one read of which ids the table has (session 16), not by splitting the request: the wording is
    // that path's, and says which record, which table, and (session 30: looked up) the table it belongs to.
    expect(answer.results?.[1]?.error?.message).toMatch(
      new RegExp(
        `^Record ${contact} is not in table "Companies" \\(tbl\\w+\\): it is a record of table "Contacts" ` +
          "\\(tbl\\w+\\) \\(record ids belong to one table\\)",
      ),
    );
    expect(h.sandbox.listRecordsDirect(baseId, "Contacts").find((r) => r.id === contact)?.fields.Name).not.toBe(
      "Wrong table",
    );
    // A link cell naming a record its linked table lacks (422 ROW_DOES_NOT_EXIST) keeps Airtable's message, which
    // says which record: this table is not the one to search.
    const linkPlan = await h.plan(updateRecords, {
      baseId,
      tableId: "Contacts",
      records: [{ id: contact, fields: { Company: ["recAAAAAAAAAAAAAA"] } }],
      // The cell is set to that id alone, replacing the contact's company on purpose (list-cells.ts: left out, the
      // call would be refused for removing the link it holds).
      addToLists: false,
    });
    const linked = (await runWrite(updateRecords, linkPlan, h.ctx)).structuredContent as OperationResultOutput;
    expect(linked.results?.[0]?.error?.type).toBe("ROW_DOES_NOT_EXIST");
    expect(linked.results?.[0]?.error?.message).toContain("recAAAAAAAAAAAAAA");
    expect(linked.results?.[0]?.error?.message).not.toContain("record ids belong to one table");
  });
});
