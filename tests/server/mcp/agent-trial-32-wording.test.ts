/**
 * What an agent's trial (h-agent32) on a small company's CRM (Companies, Contacts, Deals with links, a lookup, a
 * formula, selects, a date with a zone, attachments; a second base) found saying too little or doing too much,
 * through the real MCP SDK client over HTTP against the sandbox:
 * - a Deals stage given in another CRM's words, `"Stage": "Closed Won"` where the options are "Open", "Won",
 *   "Lost": typecast (on by default) added "Closed Won" as a new option for good, and the answer only named it
 *   afterwards. Such a value is now asked about before anything is queued, like a misspelt option ("Custmer"), as
 *   is "Won" where the options are "Closed Won", "Closed Lost" (check-fields.ts closeOption: one name's words a
 *   whole run of the other's);
 * - an update naming a record of the other base the agent works on: the answer said "deleted, or the id is
 *   mistyped", which sends the agent looking for a typo; it now names another base as the third cause, as
 *   get_record's does (missing-records.ts).
 */
import { describe, expect, it } from "vitest";
import { callToolAnswer } from "../../support/mcp-test-harness.ts";
import { useMcpHarness } from "../../support/use-mcp-harness.ts";

const mcp = useMcpHarness({
  name: "Acme CRM",
  tables: [
    {
      name: "Companies",
      fields: [{ name: "Name", type: "singleLineText" }],
      records: [{ Name: "Acme" }, { Name: "Globex" }],
    },
    {
      name: "Deals",
      fields: [
        { name: "Name", type: "singleLineText" },
        { name: "Company", type: "multipleRecordLinks", options: { linkedTableId: "Companies" } },
        {
          name: "Stage",
          type: "singleSelect",
          options: { choices: [{ name: "Open" }, { name: "Won" }, { name: "Lost" }] },
        },
        {
          name: "Outcome",
          type: "singleSelect",
          options: { choices: [{ name: "Closed Won" }, { name: "Closed Lost" }] },
        },
        { name: "Tags", type: "multipleSelects", options: { choices: [{ name: "Lead" }, { name: "Tier 1" }] } },
      ],
      records: [{ Name: "Acme renewal", Company: ["Acme"], Stage: "Open" }],
      typecast: true,
    },
  ],
});

const call = (name: string, args: Record<string, unknown>) => callToolAnswer(mcp.client, name, args);
const deal = () => mcp.h.sandbox.listRecordsDirect(mcp.base.id, "Deals")[0]!.id;
const options = async (field: string) => {
  const answer = await call("describe_table", { baseId: mcp.base.id, tableId: "Deals" });
  const table = answer.data.table as { fields: { name: string; options?: { choices?: { name: string }[] } }[] };
  return (table.fields.find((f) => f.name === field)?.options?.choices ?? []).map((c) => c.name);
};
/** The answer's message, or the first item's error, as an agent reads them from structuredContent. */
const said = (answer: { data: Record<string, unknown> }) => {
  const data = answer.data as { message: string; results?: { error?: { message: string } }[] };
  return data.results?.[0]?.error?.message ?? data.message;
};

describe("a select value in other words than the field's option", () => {
  it('"Closed Won" where the option is "Won": refused before queueing, naming "Won" and the escape', async () => {
    const answer = await call("update_records", {
      baseId: mcp.base.id,
      tableId: "Deals",
      records: [{ id: deal(), fields: { Stage: "Closed Won" } }],
    });
    expect(answer.isError).toBe(true);
    expect(answer.text).toBe(
      'records[0].fields: "Closed Won" is not an option of "Stage" (a single select field) but is close to "Won": ' +
        'typecast, on by default, would add "Closed Won" as a new option, and Airtable\'s API cannot remove a ' +
        "select option once it is added (only Airtable's interface can), so nothing was queued. To use the " +
        'existing option, give "Won"; to create "Closed Won" as a new option on purpose, send the call again with ' +
        "typecast: true given explicitly.",
    );
    expect(await options("Stage")).toEqual(["Open", "Won", "Lost"]);
  });

  it('"Won" where the options are "Closed Won" and "Closed Lost": refused the same way, naming "Closed Won"', async () => {
    const answer = await call("update_records", {
      baseId: mcp.base.id,
      tableId: "Deals",
      records: [{ id: deal(), fields: { Outcome: "won" } }],
    });
    expect(answer.isError).toBe(true);
    expect(answer.text).toContain('"won" is not an option of "Outcome" (a single select field) but is close to');
    expect(answer.text).toContain('To use the existing option, give "Closed Won"');
    expect(await options("Outcome")).toEqual(["Closed Won", "Closed Lost"]);
  });

  it("an explicit typecast still creates it; other digits or unrelated words are created as before", async () => {
    const explicit = await call("update_records", {
      baseId: mcp.base.id,
      tableId: "Deals",
      records: [{ id: deal(), fields: { Stage: "Closed Won" } }],
      typecast: true,
    });
    expect(explicit.isError).toBeFalsy();
    expect(said(explicit)).toContain('New select options, which Airtable creates because typecast is on: "Stage"');
    const far = await call("update_records", {
      baseId: mcp.base.id,
      tableId: "Deals",
      records: [{ id: deal(), fields: { Tags: ["Tier 2", "Partner"] } }],
      addToLists: true,
    });
    expect(far.isError).toBeFalsy();
    expect(await options("Tags")).toEqual(["Lead", "Tier 1", "Tier 2", "Partner"]);
  });
});

describe("an update naming a record of another base", () => {
  it("names another base as a cause beside deleted and mistyped", async () => {
    const other = mcp.h.sandbox.createBase(mcp.h.demo.user.id, {
      name: "Partners",
      tables: [
        { name: "Partners", fields: [{ name: "Name", type: "singleLineText" }], records: [{ Name: "Initech" }] },
      ],
    });
    const theirs = mcp.h.sandbox.listRecordsDirect(other.id, "Partners")[0]!.id;
    const answer = await call("update_records", {
      baseId: mcp.base.id,
      tableId: "Deals",
      records: [{ id: theirs, fields: { Name: "Initech deal" } }],
    });
    expect(said(answer)).toContain(`Record ${theirs} does not exist in table "Deals" (`);
    expect(said(answer)).toContain(
      "nor in any other table of the base: it was deleted, the id is mistyped, or it is a record of another base " +
        "(a record is written through its own base's baseId).",
    );
  });
});
