/**
 * What an agent's trial (h-agent33) on a project tracker (Projects, Tasks, People: links both ways, a rollup, a
 * count, a lookup, a formula, selects, collaborators, rating, percent, duration, dates, attachments) found saying too
 * little or needing more calls than it should, through the real MCP SDK client over HTTP against the sandbox:
 * - a duration given as people write it, `"Time spent": "2h"` or `"90 minutes"`: typecast (on by default) sent it,
 *   and the record failed inside the operation with a generic "a number of seconds for a duration"; the agent had to
 *   work out the seconds and call again. Such text is now refused before anything is queued, naming the seconds to
 *   send (7200, 5400), as "$1,200.50" names 1200.5 (check-values.ts checkDurationText);
 * - a due date named in part, `"Due": "Mar 2027"` or `"March 15"`: typecast sent it and the sandbox's parser wrote
 *   2027-03-01 and 2001-03-15 without a word (a day, or a year, nobody gave). Such text is now refused before
 *   queueing, naming the days it may mean (check-values.ts checkPartialDate);
 * - a link cell given another table's record id (a People id in Tasks' "Project"): the failed record's error said
 *   "deleted, or an id of another table", and the agent had to search the base for it. The processor now looks the id
 *   up (as it does an update's own missing id) and names the table holding it (missing-records.ts missingLinkMessage);
 * - list_records with `sort: "Time spent desc"`, as SQL or a spreadsheet writes it: the refusal's example was
 *   `[{"field": "Time spent desc", "direction": "asc"}]`, a field the table lacks, so the call made from it was refused
 *   too; the example now splits the direction off (listing.ts sortListIssues).
 */
import { describe, expect, it } from "vitest";
import { callToolAnswer, invalidArguments } from "../../support/mcp-test-harness.ts";
import { useMcpHarness } from "../../support/use-mcp-harness.ts";

const mcp = useMcpHarness({
  name: "Project tracker",
  tables: [
    { name: "People", fields: [{ name: "Name", type: "singleLineText" }], records: [{ Name: "Ana Lima" }] },
    { name: "Projects", fields: [{ name: "Name", type: "singleLineText" }], records: [{ Name: "Website" }] },
    {
      name: "Tasks",
      fields: [
        { name: "Title", type: "singleLineText" },
        { name: "Project", type: "multipleRecordLinks", options: { linkedTableId: "Projects" } },
        { name: "Assignees", type: "multipleRecordLinks", options: { linkedTableId: "People" } },
        { name: "Time spent", type: "duration", options: { durationFormat: "h:mm" } },
        { name: "Due", type: "date", options: { dateFormat: { name: "iso" } } },
        {
          name: "Review at",
          type: "dateTime",
          options: { dateFormat: { name: "iso" }, timeFormat: { name: "24hour" }, timeZone: "utc" },
        },
      ],
    },
  ],
});

const call = (name: string, args: Record<string, unknown>) => callToolAnswer(mcp.client, name, args);
const tasks = () => mcp.h.sandbox.listRecordsDirect(mcp.base.id, "Tasks");

