/**
 * Dates an agent wrote in a project tracker (Session 29 agent trial), through the real MCP client over HTTP against
 * the sandbox: a local date with a 12-hour time for a dateTime field is refused with the ISO value that keeps the time
 * ("2026-12-24T17:00", not the bare day, which would be written at midnight), and a date field given a time with a
 * zone whose UTC day is another day is refused naming both days, instead of storing the UTC day without a word.
 */
import { describe, expect, it } from "vitest";
import { callToolAnswer } from "../../support/mcp-test-harness.ts";
import { useMcpHarness } from "../../support/use-mcp-harness.ts";

const mcp = useMcpHarness({
  name: "Tracker",
  tables: [
    {
      name: "Tasks",
      fields: [
        { name: "Title", type: "singleLineText" },
        { name: "Deadline", type: "date", options: { dateFormat: { name: "iso" } } },
        {
          name: "Due",
          type: "dateTime",
          options: { dateFormat: { name: "iso" }, timeFormat: { name: "24hour" }, timeZone: "Europe/Berlin" },
        },
        {
          name: "Start",
          type: "dateTime",
          options: { dateFormat: { name: "iso" }, timeFormat: { name: "24hour" }, timeZone: "client" },
        },
      ],
    },
  ],
});

const call = (name: string, args: Record<string, unknown>) => callToolAnswer(mcp.client, name, args);

/** Record writes the sandbox has been sent for the test base. */
const recordWrites = () =>
  mcp.h.sandbox.requests.filter((r) => r.method !== "GET" && r.path.startsWith(`/v0/${mcp.base.id}/`)).length;

describe("a local date with a 12-hour time, for a dateTime field", () => {
  it("is refused with the ISO value that keeps the time", async () => {
    const before = recordWrites();
    const answer = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      records: [{ fields: { Title: "Launch", Due: "12/24/2026 5pm" } }],
    });
    expect(answer.isError).toBe(true);
    expect(answer.text).toBe(
      'records[0].fields: "Due" is given "12/24/2026 5pm", a date in a local format (month first: 24 December ' +
        "2026). Airtable's API takes YYYY-MM-DDTHH:mm (read in the field's time zone; add Z or an offset for " +
        'another): give "2026-12-24T17:00".',
    );
    const half = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      records: [{ fields: { Title: "Launch", Due: "24.12.2026, 12:30 a.m." } }],
    });
    expect(half.text).toContain('give "2026-12-24T00:30".');
    expect(recordWrites()).toBe(before);
  });

  it("a time it cannot read is named, never dropped for the bare day", async () => {
    const answer = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      records: [{ fields: { Title: "Launch", Due: "12/24/2026 noon" } }],
    });
    expect(answer.isError).toBe(true);
    expect(answer.text).toBe(
      'records[0].fields: "Due" is given "12/24/2026 noon", a date in a local format (month first: 24 December ' +
        '2026). Airtable\'s API takes YYYY-MM-DD, or with a time as YYYY-MM-DDTHH:mm: give "2026-12-24". Its ' +
        'time, "noon", is not in that form: add it as THH:mm (24-hour), since a date alone is written as midnight.',
    );
  });
});

describe("a date field given a time with a zone", () => {
  it("whose UTC day is another day: refused, naming both days", async () => {
    const before = recordWrites();
    const answer = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      records: [{ fields: { Title: "Relaunch", Deadline: "2026-12-20T23:30:00-08:00" } }],
    });
    expect(answer.isError).toBe(true);
    expect(answer.text).toBe(
      'records[0].fields: "Deadline" is a date field (a day, no time) given "2026-12-20T23:30:00-08:00", a time ' +
        'with a zone: that instant is 2026-12-21 in UTC, the day Airtable stores for a date cell (a "UTC date"), ' +
        'not the 2026-12-20 written. Give the day meant as YYYY-MM-DD: "2026-12-20" or "2026-12-21".',
    );
    expect(recordWrites()).toBe(before);
  });

  it("whose UTC day is the day written: written as before", async () => {
    const answer = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      records: [{ fields: { Title: "Relaunch", Deadline: "2026-12-20T10:00:00+01:00" } }],
    });
    expect(answer.isError).toBe(false);
    const id = (answer.data.results as { id: string }[])[0]!.id;
    const record = await call("get_record", { baseId: mcp.base.id, tableId: "Tasks", recordId: id });
    expect((record.data.record as { fields: Record<string, unknown> }).fields.Deadline).toBe("2026-12-20");
  });
});

