/**
 * What an agent's trial (h-agent34) on a CRM (Companies, Contacts, Deals: links, a lookup, formulas, selects,
 * currency, percent, a checkbox, a collaborator, a zoned date and time) found saying too little or something untrue,
 * through the real MCP SDK client over HTTP against the sandbox:
 * - an upsert merged on a single select given its option in the wrong case (`fieldsToMergeOn: ["Name", "Industry"]`,
 *   `"Industry": "saas"` for "SaaS"): besides naming "SaaS", the refusal said the record "has no value for
 *   "Industry"", which it had. A select variant is now kept in the checked cells like any wrong value, so the merge
 *   check sees it (check-fields.ts cells);
 * - list_records with a filterByFormula comparing a field with text no cell of it can hold, each answered
 *   `{"records": []}` without a word, which the agent reads as the data's answer: `{Stage} = "proposal"` (the option
 *   is "Proposal": a formula compares text exactly), `{Stage} = "Closed Won"` (no such option), `{Is primary} =
 *   "true"` (a checkbox is 1 or empty in a formula), `{Amount} >= "$10,000"` and `{Probability} >= "40%"` (text a
 *   number is not documented to compare with). Now refused before any records request, naming what to write
 *   (literal-comparison.ts); an option added in Airtable since the schema was cached is looked for once afresh. So
 *   is `{Owner} = "demo@example.com"`: a person reads as their name in a formula, and `{Tags} = "enterprise"` (a
 *   multiple select). `{Tags} = "Enterprise"` found Acme (tagged Enterprise alone) and not Globex (Enterprise and
 *   Churn risk), an answer that looks whole: its note now says so and gives FIND("Enterprise", {Tags}). A lookup of a
 *   select compared with an option in another case (`{Company industry} = "saas"`) is refused as the select is;
 * - search_records with a pattern or a query as its term, "Acme|Globex", "Glob.*", "Acme OR Globex": the term is
 *   matched as typed, and the empty answer said nothing; it now notes that the term is literal text and how to look
 *   for several terms or a pattern (search-records.ts patternNote);
 * - a checkbox given a word, `"Is primary": "no"` or `"maybe"`, with typecast on by default: how Airtable's typecast
 *   reads text other than "true" and "false" is not documented (it may check the box for "no"); the sandbox failed
 *   "maybe" in the worker with a sentence about numbers and dates. Now refused before queueing, naming the boolean
 *   (check-values.ts checkCheckboxText), as "$1,200" names 1200.
 */
import { describe, expect, it } from "vitest";
import { callToolAnswer } from "../../support/mcp-test-harness.ts";
import { useMcpHarness } from "../../support/use-mcp-harness.ts";

const mcp = useMcpHarness({
  name: "CRM",
  tables: [
    {
      name: "Companies",
      fields: [
        { name: "Name", type: "singleLineText" },
        {
          name: "Industry",
          type: "singleSelect",
          options: { choices: [{ name: "SaaS" }, { name: "Retail" }, { name: "Health care" }] },
        },
        { name: "Employees", type: "number", options: { precision: 0 } },
        {
          name: "Tags",
          type: "multipleSelects",
          options: { choices: [{ name: "Enterprise" }, { name: "SMB" }, { name: "Churn risk" }] },
        },
      ],
      records: [
        { Name: "Acme", Industry: "SaaS", Employees: 120, Tags: ["Enterprise"] },
        { Name: "Globex", Industry: "Retail", Employees: 40, Tags: ["Enterprise", "Churn risk"] },
      ],
    },
    {
      name: "Contacts",
      fields: [
        { name: "Name", type: "singleLineText" },
        { name: "Is primary", type: "checkbox", options: { icon: "check", color: "greenBright" } },
        { name: "Company", type: "multipleRecordLinks", options: { linkedTableId: "Companies" } },
        {
          name: "Company industry",
          type: "multipleLookupValues",
          options: { recordLinkFieldId: "Company", fieldIdInLinkedTable: "Industry" },
        },
      ],
      records: [{ Name: "Ada Lovelace", "Is primary": true, Company: ["Acme"] }, { Name: "Bob Stone" }],
      typecast: true,
    },
    {
      name: "Deals",
      fields: [
        { name: "Name", type: "singleLineText" },
        {
          name: "Stage",
          type: "singleSelect",
          options: { choices: [{ name: "Prospect" }, { name: "Proposal" }, { name: "Won" }, { name: "Lost" }] },
        },
        { name: "Amount", type: "currency", options: { precision: 0, symbol: "$" } },
        { name: "Probability", type: "percent", options: { precision: 0 } },
        { name: "Owner", type: "singleCollaborator" },
        { name: "Region", type: "singleSelect", options: { choices: [] } },
      ],
      records: [
        { Name: "Acme renewal", Stage: "Proposal", Amount: 50000, Probability: 0.4 },
        { Name: "Globex pilot", Stage: "Prospect", Amount: 8000, Probability: 0.1 },
      ],
    },
  ],
});