describe("a duration given in hours or minutes as text", () => {
  it('"2h" and "1h 30m": refused before queueing, naming 7200 and 5400 seconds', async () => {
    const answer = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      records: [
        { fields: { Title: "Fix login", "Time spent": "2h" } },
        { fields: { Title: "Write docs", "Time spent": "1h 30m" } },
      ],
    });
    expect(answer.isError).toBe(true);
    expect(answer.text).toContain(
      'records[0].fields: "Time spent" is a duration field: give the number 7200 (a JSON number of seconds: a ' +
        'duration cell holds seconds, 7200 is 2:00), not the text "2h". How Airtable\'s typecast reads units such ' +
        'as "h" or "minutes" is not documented, so such text is not sent with typecast left to its default; pass ' +
        "typecast: true explicitly to send it for Airtable to convert.",
    );
    expect(answer.text).toContain('The value of "Time spent" is wrong in records[1].fields too.');
    expect(tasks()).toEqual([]);
  });

  it('"1h 30m" alone names 5400; "90 minutes" without typecast names 5400 too; "about 2 hours" names the field\'s example; seconds and h:mm are sent', async () => {
    const both = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      records: [{ fields: { Title: "Write docs", "Time spent": "1h 30m" } }],
    });
    expect(both.text).toContain(
      'give the number 5400 (a JSON number of seconds: a duration cell holds seconds, 5400 is 1:30), not the text "1h 30m"',
    );
    const minutes = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      records: [{ fields: { Title: "Review", "Time spent": "90 minutes" } }],
      typecast: false,
    });
    expect(minutes.isError).toBe(true);
    expect(minutes.text).toContain('"Time spent" is a duration field: give the number 5400 (');
    expect(minutes.text).toContain('not "90 minutes"');
    const vague = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      records: [{ fields: { Title: "Review", "Time spent": "about 2 hours" } }],
    });
    expect(vague.isError).toBe(true);
    expect(vague.text).toContain(
      '"Time spent" is a duration field: give a number of seconds such as 5400 (1 h 30 min), not the text "about 2 hours".',
    );
    expect(tasks()).toEqual([]);
    // Seconds, "1:30", and text with typecast: true given explicitly are sent as before.
    const plain = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      records: [{ fields: { Title: "A", "Time spent": 5400 } }, { fields: { Title: "B", "Time spent": "1:30" } }],
    });
    expect(plain.isError).toBe(false);
    expect(tasks().map((r) => r.fields["Time spent"])).toEqual([5400, 5400]);
    const explicit = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      records: [{ fields: { Title: "C", "Time spent": "2h" } }],
      typecast: true,
    });
    // Queued as asked; the sandbox's typecast reads only h:mm[:ss] and numbers, so the record fails there.
    expect(explicit.isError).toBe(false);
    expect((explicit.data as { operationId?: string }).operationId).toMatch(/^op_/);
  });
});

describe("a date named in part", () => {
  it('"Mar 2027", "Q1 2027" (no day) and "March 15", "5pm" (no year): refused before queueing, naming the days', async () => {
    const answer = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      records: [
        { fields: { Title: "Launch", Due: "Mar 2027" } },
        { fields: { Title: "Plan", "Review at": "Q1 2027" } },
      ],
    });
    expect(answer.isError).toBe(true);
    expect(answer.text).toContain(
      'records[0].fields: "Due" is a date field, given "Mar 2027", which names no day: Airtable\'s typecast would ' +
        "pick a day of its own, and which one is not documented. Give the day meant as YYYY-MM-DD, such as " +
        '"2027-03-01" or "2027-03-31".',
    );
    expect(answer.text).toContain(
      'records[1].fields: "Review at" is a date and time field, given "Q1 2027", which names no day: ' +
        "Airtable's typecast would pick a day of its own, and which one is not documented. Give the day meant as " +
        'YYYY-MM-DD (with a time: YYYY-MM-DDTHH:mm), such as "2027-01-01" or "2027-03-31".',
    );
    const year = new Date().getUTCFullYear();
    const noYear = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      records: [{ fields: { Title: "Retro", Due: "March 15" } }],
    });
    expect(noYear.isError).toBe(true);
    expect(noYear.text).toBe(
      'records[0].fields: "Due" is a date field, given "March 15", which names no year: Airtable\'s typecast would ' +
        "pick a year of its own, and which one is not documented. Give the day meant as YYYY-MM-DD, such as " +
        `"${year}-03-15" or "${year + 1}-03-15".`,
    );
    const time = await call("create_record", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      fields: { Title: "Standup", "Review at": "5pm" },
    });
    expect(time.isError).toBe(true);
    expect(time.text).toContain('"Review at" is a date and time field, given "5pm", which names no year');
    expect(tasks().filter((r) => ["Launch", "Plan", "Retro", "Standup"].includes(String(r.fields.Title)))).toEqual([]);
    // Whole days in words, and ISO days, are written as before.
    const whole = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      records: [
        { fields: { Title: "Ship", Due: "March 15, 2027" } },
        { fields: { Title: "Demo", Due: "2027-03-16" } },
        // Eight digits (ISO 8601's basic form) are left to typecast as before, not told "names no year".
        { fields: { Title: "Basic", Due: "20270317" } },
      ],
    });
    expect(whole.isError, whole.text).toBe(false);
    const due = (title: string) => tasks().find((r) => r.fields.Title === title)?.fields.Due;
    expect([due("Ship"), due("Demo")]).toEqual(["2027-03-15", "2027-03-16"]);
  });
});

