/**
 * addToLists: true keeps a list cell's order, through the real MCP SDK client over HTTP against the sandbox. An
 * agent's trial (h-agent31) added one company to 15 contacts with `{"Company": ["Hooli"]}` and addToLists: true; a
 * contact linked to [Hooli, Stark Industries] came back [Stark Industries, Hooli]: the items the cell held and the
 * list did not name were put in front of the list given, so an item given that the cell held already moved to the
 * end. A link's order is the order its lookups and primary values are listed in (and a person may have set it). Now
 * the cell keeps what it holds, in its order, and only the items it does not hold are added after them
 * (src/shared/tools/write/list-cells.ts settleListCells).
 */
import { describe, expect, it } from "vitest";
import type { OperationResultOutput } from "../../../src/shared/tools/operation-result.ts";
import { callToolAnswer } from "../../support/mcp-test-harness.ts";
import { useMcpHarness } from "../../support/use-mcp-harness.ts";

const mcp = useMcpHarness({
  name: "List order",
  tables: [
    {
      name: "Companies",
      fields: [{ name: "Name", type: "singleLineText" }],
      records: [{ Name: "Acme" }, { Name: "Globex" }, { Name: "Hooli" }],
    },
    {
      name: "Contacts",
      typecast: true,
      fields: [
        { name: "Name", type: "singleLineText" },
        { name: "Email", type: "email" },
        { name: "Company", type: "multipleRecordLinks", options: { linkedTableId: "Companies" } },
        { name: "Tags", type: "multipleSelects", options: { choices: [{ name: "vip" }, { name: "beta" }] } },
      ],
      records: [
        { Name: "Ben", Email: "ben@example.com", Company: ["Hooli", "Globex"], Tags: ["vip", "beta"] },
        { Name: "Chloe", Email: "chloe@example.com", Company: ["Hooli", "Globex"] },
      ],
    },
  ],
});

const companyId = (name: string) =>
  mcp.h.sandbox.listRecordsDirect(mcp.base.id, "Companies").find((r) => r.fields.Name === name)!.id;
const contact = (name: string) =>
  mcp.h.sandbox.listRecordsDirect(mcp.base.id, "Contacts").find((r) => r.fields.Name === name)!;

describe("addToLists: true and a cell's order", () => {
  it("update_records: an item the cell holds already stays where it is; a new one goes after the others", async () => {
    const ben = contact("Ben");
    const [hooli, globex, acme] = [companyId("Hooli"), companyId("Globex"), companyId("Acme")];
    expect(ben.fields.Company).toEqual([hooli, globex]);
    const same = await callToolAnswer(mcp.client, "update_records", {
      baseId: mcp.base.id,
      tableId: "Contacts",
      records: [{ id: ben.id, fields: { Company: ["Hooli"], Tags: ["vip"] } }],
      addToLists: true,
    });
    expect(same.isError, same.text).toBe(false);
    expect((same.data as OperationResultOutput).status).toBe("completed");
    // Before: [Globex, Hooli] and ["beta", "vip"].
    expect(contact("Ben").fields.Company).toEqual([hooli, globex]);
    expect(contact("Ben").fields.Tags).toEqual(["vip", "beta"]);
    const more = await callToolAnswer(mcp.client, "update_records", {
      baseId: mcp.base.id,
      tableId: "Contacts",
      records: [{ id: ben.id, fields: { Company: ["Acme", "Hooli"] } }],
      addToLists: true,
    });
    expect(more.isError, more.text).toBe(false);
    // Before: [Globex, Acme, Hooli].
    expect(contact("Ben").fields.Company).toEqual([hooli, globex, acme]);
  });

  it("upsert_records with addToLists: true keeps the order of the records it updates", async () => {
    const [hooli, globex] = [companyId("Hooli"), companyId("Globex")];
    const answer = await callToolAnswer(mcp.client, "upsert_records", {
      baseId: mcp.base.id,
      tableId: "Contacts",
      fieldsToMergeOn: ["Email"],
      addToLists: true,
      records: [{ fields: { Email: "chloe@example.com", Company: ["Hooli"] } }],
    });
    expect(answer.isError, answer.text).toBe(false);
    expect((answer.data as OperationResultOutput).results).toEqual([
      { index: 0, id: contact("Chloe").id, action: "updated" },
    ]);
    // Before: [Globex, Hooli].
    expect(contact("Chloe").fields.Company).toEqual([hooli, globex]);
  });
});