const call = (name: string, args: Record<string, unknown>) =>
  callToolAnswer(mcp.client, name, { baseId: mcp.base.id, ...args });
const names = (answer: { data: Record<string, unknown> }) =>
  (answer.data.records as { fields: { Name?: string } }[]).map((r) => r.fields.Name);
const refused = (formula: string) => `list_records refused the filterByFormula before sending it: ${formula}`;

describe("an upsert merged on a select given its option in another case", () => {
  it('names "SaaS" alone, not "no value for Industry" too', async () => {
    const answer = await call("upsert_records", {
      tableId: "Companies",
      fieldsToMergeOn: ["Name", "Industry"],
      records: [{ fields: { Name: "Acme", Industry: "saas", Employees: 130 } }],
    });
    expect(answer.isError).toBe(true);
    expect(answer.text).not.toContain("has no value");
    expect(answer.text).toBe(
      'records[0].fields: "saas" is not an option of "Industry" (a single select field), but "SaaS" is: Airtable ' +
        "matches option names exactly (case and spaces included), so it would refuse the record without typecast, " +
        "and with typecast add a second option that differs only in case or spaces, splitting the field's " +
        'categories. Give "SaaS".',
    );
    // A merge field left out is still told so, beside the variant of another field.
    const both = await call("upsert_records", {
      tableId: "Companies",
      fieldsToMergeOn: ["Name", "Industry"],
      records: [{ fields: { Name: "Acme", Industry: "saas" } }, { fields: { Name: "Initech" } }],
    });
    expect(both.text).toContain('records[1] has no value for "Industry"');
    expect(both.text).not.toContain('records[0] has no value for "Industry"');
    expect(mcp.h.sandbox.listRecordsDirect(mcp.base.id, "Companies").map((r) => r.fields.Employees)).toEqual([120, 40]);
  });
});