describe("the cells' description in tools/list", () => {
  it("says how a date and time without a zone is read, before the agent writes one", async () => {
    // Trial: "Start" (shown in each viewer's zone) given "2026-12-09T09:00" for a person in Los Angeles was stored as
    // 09:00 UTC (01:00 for them), as Airtable's field model says, and the description said only how to write a date.
    const { tools } = await mcp.client.listTools();
    for (const name of ["create_record", "create_records", "update_records", "upsert_records"]) {
      const schema = JSON.stringify(tools.find((t) => t.name === name)?.inputSchema);
      expect(schema, name).toContain(
        'a date and time \\"YYYY-MM-DDTHH:mm\\" with Z or an offset (without one it is read in the field\'s time ' +
          "zone, or as UTC when the field shows each viewer's own zone or UTC: give the offset for a person's local " +
          "time)",
      );
    }
  });
});

describe("a date and time written in words or with am/pm, for a dateTime field", () => {
  it("is sent in ISO form and read in the field's time zone, as a date with a T is", async () => {
    // Trial: "Dec 24, 2026 5:00 PM" into a Europe/Berlin field was stored as 17:00 UTC (18:00 in Berlin): the
    // sandbox's typecast parsed it in its own process's zone, while "2026-12-24T17:00" is read in the field's.
    const given = ["Dec 24, 2026 5:00 PM", "24 December 2026 17:00", "2026-12-24 5pm", "Thursday, December 24th 2026"];
    const answer = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      records: given.map((Due, i) => ({ fields: { Title: `Worded ${i}`, Due } })),
    });
    expect(answer.isError, answer.text).toBe(false);
    const stored = (answer.data.results as { id: string }[]).map(
      ({ id }) => mcp.h.sandbox.listRecordsDirect(mcp.base.id, "Tasks").find((r) => r.id === id)?.fields.Due,
    );
    expect(stored).toEqual([
      "2026-12-24T16:00:00.000Z",
      "2026-12-24T16:00:00.000Z",
      "2026-12-24T16:00:00.000Z",
      "2026-12-23T23:00:00.000Z",
    ]);
  });

  it("a day that does not exist, in words, is refused as in ISO form, for a date field too", async () => {
    // h-review29: "Feb 30, 2026" was left to typecast, whose parse (the sandbox's JavaScript Date) stored March 2,
    // while "2026-02-30" is refused.
    const before = recordWrites();
    const answer = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      records: [{ fields: { Title: "Never", Due: "Feb 30, 2026 5:00 PM", Deadline: "31 April 2026" } }],
    });
    expect(answer.isError).toBe(true);
    expect(answer.text).toContain(
      'records[0].fields: "Due" is given "Feb 30, 2026 5:00 PM", a day that does not exist (February 2026 has 28 days).',
    );
    expect(answer.text).toContain(
      'records[0].fields: "Deadline" is given "31 April 2026", a day that does not exist (April 2026 has 30 days).',
    );
    expect(recordWrites()).toBe(before);
  });
});

describe("a date written in words, for a date field", () => {
  it("is sent as its day, YYYY-MM-DD, with typecast left out or off, as a dateTime field's is", async () => {
    // Session 29 left a date field's worded date to typecast: the sandbox's parse (JavaScript's Date) failed
    // "Thursday, December 24th 2026" and "24th Dec 2026 11:30 PM" in the worker, and without typecast
    // "December 24, 2026" was refused, where a dateTime field's is sent in ISO form.
    const given = ["Dec 24, 2026", "December 24, 2026", "Thursday, December 24th 2026", "24th Dec 2026 11:30 PM"];
    const stored = async (answer: Awaited<ReturnType<typeof call>>) => {
      expect(answer.isError, answer.text).toBe(false);
      const rows = mcp.h.sandbox.listRecordsDirect(mcp.base.id, "Tasks");
      return (answer.data.results as { id: string }[]).map(({ id }) => rows.find((r) => r.id === id)?.fields.Deadline);
    };
    const leftOut = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      records: given.map((Deadline, i) => ({ fields: { Title: `Day in words ${i}`, Deadline } })),
    });
    expect(await stored(leftOut)).toEqual(given.map(() => "2026-12-24"));
    const off = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      typecast: false,
      records: [{ fields: { Title: "Day in words, typecast off", Deadline: "December 24, 2026" } }],
    });
    expect(await stored(off)).toEqual(["2026-12-24"]);
  });

  it("a numeric date whose order is ambiguous is still refused", async () => {
    const answer = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      records: [{ fields: { Title: "Ambiguous", Deadline: "03/11/2026" } }],
    });
    expect(answer.isError).toBe(true);
    expect(answer.text).toContain('Give the one meant as YYYY-MM-DD: "2026-11-03" or "2026-03-11".');
  });
});

