/**
 * list_records' filterByFormula on a link field, end to end over MCP on the sandbox's Demo CRM (Contacts.Company
 * links to Companies, primary field "Name"). In an Airtable formula a link field reads as its linked records'
 * primary values, so `{Company} = "rec…"` matches nothing and used to answer `{"records": []}` — an agent concluded
 * the company had no contacts. It is now refused before any request for records, naming the field, the linked table
 * and the fix; comparisons that can match (by name, a text field holding a record id, RECORD_ID()) still run.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allTools } from "../../../src/shared/tools/catalog.ts";
import { callToolAnswer, startMcpHarness, type McpHarness } from "../../support/mcp-test-harness.ts";

let h: McpHarness;
let client: Client;
beforeAll(async () => {
  h = await startMcpHarness({ tools: allTools });
  client = await h.connect();
});
afterAll(async () => {
  await h?.close();
});

type Rec = { id: string; fields: Record<string, unknown> };

const call = (args: Record<string, unknown>) =>
  callToolAnswer(client, "list_records", { baseId: h.demo.base.id, tableId: "Contacts", ...args });
const contacts = () => h.sandbox.listRecordsDirect(h.demo.base.id, "Contacts");
const acmeId = () => h.sandbox.listRecordsDirect(h.demo.base.id, "Companies").find((r) => r.fields.Name === "Acme")!.id;
const acmeContactIds = () =>
  contacts()
    .filter((r) => (r.fields.Company as string[] | undefined)?.includes(acmeId()))
    .map((r) => r.id)
    .sort();
/** Requests for this base's records (list, get, listRecords), i.e. anything but the schema. */
const recordRequests = () => h.sandbox.requests.filter((r) => r.path.startsWith(`/v0/${h.demo.base.id}/`)).length;

describe("list_records: a link field compared with a record id", () => {
  it('refuses {Company} = "rec…" before reading, naming the field, the linked table and the fix', async () => {
    // The schema is cached by an earlier call, as in an agent's session (describe_table, then list_records).
    expect((await call({ maxRecords: 1 })).isError).toBe(false);
    expect(acmeContactIds().length).toBeGreaterThan(0);
    const companies = h.demo.base.tables.find((t) => t.name === "Companies")!.id;

    for (const formula of [
      `{Company}="${acmeId()}"`,
      `AND({Subscribed}, "${acmeId()}" != {Company})`,
      `FIND("${acmeId()}", {Company})`,
    ]) {
      const before = recordRequests();
      const trap = await call({ filterByFormula: formula });
      expect(trap.isError, formula).toBe(true);
      expect(trap.text).toContain('the link field "Company"');
      expect(trap.text).toContain(`table "Companies" (${companies})`);
      expect(trap.text).toContain("Nothing was read from the table.");
      expect(trap.text).toContain('{Company} = "Acme"');
      expect(trap.text).toContain(`RECORD_ID() = "${acmeId()}"`);
      // No request for records reached the sandbox: the refusal is not an empty answer.
      expect(recordRequests()).toBe(before);
    }
  });

  it('{Company} = "Acme" lists Acme\'s contacts', async () => {
    const byName = await call({ filterByFormula: '{Company} = "Acme"' });
    expect(byName.isError).toBe(false);
    expect((byName.data.records as Rec[]).map((r) => r.id).sort()).toEqual(acmeContactIds());
  });

  it("runs a text field compared with a record id, and RECORD_ID() = a record id", async () => {
    const [first] = contacts();
    const id = first!.id;
    await h.airtableA.updateRecords(h.demo.base.id, "Contacts", [{ id, fields: { Notes: acmeId() } }]);

    const text = await call({ filterByFormula: `{Notes} = "${acmeId()}"` });
    expect(text.isError).toBe(false);
    expect((text.data.records as Rec[]).map((r) => r.id)).toEqual([id]);

    const byRecordId = await call({ filterByFormula: `RECORD_ID() = "${id}"` });
    expect(byRecordId.isError).toBe(false);
    expect((byRecordId.data.records as Rec[]).map((r) => r.id)).toEqual([id]);
  });
});