describe("filterByFormula comparing a field with text no cell of it holds", () => {
  it('a single select: "proposal" names "Proposal"; "Closed Won" lists the options; the fixes, sent, find the deals', async () => {
    const lower = await call("list_records", { tableId: "Deals", filterByFormula: "{Stage} = 'proposal'" });
    expect(lower.isError).toBe(true);
    expect(lower.text).toBe(
      refused('{Stage} = "proposal"') +
        ' compares the single select field "Stage" with "proposal", which is not one of its options, but ' +
        '"Proposal" is: a formula compares text exactly, case and spaces included, so it is false on every record ' +
        '(an empty answer, not the data\'s answer). Nothing was read from the table. Write {Stage} = "Proposal".',
    );
    const other = await call("list_records", {
      tableId: "Deals",
      filterByFormula: 'AND({Amount} > 1000, {Stage} != "Closed Won")',
    });
    expect(other.isError).toBe(true);
    expect(other.text).toBe(
      refused('{Stage} != "Closed Won"') +
        ' compares the single select field "Stage" with "Closed Won", which is not one of its options ("Prospect", ' +
        '"Proposal", "Won", "Lost"): a cell of it holds one of them, so the comparison is true on every record. ' +
        'Nothing was read from the table. Compare with one of them, e.g. {Stage} != "Prospect", or with OR(…) for ' +
        "several.",
    );
    const fixed = await call("list_records", { tableId: "Deals", filterByFormula: '{Stage} = "Proposal"' });
    expect(fixed.isError, fixed.text).toBe(false);
    expect(names(fixed)).toEqual(["Acme renewal"]);
    // A blank test and an exact option are sent as before.
    const blank = await call("list_records", { tableId: "Deals", filterByFormula: "{Stage} = ''" });
    expect(blank.isError, blank.text).toBe(false);
    expect(names(blank)).toEqual([]);
  });

  it("a select option added in Airtable after the schema was cached is found with one fresh look", async () => {
    await call("list_records", { tableId: "Deals", filterByFormula: '{Stage} = "Won"' });
    // Added as Airtable's typecast adds it, through the harness's limiter (a request beside it could meet a 429).
    await mcp.h.airtableA.createRecords(mcp.base.id, "Deals", [{ fields: { Name: "Hooli", Stage: "On hold" } }], {
      typecast: true,
    });
    const held = await call("list_records", { tableId: "Deals", filterByFormula: '{Stage} = "On hold"' });
    expect(held.isError, held.text).toBe(false);
    expect(names(held)).toEqual(["Hooli"]);
  });

  it('a checkbox compared with "true" or "no": refused, naming {Is primary} and NOT({Is primary})', async () => {
    const yes = await call("list_records", { tableId: "Contacts", filterByFormula: '{Is primary} = "true"' });
    expect(yes.isError).toBe(true);
    expect(yes.text).toBe(
      refused('{Is primary} = "true"') +
        ' compares the checkbox field "Is primary" with the text "true": in a formula a checkbox is 1 when checked ' +
        "and empty when not (TRUE() is 1), never that text, so the comparison is false on every record (an empty " +
        "answer, not the data's answer). Nothing was read from the table. For checked records write {Is primary} " +
        "(or {Is primary} = TRUE()).",
    );
    const no = await call("list_records", { tableId: "Contacts", filterByFormula: "{Is primary} = 'No'" });
    expect(no.text).toContain("For unchecked records write NOT({Is primary}).");
    const fixed = await call("list_records", { tableId: "Contacts", filterByFormula: "NOT({Is primary})" });
    expect(names(fixed)).toEqual(["Bob Stone"]);
  });

  it('currency "$10,000" and percent "40%": refused, naming 10000 and 0.4; the fixes, sent, find the deal', async () => {
    const amount = await call("list_records", { tableId: "Deals", filterByFormula: '{Amount} >= "$10,000"' });
    expect(amount.isError).toBe(true);
    expect(amount.text).toBe(
      refused('{Amount} >= "$10,000"') +
        ' compares the currency field "Amount" with the text "$10,000": how Airtable compares a number with text ' +
        "that is not a plain number (a currency symbol, grouping commas, a percent sign, units) is not documented, " +
        "and it may match no record. Nothing was read from the table. Write the number itself: {Amount} >= 10000.",
    );
    const percent = await call("list_records", { tableId: "Deals", filterByFormula: '"40%" <= {Probability}' });
    expect(percent.text).toContain(
      "Write the number itself: 0.4 <= {Probability} (a percent cell holds a fraction: 0.4 is 40 %).",
    );
    const fixed = await call("list_records", {
      tableId: "Deals",
      filterByFormula: "AND({Amount} >= 10000, {Probability} >= 0.4)",
    });
    expect(names(fixed)).toEqual(["Acme renewal"]);
    // Plain number text is left to Airtable, as before.
    const plain = await call("list_records", { tableId: "Deals", filterByFormula: '{Amount} >= "10000"' });
    expect(plain.isError, plain.text).toBe(false);
  });
});