describe("a date and time without a zone, for a dateTime field", () => {
  it("the write's answer, and get_operation's, name the records and the zone it was read in", async () => {
    // Session 29 trial: "Start": "2026-12-09T09:00" (9 am in Los Angeles) in a field shown in each viewer's zone was
    // stored as 09:00 UTC, and the answer said only "Done: 1 record written of 1.".
    const answer = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      records: [
        { fields: { Title: "Kickoff", Start: "2026-12-09T09:00", Due: "2026-12-24T17:00" } },
        { fields: { Title: "Review", Start: "2026-12-10T09:00:00-08:00" } },
        { fields: { Title: "Launch", Due: "Dec 24, 2026 5:00 PM", Start: "2026-12-11" } },
      ],
    });
    expect(answer.isError, answer.text).toBe(false);
    const note =
      'Dates and times given without a zone: "Start" (results index 0, 2) read as UTC, though the field shows ' +
      "each viewer's own time zone; \"Due\" (results index 0, 2) read in the field's time zone, Europe/Berlin. If " +
      'another zone was meant, update those records with the offset, such as "2026-12-09T09:00-08:00" (Los Angeles ' +
      "in winter).";
    expect(answer.data.message).toBe(`Done: 3 records written of 3. ${note}`);
    const stored = (answer.data.results as { id: string }[]).map(({ id }) =>
      mcp.h.sandbox.listRecordsDirect(mcp.base.id, "Tasks").find((r) => r.id === id),
    );
    expect(stored.map((r) => r?.fields.Start)).toEqual([
      "2026-12-09T09:00:00.000Z",
      "2026-12-10T17:00:00.000Z",
      "2026-12-11T00:00:00.000Z",
    ]);
    const polled = await call("get_operation", { operationId: answer.data.operationId });
    expect(polled.data.message).toBe(answer.data.message);
  });

  it("a call refused for another field's problem says it too, before anything is written", async () => {
    // Session 30's notes: the refusal said nothing of the zone, so the call sent again with its problem fixed stored
    // 09:00 UTC first, and heard of it only then (the percent note was already said in a refusal).
    const before = mcp.h.sandbox.listRecordsDirect(mcp.base.id, "Tasks").length;
    const answer = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      records: [
        { fields: { Title: "Kickoff", Start: "2026-12-09 09:00", Deadline: "someday" } },
        { fields: { Title: "Review", Start: "2026-12-10T09:00:00-08:00" } },
        { fields: { Title: "Launch", Due: "Dec 24, 2026 5:00 PM", Start: "2026-12-11" } },
      ],
    });
    expect(answer.isError).toBe(true);
    expect(answer.text).toMatch(/^records\[0\]\.fields: "Deadline" is a date field/);
    // The refusal's last line, as the percent note is said.
    expect(answer.text.split("\n").at(-1)).toBe(
      'Not refused, but check it before calling again: Dates and times given without a zone: "Start" ' +
        "(records[0].fields, records[2].fields) would be read as UTC, though the field shows each viewer's own time " +
        'zone; "Due" (records[2].fields) would be read in the field\'s time zone, Europe/Berlin. If another zone was ' +
        'meant, give the offset, such as "2026-12-09T09:00-08:00" (Los Angeles in winter).',
    );
    expect(mcp.h.sandbox.listRecordsDirect(mcp.base.id, "Tasks").length).toBe(before);
  });

  it("text with a zone in letters, left to typecast: named in the answer and in a refusal", async () => {
    // Session 30's notes: "5:00 PM EST" is left to Airtable's typecast, which documents no reading of it, and the
    // answer said nothing of it.
    const answer = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      records: [
        { fields: { Title: "Call", Start: "Dec 24, 2026 5:00 PM EST" } },
        { fields: { Title: "Sync", Start: "2026-12-10T09:00", Due: "Dec 24, 2026 5:00 PM CST" } },
      ],
    });
    expect(answer.isError, answer.text).toBe(false);
    const lettered =
      "Dates and times with a zone in letters were left to Airtable's typecast, which does not document how it reads " +
      'one (CST may be US Central or China Standard Time): "Start" (results index 0: "EST"); "Due" (results index ' +
      '1: "CST"). If the time stored is not the one meant, update those records in ISO form with the offset, such ' +
      'as "2026-12-24T17:00-05:00" (5 pm US Eastern in winter).';
    expect(answer.data.message).toBe(
      'Done: 2 records written of 2. Dates and times given without a zone: "Start" (results index 1) read as UTC, ' +
        "though the field shows each viewer's own time zone. If another zone was meant, update those records with " +
        `the offset, such as "2026-12-10T09:00-08:00" (Los Angeles in winter). ${lettered}`,
    );
    const polled = await call("get_operation", { operationId: answer.data.operationId });
    expect(polled.data.message).toBe(answer.data.message);

    // Refused for another problem: said before anything is written; a value the refusal names is not said again.
    const before = mcp.h.sandbox.listRecordsDirect(mcp.base.id, "Tasks").length;
    const refused = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      records: [
        { fields: { Title: "Call", Start: "Dec 24, 2026 5:00 PM (PST)", Deadline: "someday" } },
        { fields: { Title: "Bad", Due: "2026-02-30T10:00" } },
        { fields: { Title: "Fine", Due: "2026-12-24T17:00" } },
      ],
    });
    expect(refused.isError).toBe(true);
    expect(refused.text).toContain('- records[1].fields: "Due" is given "2026-02-30T10:00", a day that does not exist');
    expect(refused.text.split("\n").at(-1)).toBe(
      'Not refused, but check it before calling again: Dates and times given without a zone: "Due" ' +
        "(records[2].fields) would be read in the field's time zone, Europe/Berlin. If another zone was meant, give " +
        'the offset, such as "2026-12-24T17:00-08:00" (Los Angeles in winter). ' +
        "Dates and times with a zone in letters would be left to " +
        "Airtable's typecast, which does not document how it reads one (CST may be US Central or China Standard " +
        'Time): "Start" (records[0].fields: "PST"). To be sure of the time, give it in ISO form with its offset, ' +
        'such as "2026-12-24T17:00-05:00" (5 pm US Eastern in winter).',
    );
    expect(mcp.h.sandbox.listRecordsDirect(mcp.base.id, "Tasks").length).toBe(before);
  });

  it("UTC and GMT in letters are +00:00, sent as Z without a warning; zone letters in lower case are named", async () => {
    // h-left32 (Session 31's left): "UTC"/"GMT" were warned of as ambiguous, like CST, and "5:00 pm est" passed
    // unnamed.
    const answer = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      records: [
        { fields: { Title: "Utc", Start: "Dec 24, 2026 5:00 PM UTC", Due: "2026-12-24 17:00 (GMT)" } },
        { fields: { Title: "Lower", Start: "Dec 24, 2026 5:00 pm est" } },
        { fields: { Title: "Local", Due: "2026-12-24T09:00" } },
        { fields: { Title: "Ut", Start: "Dec 24, 2026 5:00 PM UT" } },
      ],
    });
    expect(answer.isError, answer.text).toBe(false);
    const stored = mcp.h.sandbox.listRecordsDirect(mcp.base.id, "Tasks");
    const utc = stored.find((r) => r.fields.Title === "Utc")!;
    expect(utc.fields.Start).toBe("2026-12-24T17:00:00.000Z");
    expect(utc.fields.Due).toBe("2026-12-24T17:00:00.000Z");
    // "UT" (Universal Time) is +00:00 too, sent as Z: it was left unwarned yet to typecast.
    expect(stored.find((r) => r.fields.Title === "Ut")!.fields.Start).toBe("2026-12-24T17:00:00.000Z");
    expect(answer.data.message).not.toContain('"UTC"');
    expect(answer.data.message).not.toContain('"GMT"');
    expect(answer.data.message).toBe(
      'Done: 4 records written of 4. Dates and times given without a zone: "Due" (results index 2) read in the ' +
        "field's time zone, Europe/Berlin. If another zone was meant, update those records with the offset, such " +
        'as "2026-12-24T09:00-08:00" (Los Angeles in winter). Dates and times with a zone in letters were left to ' +
        "Airtable's typecast, which does not document how it reads one (CST may be US Central or China Standard " +
        'Time): "Start" (results index 1: "est"). If the time stored is not the one meant, update those records in ' +
        'ISO form with the offset, such as "2026-12-24T17:00-05:00" (5 pm US Eastern in winter).',
    );
  });

  it("says nothing when every date and time has a zone", async () => {
    const answer = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      records: [{ fields: { Title: "Zoned", Start: "2026-12-09T17:00:00Z", Due: "2026-12-24T17:00+01:00" } }],
    });
    expect(answer.data.message).toBe("Done: 1 record written of 1.");
  });
});
