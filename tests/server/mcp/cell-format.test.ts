/**
 * cellFormat "string" with timeZone and userLocale on list_records, search_records and get_record, through the real
 * MCP SDK client over HTTP against the sandbox (src/shared/tools/cell-format.ts): cells come as a person sees them in
 * Airtable (a date-time in the field's date and time format, in the field's own zone or, for a field shown in each
 * viewer's zone, in the given one; a date-only field in its format; a currency with its symbol; a link as the linked
 * record's primary value), across a cursor too; the refusals, made before any records request, name the fix. Two
 * trials asked for this; the tools used to refuse the three parameters.
 */
import { describe, expect, it } from "vitest";
import { callToolAnswer } from "../../support/mcp-test-harness.ts";
import { useMcpHarness } from "../../support/use-mcp-harness.ts";

const LONG = "x".repeat(15_000);

const mcp = useMcpHarness({
  name: "Cell formats",
  tables: [
    { name: "Companies", fields: [{ name: "Name", type: "singleLineText" }], records: [{ Name: "Acme" }] },
    {
      name: "Meetings",
      fields: [
        { name: "Name", type: "singleLineText" },
        {
          // Shown in each viewer's zone ("client"): with cellFormat string, in the request's timeZone.
          name: "Starts",
          type: "dateTime",
          options: { dateFormat: { name: "european" }, timeFormat: { name: "24hour" }, timeZone: "client" },
        },
        {
          // One zone for every collaborator: shown in it whatever the request's timeZone.
          name: "Starts in Berlin",
          type: "dateTime",
          options: { dateFormat: { name: "iso" }, timeFormat: { name: "12hour" }, timeZone: "Europe/Berlin" },
        },
        { name: "Day", type: "date", options: { dateFormat: { name: "us" } } },
        // "local": the field model's format "l", the locale's numeric date with a four-digit year.
        { name: "Local day", type: "date", options: { dateFormat: { name: "local" } } },
        { name: "Fee", type: "currency", options: { symbol: "€", precision: 2 } },
        { name: "Share", type: "percent", options: { precision: 0 } },
        { name: "Company", type: "multipleRecordLinks", options: { linkedTableId: "Companies" } },
      ],
      typecast: true,
      records: [
        {
          Name: "Kickoff",
          Starts: "2026-03-04T09:00:00.000Z",
          "Starts in Berlin": "2026-03-04T09:00:00.000Z",
          Day: "2026-03-04",
          "Local day": "2026-03-04",
          Fee: 1234.5,
          Share: 0.5,
          Company: ["Acme"],
        },
        { Name: "Review", Starts: "2026-03-05T15:30:00.000Z" },
      ],
    },
    {
      // Records of about 15 kB: an answer stops at about 40 kB, so the third is carried in the cursor.
      name: "Notes",
      fields: [
        { name: "Name", type: "singleLineText" },
        { name: "Body", type: "multilineText" },
        {
          name: "When",
          type: "dateTime",
          options: { dateFormat: { name: "iso" }, timeFormat: { name: "24hour" }, timeZone: "client" },
        },
      ],
      records: [1, 2, 3, 4].map((n) => ({ Name: `Note ${n}`, Body: LONG, When: `2026-03-0${n}T23:30:00.000Z` })),
    },
  ],
});

const call = (name: string, args: Record<string, unknown>) => callToolAnswer(mcp.client, name, args);
type Rec = { id: string; fields: Record<string, unknown> };
const STRING = { cellFormat: "string", timeZone: "America/New_York", userLocale: "en-us" };
/** Record requests (list, get) the sandbox has had for the file's base. */
const recordReads = () =>
  mcp.h.sandbox.requests.filter((r) => r.path.startsWith(`/v0/${mcp.base.id}/`) && !r.path.includes("/meta/")).length;

