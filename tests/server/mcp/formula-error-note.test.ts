/**
 * Airtable's list records leaves out every record whose filterByFormula "is … #Error!"
 * (https://airtable.com/developers/web/api/list-records, filterByFormula), so a formula Airtable accepts but that is an
 * error for every record answers an empty list, which an agent reports as "nothing matches": `IS_AFTER({Due}, "not a
 * date")`, a DATETIME_DIFF unit Airtable does not know, SET_TIMEZONE outside DATETIME_FORMAT. An empty first answer of
 * a filtered list_records now says so in its note, naming a record where the formula is an error. Through the MCP SDK
 * client over HTTP against the sandbox.
 */
import { describe, expect, it } from "vitest";
import { callToolAnswer } from "../../support/mcp-test-harness.ts";
import { useMcpHarness } from "../../support/use-mcp-harness.ts";

const mcp = useMcpHarness({
  name: "Formula errors",
  tables: [
    {
      name: "Meetings",
      fields: [
        { name: "Title", type: "singleLineText" },
        { name: "Day", type: "date", options: { dateFormat: { name: "iso" } } },
        { name: "Status", type: "singleSelect", options: { choices: [{ name: "Open" }, { name: "Done" }] } },
        { name: "Confidence", type: "percent", options: { precision: 0 } },
        { name: "Top 10 share", type: "percent", options: { precision: 0 } },
      ],
      views: [{ name: "Done only", filter: '{Status} = "Done"' }],
      records: [
        { Title: "Kick-off", Day: "2026-03-01", Status: "Open", Confidence: 0.3 },
        { Title: "Review", Day: "2026-03-05", Status: "Done", Confidence: 0.8 },
        { Title: "Undated", Status: "Open" },
      ],
    },
  ],
});

const list = (args: Record<string, unknown>) =>
  callToolAnswer(mcp.client, "list_records", { baseId: mcp.base.id, tableId: "Meetings", ...args });