describe("a link cell given a record id of another table", () => {
  it("the failed record's error names the table holding it, this table too", async () => {
    const person = mcp.h.sandbox.listRecordsDirect(mcp.base.id, "People")[0]!.id;
    const answer = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      records: [{ fields: { Title: "Wire up", Project: [person] } }],
    });
    const people = (await call("list_tables", { baseId: mcp.base.id })).data as {
      tables: { id: string; name: string }[];
    };
    const tableId = (name: string) => people.tables.find((t) => t.name === name)!.id;
    const error = (answer.data as { results: { error?: { message: string } }[] }).results[0]?.error?.message;
    expect(error).toBe(
      `Record ID ${person} does not exist. The link field "Project" names ${person}, which is not a record of the ` +
        `table it links to: ${person} is a record of table "People" (${tableId("People")}) (a link cell takes ids of ` +
        "its linked table's records). Give the linked record's primary value instead (e.g. [\"Acme\"]: it is looked " +
        "up in the linked table before the write is queued), or find its id with search_records in the linked table " +
        "(describe_table shows which table a link field links to).",
    );
    const made = await call("create_record", { baseId: mcp.base.id, tableId: "Tasks", fields: { Title: "Pair" } });
    const task = (made.data as { results: { id: string }[] }).results[0]!.id;
    const own = await call("update_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      records: [{ id: task, fields: { Assignees: [task] } }],
    });
    const ownError = (own.data as { results: { error?: { message: string } }[] }).results[0]?.error?.message;
    expect(ownError).toContain(`${task} is a record of table "Tasks" (${tableId("Tasks")})`);
  });
});

describe("list_records sort given as text with a direction", () => {
  it('"Time spent desc", "Time spent desc, Due asc" and ["Time spent DESC", "Due"]: the example names the field and the direction apart', async () => {
    const one = await call("list_records", { baseId: mcp.base.id, tableId: "Tasks", sort: "Time spent desc" });
    expect(one.isError).toBe(true);
    expect(one.text).toBe(
      invalidArguments("list_records") +
        'sort takes a list of sort items, e.g. [{"field": "Time spent", "direction": "desc"}] (a list even for one ' +
        'field; it was given the text "Time spent desc")',
    );
    const two = await call("list_records", { baseId: mcp.base.id, tableId: "Tasks", sort: ["Time spent DESC", "Due"] });
    expect(two.text).toContain(
      'e.g. [{"field": "Time spent", "direction": "desc"}, {"field": "Due", "direction": "asc"}] (sort[0] is',
    );
    const comma = await call("list_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      sort: "Time spent desc, Due asc",
    });
    expect(comma.text).toContain(
      'e.g. [{"field": "Time spent", "direction": "desc"}, {"field": "Due", "direction": "asc"}] (a list even for',
    );
    // SQL's ORDER BY leaves the first direction out ("Due, Time spent desc"): Due ascending, as Airtable's default.
    const sql = await call("list_records", { baseId: mcp.base.id, tableId: "Tasks", sort: "Due, Time spent desc" });
    expect(sql.text).toContain(
      'e.g. [{"field": "Due", "direction": "asc"}, {"field": "Time spent", "direction": "desc"}] (a list even for',
    );
    // The example, sent as it is, is taken.
    const sorted = await call("list_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      sort: [{ field: "Time spent", direction: "desc" }],
      maxRecords: 1,
    });
    expect(sorted.isError, sorted.text).toBe(false);
  });
});