describe('cellFormat "string": cells as a person sees them in Airtable', () => {
  it("list_records: dates in the field's format and zone, a currency with its symbol, a link as its name", async () => {
    const listed = await call("list_records", { baseId: mcp.base.id, tableId: "Meetings", ...STRING });
    expect(listed.isError, listed.text).toBe(false);
    const kickoff = (listed.data.records as Rec[]).find((r) => r.fields.Name === "Kickoff")!;
    expect(kickoff.fields).toEqual({
      Name: "Kickoff",
      // 09:00 UTC is 04:00 in New York (EST, before the 8 March change), day/month/year.
      Starts: "4/3/2026 04:00",
      // The field's own zone, Berlin (UTC+1), in its 12-hour format.
      "Starts in Berlin": "2026-03-04 10:00am",
      Day: "3/4/2026",
      "Local day": "3/4/2026",
      Fee: "€1,234.50",
      Share: "50%",
      Company: "Acme",
    });
    // JSON stays the default: UTC instants and record ids.
    const json = await call("list_records", { baseId: mcp.base.id, tableId: "Meetings", filterByFormula: "{Fee}" });
    const raw = (json.data.records as Rec[])[0]!;
    expect(raw.fields.Starts).toBe("2026-03-04T09:00:00.000Z");
    expect(raw.fields.Company).toEqual([expect.stringMatching(/^rec/)]);
    expect(raw.fields.Fee).toBe(1234.5);
  });

  it('timeZone "UTC" (as the tools\' own help names it) is sent as "utc", the Timezone model\'s value', async () => {
    // List records types timeZone as Airtable's Timezone model ("utc", "client", IANA Region/City names:
    // https://airtable.com/developers/web/api/model/timezone); "UTC" is not one of its values. The sandbox took any
    // zone Intl knows, so the server sent "UTC" as given, which Airtable's model does not hold.
    for (const timeZone of ["UTC", "GMT", "Etc/UTC", "utc"]) {
      const listed = await call("list_records", {
        baseId: mcp.base.id,
        tableId: "Meetings",
        cellFormat: "string",
        timeZone,
        userLocale: "en-gb",
      });
      expect(listed.isError, `${timeZone}: ${listed.text}`).toBe(false);
      const kickoff = (listed.data.records as Rec[]).find((r) => r.fields.Name === "Kickoff")!;
      expect(kickoff.fields.Starts, timeZone).toBe("4/3/2026 09:00");
    }
  });

  it('a zone Intl knows by an old link name ("US/Eastern") is sent as its place; one of no place is refused', async () => {
    // Airtable's Timezone model holds "utc", "client" and Region/City names only. "US/Eastern", "Canada/Pacific" and
    // a name in another case passed the server's check and were sent as given, and Airtable (the sandbox models it)
    // answered a bare "unknown timeZone or userLocale … Check the arguments against the tool's input schema".
    const base = { baseId: mcp.base.id, tableId: "Meetings", cellFormat: "string", userLocale: "en-gb" };
    for (const [timeZone, starts] of [
      ["US/Eastern", "4/3/2026 04:00"],
      ["Canada/Pacific", "4/3/2026 01:00"],
      ["asia/kolkata", "4/3/2026 14:30"],
    ] as const) {
      const listed = await call("list_records", { ...base, timeZone });
      expect(listed.isError, `${timeZone}: ${listed.text}`).toBe(false);
      const kickoff = (listed.data.records as Rec[]).find((r) => r.fields.Name === "Kickoff")!;
      expect(kickoff.fields.Starts, timeZone).toBe(starts);
    }
    const before = recordReads();
    const etc = await call("list_records", { ...base, timeZone: "Etc/GMT+5" });
    expect(etc.isError).toBe(true);
    expect(etc.text).toBe(
      'timeZone "Etc/GMT+5" is not in Airtable\'s list of time zones, which holds "utc" and the IANA names of places ' +
        '(Region/City) only. Give an IANA name such as "Europe/Berlin", "America/New_York", "Asia/Tokyo" or "UTC" ' +
        '(not an abbreviation like "CET" or an offset like "+01:00").',
    );
    expect(recordReads()).toBe(before);
  });

  it("a field shown in one zone for all collaborators, other than the call's, is named in a note", async () => {
    // "Starts in Berlin" shows Berlin times whatever the call's zone, and its string says no zone: an agent that asked
    // for New York would tell a New Yorker 10:00am (a Berlin time) as theirs. Shown in each viewer's zone, "Starts"
    // needs no note.
    const listed = await call("list_records", { baseId: mcp.base.id, tableId: "Meetings", ...STRING });
    expect(listed.data.note).toBe(
      "Times of fields set to one time zone for all collaborators are shown in that zone, not in America/New_York: " +
        '"Starts in Berlin" in Europe/Berlin (the strings do not say so). Convert them before telling a person in ' +
        'America/New_York (cellFormat "json" gives each as a UTC instant), or say the zone.',
    );
    const found = await call("search_records", {
      baseId: mcp.base.id,
      tableId: "Meetings",
      searchTerm: "kick",
      ...STRING,
    });
    expect(found.data.note).toContain('"Starts in Berlin" in Europe/Berlin');
    // In the field's own zone, or without the field's value in the answer: nothing to say.
    const berlin = await call("list_records", {
      baseId: mcp.base.id,
      tableId: "Meetings",
      ...STRING,
      timeZone: "Europe/Berlin",
    });
    expect(berlin.isError, berlin.text).toBe(false);
    expect(berlin.data.note).toBeUndefined();
    const review = await call("list_records", {
      baseId: mcp.base.id,
      tableId: "Meetings",
      ...STRING,
      filterByFormula: '{Name} = "Review"',
    });
    expect(review.data.note).toBeUndefined();
  });

  it("get_record and search_records take it too", async () => {
    const kickoffId = mcp.h.sandbox
      .listRecordsDirect(mcp.base.id, "Meetings")
      .find((r) => r.fields.Name === "Kickoff")!.id;
    const got = await call("get_record", {
      baseId: mcp.base.id,
      tableId: "Meetings",
      recordId: kickoffId,
      cellFormat: "string",
      timeZone: "Asia/Tokyo",
      userLocale: "en-gb",
    });
    expect(got.isError, got.text).toBe(false);
    const record = got.data.record as Rec;
    // Keyed by name as always; 09:00 UTC is 18:00 in Tokyo.
    expect(record.fields.Starts).toBe("4/3/2026 18:00");
    expect(record.fields["Starts in Berlin"]).toBe("2026-03-04 10:00am");
    expect(record.fields.Company).toBe("Acme");
    expect(got.data.note).toContain('not in Asia/Tokyo: "Starts in Berlin" in Europe/Berlin');
    // A local date in the British order, day first.
    expect(record.fields["Local day"]).toBe("4/3/2026");

    const found = await call("search_records", {
      baseId: mcp.base.id,
      tableId: "Meetings",
      searchTerm: "acme",
      ...STRING,
    });
    expect(found.isError, found.text).toBe(false);
    expect((found.data.records as Rec[]).map((r) => [r.fields.Name, r.fields.Company, r.fields.Day])).toEqual([
      ["Kickoff", "Acme", "3/4/2026"],
    ]);
  });

  it("the notes on a filter work as with JSON cells: a percent compared with 40, a formula that errs for every record", async () => {
    // The formula reads the fraction (0.5) whatever the cells show ("50%").
    const percent = await call("list_records", {
      baseId: mcp.base.id,
      tableId: "Meetings",
      filterByFormula: "{Share} > 40",
      ...STRING,
    });
    expect(percent.isError, percent.text).toBe(false);
    expect(percent.data.records).toEqual([]);
    expect(percent.data.note).toContain('"Share" is a percent field, which holds a fraction (0.5 is 50 %)');
    const erring = await call("list_records", {
      baseId: mcp.base.id,
      tableId: "Meetings",
      filterByFormula: 'IS_AFTER({Starts}, "not a date")',
      ...STRING,
    });
    expect(erring.isError, erring.text).toBe(false);
    expect(erring.data.records).toEqual([]);
    expect(erring.data.note).toContain("No record matched, but this is not proof that none matches");
  });

  it("a long filter (POST listRecords) keeps timeZone and userLocale in the query string, as Airtable requires", async () => {
    const names = Array.from({ length: 560 }, (_, i) => `{Name} = "nobody ${i}"`).join(", ");
    const listed = await call("list_records", {
      baseId: mcp.base.id,
      tableId: "Meetings",
      filterByFormula: `OR(${names}, {Name} = "Review")`,
      ...STRING,
    });
    expect(listed.isError, listed.text).toBe(false);
    expect((listed.data.records as Rec[]).map((r) => r.fields.Starts)).toEqual(["5/3/2026 10:30"]);
    expect(mcp.h.sandbox.requests.some((r) => r.path.endsWith("/listRecords") && r.status === 200)).toBe(true);
  });

  it("records carried in a cursor come back as strings too, and a JSON listing's cursor is not continued as text", async () => {
    const first = await call("list_records", { baseId: mcp.base.id, tableId: "Notes", ...STRING });
    expect(first.isError, first.text).toBe(false);
    const page1 = first.data.records as Rec[];
    expect(page1.length).toBeLessThan(4);
    expect(first.data.nextCursor).toEqual(expect.any(String));
    const rest: Rec[] = [];
    let cursor = first.data.nextCursor as string | undefined;
    while (cursor !== undefined) {
      const next = await call("list_records", { baseId: mcp.base.id, tableId: "Notes", ...STRING, cursor });
      expect(next.isError, next.text).toBe(false);
      rest.push(...(next.data.records as Rec[]));
      cursor = next.data.nextCursor as string | undefined;
    }
    // 23:30 UTC is 18:30 the same day in New York, on every page.
    expect([...page1, ...rest].map((r) => r.fields.When)).toEqual([
      "2026-03-01 18:30",
      "2026-03-02 18:30",
      "2026-03-03 18:30",
      "2026-03-04 18:30",
    ]);

    const json = await call("list_records", { baseId: mcp.base.id, tableId: "Notes" });
    const asText = await call("list_records", {
      baseId: mcp.base.id,
      tableId: "Notes",
      ...STRING,
      cursor: json.data.nextCursor,
    });
    expect(asText.isError).toBe(true);
    expect(asText.text).toContain("The cursor belongs to a different query");
    const otherZone = await call("list_records", {
      baseId: mcp.base.id,
      tableId: "Notes",
      ...STRING,
      timeZone: "Europe/Berlin",
      cursor: first.data.nextCursor,
    });
    expect(otherZone.isError).toBe(true);
    // It names the arguments that differ here, so an agent that changed only the zone or locale sees which to repeat.
    expect(otherZone.text).toBe(
      "The cursor belongs to a different query. Repeat the previous call's arguments (table, view, fields, sort, " +
        "filter, search, cellFormat, timeZone, userLocale) with the cursor, or leave cursor out to start over.",
    );
  });
});