describe("filterByFormula comparing a multiple select with text", () => {
  it('"enterprise" is refused naming FIND("Enterprise", {Tags}); "Enterprise" is answered with a note saying = finds it alone', async () => {
    const lower = await call("list_records", { tableId: "Companies", filterByFormula: '{Tags} = "enterprise"' });
    expect(lower.isError).toBe(true);
    expect(lower.text).toBe(
      refused('{Tags} = "enterprise"') +
        ' compares the multiple select field "Tags" with "enterprise", which is not one of its options, but ' +
        '"Enterprise" is: a formula compares text exactly, case and spaces included, so it is false on every record ' +
        '(an empty answer, not the data\'s answer). Nothing was read from the table. Write FIND("Enterprise", {Tags}) ' +
        '(the cell reads as its options joined with ", ").',
    );
    const exact = await call("list_records", { tableId: "Companies", filterByFormula: '{Tags} = "Enterprise"' });
    expect(exact.isError, exact.text).toBe(false);
    expect(names(exact)).toEqual(["Acme"]);
    expect(exact.data.note).toBe(
      '{Tags} = "Enterprise" compares the whole cell of the multiple select field "Tags", which a formula reads as ' +
        'its options joined with ", ", so it finds only the records holding "Enterprise" alone; for every record ' +
        'holding it, among others or not, write FIND("Enterprise", {Tags}).',
    );
    const find = await call("list_records", { tableId: "Companies", filterByFormula: 'FIND("Enterprise", {Tags})' });
    expect(find.data.note).toBeUndefined();
    expect(names(find)).toEqual(["Acme", "Globex"]);
    // A join as the cell reads is compared as given.
    const joined = await call("list_records", {
      tableId: "Companies",
      filterByFormula: '{Tags} = "Enterprise, Churn risk"',
    });
    expect(names(joined)).toEqual(["Globex"]);
  });
});

describe("filterByFormula comparing a lookup of a select with its option in another case", () => {
  it('{Company industry} = "saas": refused, naming "SaaS"; the fix, sent, finds Ada', async () => {
    const lower = await call("list_records", { tableId: "Contacts", filterByFormula: '{Company industry} = "saas"' });
    expect(lower.isError).toBe(true);
    expect(lower.text).toBe(
      refused('{Company industry} = "saas"') +
        ' compares the lookup field "Company industry" (the "Industry" of table "Companies", a select) with "saas", ' +
        'which is not one of its options, but "SaaS" is: a formula compares text exactly, case and spaces included, ' +
        "so it is false on every record (an empty answer, not the data's answer). Nothing was read from the table. " +
        'Write {Company industry} = "SaaS", or FIND("SaaS", {Company industry}) when a record may link to several.',
    );
    const fixed = await call("list_records", { tableId: "Contacts", filterByFormula: '{Company industry} = "SaaS"' });
    expect(names(fixed)).toEqual(["Ada Lovelace"]);
    // Text that is no option at all is left to Airtable for a lookup.
    const other = await call("list_records", { tableId: "Contacts", filterByFormula: '{Company industry} = "Mining"' });
    expect(other.isError, other.text).toBe(false);
  });
});

describe("filterByFormula comparing a person with an email or a user id", () => {
  it('{Owner} = "demo@example.com" is sent, with a note that a person reads as their name; a user id is refused', async () => {
    const made = await call("create_record", {
      tableId: "Deals",
      fields: { Name: "Owned deal", Owner: { email: mcp.h.demo.user.email } },
    });
    expect(made.isError, made.text).toBe(false);
    // Sent (h-review34b): a collaborator who has set no name is shown, and read in a formula, as their email
    // (Airtable's scripting API: a collaborator's name "could be null"), so the formula may be right as written.
    const email = await call("list_records", {
      tableId: "Deals",
      filterByFormula: `{Owner} = "${mcp.h.demo.user.email}"`,
    });
    expect(email.isError, email.text).toBe(false);
    expect(names(email)).toEqual([]);
    expect(email.data.note).toBe(
      `{Owner} = "${mcp.h.demo.user.email}" compares the person field "Owner" with an email: a formula reads a ` +
        "person as their name, as Airtable shows them, and as their email only when they have set no name, so it " +
        'matches only people without a name. To compare by person, use their name, e.g. {Owner} = "Ada Park"; ' +
        'list_records with fields ["Owner"] shows each person\'s name beside their email.',
    );
    const others = await call("list_records", {
      tableId: "Deals",
      filterByFormula: `{Owner} != "${mcp.h.demo.user.email}"`,
    });
    expect(others.data.note).toContain(
      'so it leaves out only people without a name. To compare by person, use their name, e.g. {Owner} != "Ada Park";',
    );
    const find = await call("list_records", {
      tableId: "Deals",
      filterByFormula: `FIND("${mcp.h.demo.user.id}", {Owner})`,
    });
    expect(find.isError).toBe(true);
    expect(find.text).toBe(
      refused(`FIND("${mcp.h.demo.user.id}", {Owner})`) +
        ` compares the field "Owner" (singleCollaborator) with a user id, "${mcp.h.demo.user.id}": in a formula a ` +
        "person reads as their name, as Airtable shows them, never as their id, so it is false on every record (an " +
        "empty answer, not the data's answer). Nothing was read from the table. Compare with the person's name " +
        'instead, e.g. {Owner} = "Ada Park"; list_records with fields ["Owner"] shows each person\'s name beside ' +
        "their email and id.",
    );
    const byName = await call("list_records", {
      tableId: "Deals",
      filterByFormula: `{Owner} = "${mcp.h.demo.user.name}"`,
    });
    expect(names(byName)).toEqual(["Owned deal"]);
    expect(byName.data.note).toBeUndefined();
  });
});

