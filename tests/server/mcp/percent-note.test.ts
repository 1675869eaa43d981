/**
 * A percent field given a whole percent (`"Discount": 50`, meant as 50 %): Airtable's percent cell holds a fraction
 * ("the underlying cell value for 12.3% is 0.123": field model, Percent), so 50 is stored as 5,000 %, legally and
 * without a word from Airtable. The write goes through (never stricter than Airtable), and its answer — the first one
 * and every poll of it (get_operation) — says what was stored and what to give instead (value-notes.ts). Through the
 * real MCP SDK client over HTTP against the sandbox, which stores percents as Airtable does (50 stays 50).
 */
import { describe, expect, it } from "vitest";
import type { OperationResultOutput } from "../../../src/shared/tools/operation-result.ts";
import { callToolAnswer } from "../../support/mcp-test-harness.ts";
import { useMcpHarness } from "../../support/use-mcp-harness.ts";

const mcp = useMcpHarness({
  name: "Percent notes",
  tables: [
    {
      name: "Deals",
      fields: [
        { name: "Name", type: "singleLineText" },
        { name: "Discount", type: "percent", options: { precision: 0 } },
        { name: "Deal size", type: "number", options: { precision: 0 } },
        { name: "Owner", type: "singleCollaborator" },
      ],
    },
  ],
});

async function write(name: string, args: Record<string, unknown>): Promise<OperationResultOutput> {
  const answer = await callToolAnswer(mcp.client, name, { baseId: mcp.base.id, tableId: "Deals", ...args });
  expect(answer.isError, answer.text).toBe(false);
  return answer.data as unknown as OperationResultOutput;
}

const stored = (name: string) =>
  mcp.h.sandbox.listRecordsDirect(mcp.base.id, mcp.base.tables[0]!.id).find((r) => r.fields.Name === name)?.fields
    .Discount;

describe("a percent field given a whole percent", () => {
  it("writes it, and the answer says it is stored as 5,000 % and to give 0.5 for 50 %", async () => {
    const answer = await write("create_record", { fields: { Name: "One", Discount: 50 } });
    expect(answer.status).toBe("completed");
    expect(answer.message).toBe(
      'Done: 1 record written of 1. "Discount" is a percent field, which holds a fraction (0.5 is 50 %): 50 is ' +
        "stored as 5,000 % (results index 0); if you meant 50 %, give 0.5 (update the record with the number " +
        "divided by 100).",
    );
    expect(stored("One")).toBe(50);
  });

  it("names every record given one (not a fraction, 1, over 100 or a number field), and every poll says it again", async () => {
    const answer = await write("create_records", {
      records: [
        { fields: { Name: "A", Discount: 12.5 } },
        { fields: { Name: "B", Discount: 0.5 } },
        { fields: { Name: "C", Discount: 150, "Deal size": 50 } },
        { fields: { Name: "D", Discount: 100 } },
        { fields: { Name: "E", Discount: 1 } },
        { fields: { Name: "F", Discount: 250 } },
      ],
    });
    const note =
      '"Discount" is a percent field, which holds a fraction (0.5 is 50 %): 12.5 is stored as 1,250 % (results ' +
      "index 0, 3); if you meant 12.5 %, give 0.125 (update those records with each number divided by 100).";
    expect(answer.message).toBe(`Done: 6 records written of 6. ${note}`);
    const polled = await callToolAnswer(mcp.client, "get_operation", { operationId: answer.operationId });
    expect((polled.data as unknown as OperationResultOutput).message).toBe(`Done: 6 records written of 6. ${note}`);
    expect(stored("A")).toBe(12.5);
  });

  it("once the write has ended with a record not written, names only the records written", async () => {
    const answer = await write("create_records", {
      records: [
        // An unknown collaborator: Airtable refuses this record, so its 50 is stored nowhere.
        { fields: { Name: "H", Discount: 50, Owner: { email: "ghost@example.com" } } },
        { fields: { Name: "I", Discount: 20 } },
      ],
    });
    expect(answer.status, answer.message).toBe("completed_with_errors");
    expect(answer.message).toBe(
      "Done with errors: 1 record written, 1 failed of 2. Each failed item's error is in results, by index. " +
        '"Discount" is a percent field, which holds a fraction (0.5 is 50 %): 20 is stored as 2,000 % (results ' +
        "index 1); if you meant 20 %, give 0.2 (update the record with the number divided by 100).",
    );
    expect(stored("I")).toBe(20);
  });

  // A newcomer trial: a 25-record create_records refused for four other problems never mentioned its "Win
  // probability": 50; the agent fixed the four, sent the call again and stored 5,000 % before being told.
  it("is named in the refusal of a call refused for other problems, so the call sent again does not store it", async () => {
    const refused = await callToolAnswer(mcp.client, "create_records", {
      baseId: mcp.base.id,
      tableId: "Deals",
      records: [
        { fields: { Name: "J", Discont: 0.1 } },
        { fields: { Name: "K", Discount: 50 } },
        { fields: { Name: "L", "Deal size": "lots" } },
        { fields: { Name: "M", Discount: 30 } },
      ],
    });
    expect(refused.isError).toBe(true);
    expect(refused.text).toMatch(/^2 problems in 2 records; nothing was queued/);
    expect(refused.text).toContain(
      'Not refused, but check it before calling again: "Discount" is a percent field, which holds a fraction ' +
        "(0.5 is 50 %): 50 would be stored as 5,000 % (records[1].fields, records[3].fields); if you meant 50 %, " +
        "give 0.5 (each number divided by 100).",
    );
    // One other problem alone (the unknown field's own refusal) says it too.
    const alone = await callToolAnswer(mcp.client, "create_record", {
      baseId: mcp.base.id,
      tableId: "Deals",
      fields: { Name: "N", Discont: 0.1, Discount: 75 },
    });
    expect(alone.isError).toBe(true);
    expect(alone.text).toMatch(/^Unknown field "Discont"/);
    expect(alone.text).toContain("75 would be stored as 7,500 % (fields); if you meant 75 %, give 0.75");
    expect(stored("K")).toBeUndefined();
  });
});