describe("cellFormat, timeZone and userLocale refused before any records request, naming the fix", () => {
  it("string without a zone or locale, an unknown zone, a malformed locale, a zone without string, expandLinks", async () => {
    const before = recordReads();
    const base = { baseId: mcp.base.id, tableId: "Meetings" };

    const noLocale = await call("list_records", { ...base, cellFormat: "string", timeZone: "Europe/Berlin" });
    expect(noLocale.isError).toBe(true);
    expect(noLocale.text).toBe(
      'cellFormat "string" needs timeZone and userLocale too (Airtable requires both: dates are shown in a zone and ' +
        "a locale's words); userLocale is missing. Give e.g. " +
        '{"cellFormat": "string", "timeZone": "Europe/Berlin", "userLocale": "en-gb"}, with the zone and locale of ' +
        "the person you will tell.",
    );

    const city = await call("search_records", { ...base, searchTerm: "a", ...STRING, timeZone: "Berlin" });
    expect(city.isError).toBe(true);
    expect(city.text).toContain('timeZone "Berlin" is not a time zone name: did you mean "Europe/Berlin"?');

    // A misspelt Region/City name is told the zone it misspells (it was told only the examples).
    const typo = await call("list_records", { ...base, ...STRING, timeZone: "Europe/Berln" });
    expect(typo.text).toContain('timeZone "Europe/Berln" is not a time zone name: did you mean "Europe/Berlin"?');
    const spaced = await call("list_records", { ...base, ...STRING, timeZone: "America/New York" });
    expect(spaced.text).toContain('did you mean "America/New_York"?');

    // Abbreviations and offsets Intl does not know either get the same refusal as those it knows, with a zone
    // (they were told only "not a time zone name").
    const abbreviation = await call("list_records", { ...base, ...STRING, timeZone: "CEST" });
    expect(abbreviation.text).toBe(
      'timeZone "CEST" is an abbreviation, not a time zone name. Give the IANA name of the person\'s place (e.g. ' +
        '"Europe/Berlin" for CEST), such as "Europe/Berlin", "America/New_York", "Asia/Tokyo" or "UTC".',
    );
    const pdt = await call("list_records", { ...base, ...STRING, timeZone: "pdt" });
    expect(pdt.text).toContain('(e.g. "America/Los_Angeles" for PDT)');
    const utcPlusOne = await call("list_records", { ...base, ...STRING, timeZone: "UTC+1" });
    expect(utcPlusOne.text).toContain('timeZone "UTC+1" is an offset, not a time zone name: an offset does not follow');

    // Intl takes these, Airtable's list of zones (Region/City names) does not, and an offset skips daylight saving
    // time: refused, naming a zone (they were sent as given, CET's times shown without a word).
    const cet = await call("list_records", { ...base, ...STRING, timeZone: "CET" });
    expect(cet.isError).toBe(true);
    expect(cet.text).toBe(
      'timeZone "CET" is an abbreviation, not a time zone name. Give the IANA name of the person\'s place (e.g. ' +
        '"Europe/Berlin" for CET), such as "Europe/Berlin", "America/New_York", "Asia/Tokyo" or "UTC".',
    );
    const offset = await call("get_record", { ...base, recordId: "rec00000000000000", ...STRING, timeZone: "+01:00" });
    expect(offset.isError).toBe(true);
    expect(offset.text).toContain('timeZone "+01:00" is an offset, not a time zone name: an offset does not follow');
    const utc = await call("list_records", { ...base, ...STRING, timeZone: "utc", maxRecords: 1 });
    expect(utc.isError, utc.text).toBe(false);

    const underscore = await call("get_record", {
      ...base,
      recordId: "rec00000000000000",
      ...STRING,
      userLocale: "en_US",
    });
    expect(underscore.isError).toBe(true);
    expect(underscore.text).toContain('userLocale "en_US" is not a locale tag: write "en-us".');

    const zoneOnly = await call("list_records", { ...base, timeZone: "Europe/Berlin" });
    expect(zoneOnly.isError).toBe(true);
    expect(zoneOnly.text).toContain(
      'timeZone applies only with cellFormat "string" (cells as text a person reads); cellFormat is json by default',
    );
    const jsonWithBoth = await call("get_record", {
      ...base,
      recordId: "rec00000000000000",
      cellFormat: "json",
      timeZone: "Europe/Berlin",
      userLocale: "de",
    });
    expect(jsonWithBoth.text).toContain('timeZone and userLocale apply only with cellFormat "string"');

    // Blank ones count as not given (clients that fill every optional argument send ""): a JSON listing.
    const blank = await call("list_records", { ...base, timeZone: "", userLocale: " ", filterByFormula: "{Fee}" });
    expect(blank.isError, blank.text).toBe(false);
    expect((blank.data.records as Rec[])[0]!.fields.Fee).toBe(1234.5);
    const blankWithString = await call("list_records", { ...base, ...STRING, timeZone: " " });
    expect(blankWithString.text).toContain("timeZone is missing");

    const expand = await call("list_records", { ...base, ...STRING, expandLinks: true });
    expect(expand.isError).toBe(true);
    expect(expand.text).toContain('expandLinks does not go with cellFormat "string"');

    // The blank-argument listing and the UTC one above are the only records reads.
    expect(recordReads()).toBe(before + 2);
  });
});
