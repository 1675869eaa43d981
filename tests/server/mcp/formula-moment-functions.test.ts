/**
 * DATETIME_PARSE, FROMNOW/TONOW, SET_LOCALE, DATETIME_FORMAT without a format and LAST_MODIFIED_TIME({field}) in an
 * agent's filterByFormula: functions of Airtable's formula field reference
 * (https://support.airtable.com/docs/formula-field-reference) the sandbox refused until session 27, so list_records
 * answered an error where Airtable answers records. Through the MCP SDK client over HTTP against the sandbox; the
 * server's own checks (formula-mistakes.ts SIGNATURES) know the same functions and counts, so nothing is refused or
 * mis-hinted before the sandbox answers.
 */
import { describe, expect, it } from "vitest";
import { callToolAnswer } from "../../support/mcp-test-harness.ts";
import { useMcpHarness } from "../../support/use-mcp-harness.ts";

const mcp = useMcpHarness({
  name: "Moment functions",
  tables: [
    {
      name: "Meetings",
      fields: [
        { name: "Title", type: "singleLineText" },
        { name: "Day", type: "date", options: { dateFormat: { name: "iso" } } },
        { name: "Written", type: "singleLineText" },
      ],
      records: [
        { Title: "Kick-off", Day: "2026-03-01", Written: "1 March 2026" },
        { Title: "Review", Day: "2026-03-05", Written: "5 March 2026" },
        { Title: "Far future", Day: "2999-01-01", Written: "1 January 2999" },
        { Title: "Undated" },
      ],
    },
  ],
});

const titles = async (filterByFormula: string): Promise<string[]> => {
  const answer = await callToolAnswer(mcp.client, "list_records", {
    baseId: mcp.base.id,
    tableId: "Meetings",
    filterByFormula,
  });
  expect(answer.isError, `${filterByFormula}: ${JSON.stringify(answer.data)}`).toBe(false);
  return (answer.data.records as { fields: { Title: string } }[]).map((r) => r.fields.Title).sort();
};

describe("list_records with the formula functions the sandbox emulates since session 27", () => {
  it("answers records for DATETIME_PARSE, FROMNOW, TONOW, SET_LOCALE, a format-less DATETIME_FORMAT", async () => {
    expect(await titles('IS_SAME(DATETIME_PARSE({Written}, "D MMMM YYYY"), {Day})')).toEqual([
      "Far future",
      "Kick-off",
      "Review",
    ]);
    expect(await titles('IS_AFTER({Day}, DATETIME_PARSE("03/03/2026", "DD/MM/YYYY"))')).toEqual([
      "Far future",
      "Review",
    ]);
    expect(await titles('LEFT(FROMNOW({Day}), 3) = "in "')).toEqual(["Far future"]);
    expect(await titles('RIGHT(TONOW({Day}), 4) = " ago"')).toEqual(["Far future"]);
    expect(await titles('DATETIME_FORMAT(SET_LOCALE({Day}, "en-gb"), "L") = "05/03/2026"')).toEqual(["Review"]);
    expect(await titles('DATETIME_FORMAT({Day}) = "2026-03-01T00:00:00Z"')).toEqual(["Kick-off"]);
    expect(await titles("LAST_MODIFIED_TIME({Day}) = BLANK()")).toEqual(["Undated"]);
  });

  it("names DATETIME_PARSE's format when it matches no record's text", async () => {
    const answer = await callToolAnswer(mcp.client, "list_records", {
      baseId: mcp.base.id,
      tableId: "Meetings",
      filterByFormula: 'IS_SAME(DATETIME_PARSE({Title}, "YYYY-MM-DD"), {Day})',
    });
    expect(answer.isError).toBe(false);
    expect(answer.data.records).toEqual([]);
    expect(answer.data.note).toContain("filterByFormula is an error (#ERROR!) for every record");
    expect(answer.data.note).toContain("SET_TIMEZONE and SET_LOCALE only inside DATETIME_FORMAT");
    expect(answer.data.note).toContain("a DATETIME_PARSE format that matches the text");
  });

  it("names DATETIME_PARSE's third argument, a locale, when an agent gives it a time zone", async () => {
    // "Midnight in Berlin" as DATETIME_PARSE(text, format, "Europe/Berlin"): the format matches, the third argument
    // is a locale (formula field reference), so the note must point at it and say where the zone goes.
    const answer = await callToolAnswer(mcp.client, "list_records", {
      baseId: mcp.base.id,
      tableId: "Meetings",
      filterByFormula: 'DATETIME_PARSE("2026-03-01 00:00", "YYYY-MM-DD HH:mm", "Europe/Berlin") <= {Day}',
    });
    expect(answer.isError).toBe(false);
    expect(answer.data.records).toEqual([]);
    expect(answer.data.note).toContain(
      'and a locale ("en-gb") as its third argument, not a time zone (give the zone\'s offset in the text: ' +
        'DATETIME_PARSE("2026-12-04 00:00 +01:00", "YYYY-MM-DD HH:mm Z"))',
    );
    // What the note proposes is answered.
    const offset = await callToolAnswer(mcp.client, "list_records", {
      baseId: mcp.base.id,
      tableId: "Meetings",
      filterByFormula: 'DATETIME_PARSE("2026-03-01 00:00 +01:00", "YYYY-MM-DD HH:mm Z") <= {Day}',
    });
    expect(offset.isError, JSON.stringify(offset.data)).toBe(false);
    expect((offset.data.records as unknown[]).length).toBeGreaterThan(0);
  });
});
