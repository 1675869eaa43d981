/**
 * DATETIME_PARSE, TONOW, FROMNOW, SET_LOCALE, DATETIME_FORMAT's default format and LAST_MODIFIED_TIME({field}, …),
 * the forms of Airtable's formula field reference (https://support.airtable.com/docs/formula-field-reference) the
 * sandbox refused until session 27. Airtable computes them with moment.js ("Airtable uses Moment.js tokens for date parsing and
 * formatting"), so the expectations are moment's: its forgiving parser, its English relative times, its locales'
 * long date formats. Where the reference is silent the sandbox's choice is a guess, named as such in
 * src/sandbox/formula/moment-functions.ts and the README's sandbox section.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { seedDemo, type DemoData } from "../../src/sandbox/demo-data.ts";
import { compileFormula, type FormulaField, type FormulaRecord } from "../../src/sandbox/formula.ts";
import { fixture, sleep, type Fixture } from "./test-helpers.ts";

const FIELDS: FormulaField[] = [
  { name: "At", type: "dateTime" },
  { name: "Due", type: "date" },
  { name: "Text", type: "singleLineText" },
  { name: "Empty", type: "singleLineText" },
];

const RECORD: FormulaRecord = {
  id: "recMOMENT0000001",
  createdTime: "2026-01-01T00:00:00.000Z",
  // A Tuesday evening in UTC (19:45 in Berlin, 14:45 in Toronto).
  fields: { At: "2026-03-10T18:45:07.089Z", Due: "2026-03-15", Text: "4 Mar 2017 23:00" },
};

const ERROR = { error: "#ERROR!" };
const evaluate = (formula: string): unknown => compileFormula(formula, FIELDS).evaluate(RECORD);

describe("DATETIME_PARSE", () => {
  afterEach(() => vi.useRealTimers());

  it.each<[string, unknown]>([
    // The reference's example: DATETIME_PARSE("4 Mar 2017 23:00", 'D MMM YYYY HH:mm') is March 4, 2017 11:00pm.
    [`DATETIME_PARSE("4 Mar 2017 23:00", 'D MMM YYYY HH:mm')`, "2017-03-04T23:00:00.000Z"],
    [`DATETIME_PARSE({Text}, 'D MMM YYYY HH:mm')`, "2017-03-04T23:00:00.000Z"],
    [`DATETIME_PARSE("Saturday, 4 March 2017", "dddd, D MMMM YYYY")`, "2017-03-04T00:00:00.000Z"],
    [`DATETIME_PARSE("12/31/25 3:05 pm", "MM/DD/YY h:mm a")`, "2025-12-31T15:05:00.000Z"],
    [`DATETIME_PARSE("12 AM 1/2/1969", "h A M/D/YYYY")`, "1969-01-02T00:00:00.000Z"],
    // Two-digit years: above 68 is the 1900s (moment's parseTwoDigitYear).
    [`DATETIME_PARSE("01.02.69", "DD.MM.YY")`, "1969-02-01T00:00:00.000Z"],
    [`DATETIME_PARSE("01.02.68", "DD.MM.YY")`, "2068-02-01T00:00:00.000Z"],
    // Forgiving: other separators than the format's, a letter that is no token ("T") read as a literal.
    [`DATETIME_PARSE("2020/01/05", "YYYY-MM-DD")`, "2020-01-05T00:00:00.000Z"],
    [`DATETIME_PARSE("2021-03-04T10:00:00+02:00", "YYYY-MM-DDTHH:mm:ssZ")`, "2021-03-04T08:00:00.000Z"],
    [`DATETIME_PARSE("2021-03-04 10:00:00.25", "YYYY-MM-DD HH:mm:ss.SS")`, "2021-03-04T10:00:00.250Z"],
    [`DATETIME_PARSE("1614816000", "X")`, "2021-03-04T00:00:00.000Z"],
    [`DATETIME_PARSE("Q2 2026", "[Q]Q YYYY")`, "2026-04-01T00:00:00.000Z"],
    // The locale's long formats: L is MM/DD/YYYY in English, DD/MM/YYYY in British English.
    [`DATETIME_PARSE("04/03/2021", "L")`, "2021-04-03T00:00:00.000Z"],
    [`DATETIME_PARSE("04/03/2021", "L", "en-gb")`, "2021-03-04T00:00:00.000Z"],
    // Without a format: ISO as the date functions read it (UTC), other text as Date reads it, in UTC.
    [`DATETIME_PARSE("2026-03-10")`, "2026-03-10T00:00:00.000Z"],
    [`DATETIME_PARSE("2026-03-10T08:00")`, "2026-03-10T08:00:00.000Z"],
    [`DATETIME_PARSE("March 4, 2017 10:30")`, "2017-03-04T10:30:00.000Z"],
    [`DATETIME_PARSE("Mar 4 2017 10:00 GMT+0200")`, "2017-03-04T08:00:00.000Z"],
    // Blank, no date, an impossible date, a weekday that is not the date's, a language not emulated: #ERROR!.
    [`DATETIME_PARSE({Empty})`, ERROR],
    [`DATETIME_PARSE("")`, ERROR],
    [`DATETIME_PARSE("soon")`, ERROR],
    [`DATETIME_PARSE("hello", "YYYY")`, ERROR],
    [`DATETIME_PARSE("31 February 2021", "D MMMM YYYY")`, ERROR],
    [`DATETIME_PARSE("25:10", "HH:mm")`, ERROR],
    [`DATETIME_PARSE("Friday 4 March 2021", "dddd D MMMM YYYY")`, ERROR],
    // Since session 28 a locale other than English is read (its names: formula-moment.test.ts "SET_LOCALE in other
    // languages"); one Airtable does not list is still #ERROR!.
    [`DATETIME_PARSE("04.03.2021", "DD.MM.YYYY", "fr")`, "2021-03-04T00:00:00.000Z"],
    [`DATETIME_PARSE("04.03.2021", "DD.MM.YYYY", "xx")`, ERROR],
    [`DATETIME_PARSE("2021 5", "YYYY w")`, ERROR],
  ])("%s → %j", (formula, expected) => {
    expect(evaluate(formula)).toEqual(expected);
  });

  it("defaults the parts not given as moment does: today, this month, this year, January 1", () => {
    vi.useFakeTimers({ now: new Date("2026-07-20T12:00:00.000Z"), toFake: ["Date"] });
    expect(evaluate(`DATETIME_PARSE("10:30", "HH:mm")`)).toBe("2026-07-20T10:30:00.000Z");
    // 24:00 is the end of the day: the next day's midnight (moment allows hour 24 only at 24:00:00).
    expect(evaluate(`DATETIME_PARSE("24:00", "HH:mm")`)).toBe("2026-07-21T00:00:00.000Z");
    expect(evaluate(`DATETIME_PARSE("5", "D")`)).toBe("2026-07-05T00:00:00.000Z");
    expect(evaluate(`DATETIME_PARSE("March", "MMMM")`)).toBe("2026-03-01T00:00:00.000Z");
    expect(evaluate(`DATETIME_PARSE("1999", "YYYY")`)).toBe("1999-01-01T00:00:00.000Z");
  });

  it("gives a date other date functions take", () => {
    expect(evaluate(`DATETIME_DIFF(DATETIME_PARSE("15/03/2026", "DD/MM/YYYY"), {Due}, "days")`)).toBe(0);
    expect(evaluate(`IS_AFTER(DATETIME_PARSE("11 Mar 2026", "D MMM YYYY"), {At})`)).toBe(true);
  });
});

describe("FROMNOW and TONOW", () => {
  afterEach(() => vi.useRealTimers());

  it.each<[number, string, string]>([
    // [milliseconds from now, FROMNOW, TONOW] with moment's thresholds and words.
    [0, "a few seconds ago", "a few seconds ago"],
    [30_000, "in a few seconds", "a few seconds ago"],
    [-90_000, "2 minutes ago", "in 2 minutes"],
    [-60 * 60_000, "an hour ago", "in an hour"],
    [3 * 3_600_000, "in 3 hours", "3 hours ago"],
    [-3 * 86_400_000, "3 days ago", "in 3 days"],
    [-26 * 86_400_000, "a month ago", "in a month"],
    [100 * 86_400_000, "in 3 months", "3 months ago"],
    [-400 * 86_400_000, "a year ago", "in a year"],
    [-3 * 365 * 86_400_000, "3 years ago", "in 3 years"],
  ])("%i ms from now: FROMNOW %s, TONOW %s", (offset, fromNow, toNow) => {
    const now = new Date("2026-07-20T12:00:00.000Z");
    vi.useFakeTimers({ now, toFake: ["Date"] });
    const date = new Date(now.getTime() + offset).toISOString();
    expect(evaluate(`FROMNOW("${date}")`)).toBe(fromNow);
    expect(evaluate(`TONOW("${date}")`)).toBe(toNow);
  });

  it("is #ERROR! for a blank date or text that is no date", () => {
    expect(evaluate("FROMNOW({Empty})")).toEqual(ERROR);
    expect(evaluate('TONOW("soon")')).toEqual(ERROR);
  });
});

describe("SET_LOCALE and DATETIME_FORMAT", () => {
  it.each<[string, unknown]>([
    [`DATETIME_FORMAT(SET_LOCALE({At}, "en-gb"), "LLLL")`, "Tuesday, 10 March 2026 18:45"],
    [`DATETIME_FORMAT(SET_LOCALE({At}, "en-gb"), "L LT")`, "10/03/2026 18:45"],
    [`DATETIME_FORMAT(SET_LOCALE({At}, "EN_GB"), "l")`, "10/3/2026"],
    [`DATETIME_FORMAT(SET_LOCALE({At}, "en-au"), "LLL")`, "10 March 2026 6:45 PM"],
    [`DATETIME_FORMAT(SET_LOCALE({At}, "en"), "LLLL")`, "Tuesday, March 10, 2026 6:45 PM"],
    // Either nesting with SET_TIMEZONE.
    [`DATETIME_FORMAT(SET_LOCALE(SET_TIMEZONE({At}, "Europe/Berlin"), "en-gb"), "LLL")`, "10 March 2026 19:45"],
    [`DATETIME_FORMAT(SET_TIMEZONE(SET_LOCALE({At}, "en-ca"), "America/Toronto"), "L LT")`, "2026-03-10 2:45 PM"],
    // Locale weeks: en-gb's start on Monday with ISO numbering (e is the day of that week), en's on Sunday.
    [`DATETIME_FORMAT(SET_LOCALE({Due}, "en-gb"), "e w")`, "6 11"],
    [`DATETIME_FORMAT({Due}, "e w")`, "0 12"],
    // Another language (written since session 28: "SET_LOCALE in other languages" below); a language whose digits
    // the sandbox does not write, a code that is no locale, SET_LOCALE anywhere else: #ERROR!.
    [`DATETIME_FORMAT(SET_LOCALE({At}, "fr"), "LLLL")`, "mardi 10 mars 2026 18:45"],
    [`DATETIME_FORMAT(SET_LOCALE({At}, "ar"), "LLLL")`, ERROR],
    // moment's gu and kn write Gujarati and Kannada digits (their postformat), which the sandbox does not.
    [`DATETIME_FORMAT(SET_LOCALE({At}, "gu"), "L")`, ERROR],
    [`DATETIME_FORMAT(SET_LOCALE({At}, "kn"), "L")`, ERROR],
    [`DATETIME_FORMAT(SET_LOCALE({At}, "xx-yy"), "L")`, ERROR],
    [`SET_LOCALE({At}, "en-gb")`, ERROR],
    [`DATETIME_FORMAT(DATEADD(SET_LOCALE({At}, "en-gb"), 1, "days"), "L")`, ERROR],
  ])("%s → %j", (formula, expected) => {
    expect(evaluate(formula)).toEqual(expected);
  });

  it("writes moment's default ISO format when DATETIME_FORMAT has no format", () => {
    expect(evaluate("DATETIME_FORMAT({At})")).toBe("2026-03-10T18:45:07Z");
    expect(evaluate('DATETIME_FORMAT({At}, "")')).toBe("2026-03-10T18:45:07Z");
    expect(evaluate('DATETIME_FORMAT(SET_TIMEZONE({At}, "Europe/Berlin"))')).toBe("2026-03-10T19:45:07+01:00");
    expect(evaluate('DATETIME_FORMAT(SET_TIMEZONE({At}, "Europe/London"))')).toBe("2026-03-10T18:45:07Z");
  });
});

describe("filterByFormula with DATETIME_PARSE, FROMNOW, SET_LOCALE (HTTP, the demo base)", () => {
  let f: Fixture;
  let demo: DemoData;
  const list = async (formula: string): Promise<{ id: string; fields: Record<string, unknown> }[]> => {
    const r = await f.call(
      "POST",
      `/v0/${demo.base.id}/Contacts/listRecords`,
      { filterByFormula: formula },
      demo.token,
    );
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.records;
  };
  const ids = (records: { id: string }[]): string[] => records.map((r) => r.id).sort();

  beforeEach(async () => {
    f = await fixture({ perBaseRps: 10_000, perTokenRps: 10_000 });
    demo = seedDemo(f.sandbox);
  });
  afterEach(() => f.sandbox.close());

  it("answers formulas using them instead of refusing them as not emulated", async () => {
    const before = await list('IS_BEFORE({Next meeting}, "2026-12-03")');
    expect(before.length).toBeGreaterThan(0);
    expect(ids(await list('IS_BEFORE({Next meeting}, DATETIME_PARSE("03/12/2026", "DD/MM/YYYY"))'))).toEqual(
      ids(before),
    );
    // A round trip through text: every record with a meeting, none without (a blank date is #ERROR!, left out).
    const withMeeting = await list("{Next meeting}");
    expect(
      ids(
        await list(
          'IS_SAME(DATETIME_PARSE(DATETIME_FORMAT({Next meeting}, "D MMM YYYY HH:mm"), "D MMM YYYY HH:mm"), {Next meeting})',
        ),
      ),
    ).toEqual(ids(withMeeting));
    const past = await list("IS_BEFORE({Last contact}, NOW())");
    expect(past.length).toBeGreaterThan(0);
    expect(ids(await list('RIGHT(FROMNOW({Last contact}), 3) = "ago"'))).toEqual(ids(past));
    expect(ids(await list('LEFT(TONOW({Last contact}), 3) = "in "'))).toEqual(ids(past));
    const december1 = await list('DATETIME_FORMAT(SET_LOCALE({Next meeting}, "en-gb"), "L") = "01/12/2026"');
    expect(december1.map((r) => r.fields["Next meeting"])).toEqual(["2026-12-01T15:30:00.000Z"]);
    expect(await list('DATETIME_FORMAT({Next meeting}) = "2026-12-01T15:30:00Z"')).toHaveLength(1);
  });
});

describe("SET_LOCALE in other languages (HTTP)", () => {
  // Airtable's "Supported SET_LOCALE modifiers" (https://support.airtable.com/docs/supported-locale-modifiers-for-set-locale):
  // a locale changes "Month and weekday names … for 'es' (Spanish), Wednesday => Miércoles" and the "Long date
  // format". The sandbox writes them with Node's Intl (src/sandbox/formula/moment-locales.ts); until session 28 every
  // language but English was #ERROR!.
  let f: Fixture;
  beforeEach(async () => {
    f = await fixture({ perBaseRps: 10_000, perTokenRps: 10_000 });
  });
  afterEach(() => f.sandbox.close());

  it("writes month and weekday names and long formats of the locale, reads them back, and refuses a code Airtable lacks", async () => {
    const base = f.sandbox.createBase(f.user.id, {
      name: "Locales",
      tables: [
        {
          name: "Events",
          fields: [
            { name: "Name", type: "singleLineText" },
            {
              name: "At",
              type: "dateTime",
              options: { dateFormat: { name: "iso" }, timeFormat: { name: "24hour" }, timeZone: "utc" },
            },
            { name: "German", type: "formula", options: { formula: "DATETIME_FORMAT(SET_LOCALE({At}, 'de'), 'LL')" } },
            {
              name: "German long",
              type: "formula",
              options: { formula: "DATETIME_FORMAT(SET_LOCALE({At}, 'de'), 'LLLL')" },
            },
            {
              name: "Spanish day",
              type: "formula",
              options: { formula: "DATETIME_FORMAT(SET_LOCALE({At}, 'es'), 'dddd D [de] MMMM')" },
            },
            {
              name: "Russian day",
              type: "formula",
              options: { formula: "DATETIME_FORMAT(SET_LOCALE({At}, 'ru'), 'D MMMM')" },
            },
            {
              name: "Russian month",
              type: "formula",
              options: { formula: "DATETIME_FORMAT(SET_LOCALE({At}, 'ru'), 'MMMM YYYY')" },
            },
            {
              name: "Klingon",
              type: "formula",
              options: { formula: "DATETIME_FORMAT(SET_LOCALE({At}, 'xx-klingon'), 'LL')" },
            },
          ],
          // Wednesday 2026-12-02, 15:30 UTC.
          records: [{ Name: "Kickoff", At: "2026-12-02T15:30:00.000Z" }],
        },
      ],
    });
    const path = `/v0/${base.id}/Events`;
    const [record] = (await f.call("GET", path)).body.records;
    expect(record.fields).toMatchObject({
      German: "2. Dezember 2026",
      "German long": "Mittwoch, 2. Dezember 2026 15:30",
      "Spanish day": "miércoles 2 de diciembre",
      // A month after a day in its format (genitive) form, without one in its standalone form, as moment chooses.
      "Russian day": "2 декабря",
      "Russian month": "декабрь 2026",
      Klingon: { error: "#ERROR!" },
    });
    const text = (await f.call("GET", `${path}?cellFormat=string&timeZone=Europe%2FBerlin&userLocale=de`)).body;
    expect(text.records[0].fields.German).toBe("2. Dezember 2026");

    const matching = async (formula: string): Promise<string[]> => {
      const r = await f.call("POST", `${path}/listRecords`, { filterByFormula: formula });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return r.body.records.map((x: { fields: { Name: string } }) => x.fields.Name);
    };
    // German month names are read back, in any case; a weekday that is not the date's is not a date.
    expect(await matching(`IS_SAME(DATETIME_PARSE("2. Dezember 2026 15:30", "LLL", "de"), {At})`)).toEqual(["Kickoff"]);
    expect(
      await matching(`IS_SAME(DATETIME_PARSE("mittwoch, 2. DEZEMBER 2026", "dddd, D. MMMM YYYY", "de"), {At}, "day")`),
    ).toEqual(["Kickoff"]);
    expect(
      await matching(`IS_SAME(DATETIME_PARSE("Montag, 2. Dezember 2026", "dddd, D. MMMM YYYY", "de"), {At}, "day")`),
    ).toEqual([]);
    expect(await matching(`IS_SAME(DATETIME_PARSE("2 Dezember 2026", "D MMMM YYYY", "tlh"), {At}, "day")`)).toEqual([]);
  });
});

describe("LAST_MODIFIED_TIME({field}, …) (HTTP)", () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await fixture({ perBaseRps: 10_000, perTokenRps: 10_000 });
  });
  afterEach(() => f.sandbox.close());

  it("is the latest change of the named fields' cells, blank when none of them was changed", async () => {
    const created = await f.call("POST", `/v0/${f.base.id}/Tasks`, {
      records: [{ fields: { Name: "edited later" } }, { fields: { Name: "left alone", Count: 1 } }],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const [edited, alone] = created.body.records as { id: string }[];
    await sleep(20);
    const patched = await f.call("PATCH", `/v0/${f.base.id}/Tasks`, {
      records: [{ id: edited?.id, fields: { Count: 2 } }],
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    const list = async (formula: string): Promise<string[]> => {
      const r = await f.call("POST", `/v0/${f.base.id}/Tasks/listRecords`, { filterByFormula: formula });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return (r.body.records as { fields: { Name: string } }[]).map((rec) => rec.fields.Name).sort();
    };
    // (CREATED_TIME() has its milliseconds zeroed, as Airtable's createdTime, so the cells' times are compared.)
    expect(await list("IS_AFTER(LAST_MODIFIED_TIME({Count}), LAST_MODIFIED_TIME({Name}))")).toEqual(["edited later"]);
    expect(await list("IS_SAME(LAST_MODIFIED_TIME({Name}, {Count}), LAST_MODIFIED_TIME({Count}))")).toEqual([
      "edited later",
      "left alone",
    ]);
    expect(await list("IS_SAME(LAST_MODIFIED_TIME({Count}, {Name}), LAST_MODIFIED_TIME({Name}))")).toEqual([
      "left alone",
    ]);
    expect(await list("LAST_MODIFIED_TIME({Done}) = BLANK()")).toEqual(["edited later", "left alone"]);
    expect(await list('IS_AFTER(LAST_MODIFIED_TIME(), "2000-01-01")')).toEqual(["edited later", "left alone"]);
    // Anything but a field reference is #ERROR! (no record), not a refused formula.
    expect(await list('LAST_MODIFIED_TIME("Count")')).toEqual([]);
    expect(alone).toBeDefined();
  });
});