describe("an empty list_records answer whose formula is an error for records", () => {
  it("says that the formula is an error, with a record where it is, instead of an unexplained empty list", async () => {
    for (const formula of [
      'IS_AFTER({Day}, "not a date")',
      "DATETIME_DIFF({Day}, TODAY(), 'fortnights') > 1",
      "IS_SAME(SET_TIMEZONE({Day}, 'Europe/Berlin'), '2026-03-01', 'day')",
    ]) {
      const answer = await list({ filterByFormula: formula });
      expect(answer.isError, formula).toBe(false);
      expect(answer.data.records, formula).toEqual([]);
      expect(answer.data.note, formula).toMatch(
        /^No record matched, but this is not proof that none matches: filterByFormula is an error \(#ERROR!\) for every record, e\.g\. rec[A-Za-z0-9]{14} \("(Kick-off|Review|Undated)"\), and Airtable leaves out every record whose formula is an error/,
      );
      expect(answer.data.note, formula).toContain(`filterByFormula ISERROR(${formula}).`);
    }
  });

  it("names a record of the view when the listing is of a view", async () => {
    const answer = await list({ view: "Done only", filterByFormula: 'IS_AFTER({Day}, "not a date")' });
    expect(answer.data.records).toEqual([]);
    expect(answer.data.note).toContain('("Review")');
  });

  it("an error for some records only (an empty date): says so, not that the formula is wrong", async () => {
    const answer = await list({ filterByFormula: 'IS_AFTER({Day}, "2030-01-01")' });
    expect(answer.data.records).toEqual([]);
    expect(answer.data.note).toMatch(
      /^No record matched\. For some records filterByFormula is an error \(#ERROR!\) rather than false, e\.g\. rec[A-Za-z0-9]{14} \("Undated"\), and Airtable leaves those out; this is most often a function given an empty cell/,
    );
    expect(answer.data.note).not.toContain("not proof");
  });

  it("adds nothing when the formula simply matches no record, or matches some", async () => {
    const none = await list({ filterByFormula: '{Title} = "Nobody"' });
    expect(none.data.records).toEqual([]);
    expect(none.data.note).toBeUndefined();
    const some = await list({ filterByFormula: 'IS_AFTER({Day}, "2026-03-02")' });
    expect((some.data.records as { fields: { Title: string } }[]).map((r) => r.fields.Title)).toEqual(["Review"]);
    expect(some.data.note).toBeUndefined();
  });
});

describe("what the check for an error costs", () => {
  const listRequestsSince = (since: number) =>
    mcp.h.sandbox.requests.filter((r) => r.baseId === mcp.base.id && r.method === "GET" && r.time >= since).length;

  it('a plain lookup that finds nothing ({Title} = "…") costs one Airtable request, not a second for ISERROR', async () => {
    for (const formula of ['{Title} = "Nobody (EU)"', 'AND(LOWER({Title}) = "x/y", NOT({Status} = "Done"))']) {
      await list({ filterByFormula: "TRUE()" }); // the schema is cached: only the listing's own requests follow
      const since = performance.timeOrigin + performance.now();
      const answer = await list({ filterByFormula: formula });
      expect(answer.data.records, formula).toEqual([]);
      expect(answer.data.note, formula).toBeUndefined();
      expect(listRequestsSince(since), formula).toBe(1);
    }
  });

  it("a formula calling a date function is still checked when its answer is empty", async () => {
    await list({ filterByFormula: "TRUE()" });
    const since = performance.timeOrigin + performance.now();
    const answer = await list({ filterByFormula: 'IS_AFTER({Day}, "not a date")' });
    expect(answer.data.note).toMatch(/^No record matched, but this is not proof/);
    // The listing, ISERROR(…) (a failing record), NOT(ISERROR(…)) (none: an error for every record).
    expect(listRequestsSince(since)).toBe(3);
  });
});

describe("a formula comparing a percent field with a whole percent", () => {
  it("notes that the field holds a fraction, whether the answer is empty or holds every record", async () => {
    const none = await list({ filterByFormula: "{Confidence} > 50" });
    expect(none.data.records).toEqual([]);
    expect(none.data.note).toBe(
      '"Confidence" is a percent field, which holds a fraction (0.5 is 50 %): {Confidence} > 50 compares with ' +
        "5,000 % (for 50 %, write {Confidence} > 0.5).",
    );
    const every = await list({ filterByFormula: "OR({Confidence} < 50, 10 < {Confidence})" });
    expect((every.data.records as unknown[]).length).toBe(3);
    expect(every.data.note).toBe(
      '"Confidence" is a percent field, which holds a fraction (0.5 is 50 %): {Confidence} < 50 compares with ' +
        "5,000 % (for 50 %, write {Confidence} < 0.5), 10 < {Confidence} compares with 1,000 % (for 10 %, write " +
        "0.1 < {Confidence}).",
    );
    // As the note says: the fraction finds the record.
    const meant = await list({ filterByFormula: "{Confidence} > 0.5" });
    expect((meant.data.records as { fields: { Title: string } }[]).map((r) => r.fields.Title)).toEqual(["Review"]);
    expect(meant.data.note).toBeUndefined();
  });

  it("adds nothing when the field is scaled to a whole percent in the formula (100 * {Confidence} > 50)", async () => {
    for (const formula of [
      "100 * {Confidence} > 50",
      "{Confidence} * 100 > 50",
      "50 < {Confidence} * 100",
      "50 < 100*{Confidence}",
      "{Confidence} > 50 / 100",
    ]) {
      const answer = await list({ filterByFormula: formula });
      expect(
        (answer.data.records as { fields: { Title: string } }[]).map((r) => r.fields.Title),
        formula,
      ).toEqual(["Review"]);
      expect(answer.data.note, formula).toBeUndefined();
    }
  });

  it("writes the fraction in place of the number compared, not of the same digits in the field's name", async () => {
    const answer = await list({ filterByFormula: "{Top 10 share} > 10" });
    expect(answer.data.note).toBe(
      '"Top 10 share" is a percent field, which holds a fraction (0.5 is 50 %): {Top 10 share} > 10 compares with ' +
        "1,000 % (for 10 %, write {Top 10 share} > 0.1).",
    );
  });
});