describe("filterByFormula hedging a comparison with other spellings in an OR (h-review34b)", () => {
  it('OR({Stage} = "Proposal", {Stage} = "proposal") and OR({Is primary} = 1, {Is primary} = "true") are sent and find the records', async () => {
    const stage = await call("list_records", {
      tableId: "Deals",
      filterByFormula: 'OR({Stage} = "Proposal", {Stage} = "proposal", {Stage} = "PROPOSAL")',
    });
    expect(stage.isError, stage.text).toBe(false);
    expect(names(stage)).toEqual(["Acme renewal"]);
    const box = await call("list_records", {
      tableId: "Contacts",
      filterByFormula: 'OR({Is primary} = 1, {Is primary} = "true")',
    });
    expect(box.isError, box.text).toBe(false);
    expect(names(box)).toEqual(["Ada Lovelace"]);
    const notWon = await call("list_records", {
      tableId: "Deals",
      filterByFormula: 'AND({Stage} != "won", {Stage} != "Won", {Amount} > 0)',
    });
    expect(notWon.isError, notWon.text).toBe(false);
    expect(names(notWon)).toEqual(["Acme renewal", "Globex pilot"]);
    const tags = await call("list_records", {
      tableId: "Companies",
      filterByFormula: 'OR(FIND("Enterprise", {Tags}), {Tags} = "enterprise")',
    });
    expect(tags.isError, tags.text).toBe(false);
    expect(names(tags)).toEqual(["Acme", "Globex"]);
    // Another option beside the wrong spelling is no hedge: the proposals would be missed.
    const other = await call("list_records", {
      tableId: "Deals",
      filterByFormula: 'OR({Stage} = "proposal", {Stage} = "Won")',
    });
    expect(other.isError).toBe(true);
    expect(other.text).toContain(refused('{Stage} = "proposal"'));
    // Inside NOT(…) the comparison is still false on every record, but the answer would be every record, not none.
    const negated = await call("list_records", { tableId: "Deals", filterByFormula: 'NOT({Stage} = "proposal")' });
    expect(negated.isError).toBe(true);
    expect(negated.text).toContain("so it is false on every record. Nothing was read from the table.");
  });

  it("a select with no options yet: the refusal says so rather than listing none", async () => {
    const answer = await call("list_records", { tableId: "Deals", filterByFormula: '{Region} = "EMEA"' });
    expect(answer.isError).toBe(true);
    expect(answer.text).toBe(
      refused('{Region} = "EMEA"') +
        ' compares the single select field "Region" with "EMEA", but the field has no options (looked for in a ' +
        "fresh schema too): every cell of it is empty, so the comparison is false on every record (an empty " +
        "answer, not the data's answer). Nothing was read from the table. An option appears once a record is " +
        "written with it (typecast adds it).",
    );
  });
});

describe("a checkbox given a word", () => {
  it('"no" and "maybe" with typecast left to its default: refused, naming false and true or false; "true" is sent', async () => {
    const answer = await call("create_records", {
      tableId: "Contacts",
      records: [{ fields: { Name: "Cy", "Is primary": "no" } }, { fields: { Name: "Di", "Is primary": "maybe" } }],
    });
    expect(answer.isError).toBe(true);
    expect(answer.text).toContain(
      'records[0].fields: "Is primary" is a checkbox field: give false (a JSON boolean), not the text "no". How ' +
        'Airtable\'s typecast reads text other than "true" and "false" is not documented, so such text is not sent ' +
        "with typecast left to its default; pass typecast: true explicitly to send it for Airtable to convert.",
    );
    expect(answer.text).toContain('The value of "Is primary" is wrong in records[1].fields too.');
    const maybe = await call("create_record", { tableId: "Contacts", fields: { Name: "Di", "Is primary": "maybe" } });
    expect(maybe.text).toContain('give true or false (a JSON boolean), not the text "maybe"');
    const contacts = () => mcp.h.sandbox.listRecordsDirect(mcp.base.id, "Contacts").map((r) => r.fields.Name);
    expect(contacts()).toEqual(["Ada Lovelace", "Bob Stone"]);
    // "true", a boolean, and a word with typecast: true given explicitly are sent as before.
    const sent = await call("create_records", {
      tableId: "Contacts",
      records: [{ fields: { Name: "Ed", "Is primary": "true" } }, { fields: { Name: "Flo", "Is primary": false } }],
    });
    expect(sent.isError, sent.text).toBe(false);
    const explicit = await call("create_records", {
      tableId: "Contacts",
      records: [{ fields: { Name: "Gus", "Is primary": "yes" } }],
      typecast: true,
    });
    expect(explicit.isError, explicit.text).toBe(false);
    expect(contacts()).toEqual(["Ada Lovelace", "Bob Stone", "Ed", "Flo", "Gus"]);
  });
});

describe("search_records with a pattern or a query as its term", () => {
  it('"Acme|Globex", "Acme OR Globex" and "Glob.*" find nothing as typed, and the note says how to search', async () => {
    const pipe = await call("search_records", { tableId: "Companies", searchTerm: "Acme|Globex" });
    expect(pipe.isError, pipe.text).toBe(false);
    expect(names(pipe)).toEqual([]);
    expect(pipe.data.note).toBe(
      'No record contains "Acme|Globex" as typed: searchTerm is literal text, not a pattern or a query (characters ' +
        "such as . * | ^ $ \\ [ ] are matched as themselves). To find any of several terms, or a pattern, use " +
        'search_records once per term, or list_records with filterByFormula OR(FIND("acme", LOWER({Name})), ' +
        'FIND("globex", LOWER({Name}))).',
    );
    const words = await call("search_records", { tableId: "Companies", searchTerm: "Acme OR Globex" });
    expect(words.data.note).toContain("(OR and AND are words to find)");
    const regex = await call("search_records", { tableId: "Companies", searchTerm: "Glob.*" });
    expect(regex.data.note).toContain('list_records with filterByFormula REGEX_MATCH({Name}, "Glob.*") for a pattern');
    // The formula the note names is case-insensitive, as the search is: a term typed in lower case still finds both
    // (h-review34b: it named FIND("acme", {Name}), which finds nothing, FIND being case-sensitive). Terms joined by
    // AND are named with AND(…).
    const lower = await call("search_records", { tableId: "Companies", searchTerm: "acme|globex" });
    const named = /filterByFormula (OR\(.*\))\.$/.exec(String(lower.data.note))?.[1];
    expect(named).toBe('OR(FIND("acme", LOWER({Name})), FIND("globex", LOWER({Name})))');
    const both = await call("list_records", { tableId: "Companies", filterByFormula: named });
    expect(names(both)).toEqual(["Acme", "Globex"]);
    const and = await call("search_records", { tableId: "Companies", searchTerm: "Acme AND Globex" });
    expect(and.data.note).toContain(
      "To find all of several terms, or a pattern, use search_records once per term, or list_records with " +
        'filterByFormula AND(FIND("acme", LOWER({Name})), FIND("globex", LOWER({Name}))).',
    );
    // Each term alone finds its record, without a note.
    const one = await call("search_records", { tableId: "Companies", searchTerm: "Globex" });
    expect(names(one)).toEqual(["Globex"]);
    expect(one.data.note).toBeUndefined();
  });
});
