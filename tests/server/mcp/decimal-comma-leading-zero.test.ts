/**
 * Number text whose one comma cannot be a thousands separator although three digits follow it: "0,500" (a first
 * group starting with 0) and "1234,500" (a first group of four digits) write a decimal comma, 0.5 and 1234.5 (no
 * grouping starts with 0 or holds more than three digits). They were read as grouped: with typecast left out the
 * refusal said "give the number 500" (an agent following it wrote a thousandfold too much), and with typecast: true
 * the text was sent, and the sandbox (like most parsers, dropping the comma) stored 500. Now refused as any decimal
 * comma ("0,5", "12,50 €") is, naming the number meant. Through the MCP SDK client over HTTP against the sandbox.
 */
import { describe, expect, it } from "vitest";
import { callToolAnswer } from "../../support/mcp-test-harness.ts";
import { useMcpHarness } from "../../support/use-mcp-harness.ts";

const mcp = useMcpHarness({
  name: "Decimal comma after zero",
  tables: [
    {
      name: "Items",
      fields: [
        { name: "Name", type: "singleLineText" },
        { name: "Price", type: "currency", options: { precision: 2, symbol: "€" } },
        { name: "Units", type: "number", options: { precision: 3 } },
      ],
      records: [{ Name: "seed" }],
    },
  ],
});

const call = (name: string, args: Record<string, unknown>) => callToolAnswer(mcp.client, name, args);
const writesSent = () =>
  mcp.h.sandbox.requests.filter(
    (r) => r.method !== "GET" && !r.path.endsWith("/listRecords") && r.path.includes(mcp.base.id),
  ).length;
const why = "what Airtable's typecast makes of a comma is not documented, and it may read it as a thousands separator";

describe("a comma that no grouping can have, followed by three digits", () => {
  it("typecast left out: refused naming the decimal meant, not the grouped reading", async () => {
    const before = writesSent();
    const answer = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Items",
      records: [{ fields: { Name: "z", Units: "0,500", Price: "1234,500 €" } }],
    });
    expect(answer.isError).toBe(true);
    expect(answer.text).toContain(
      `- records[0].fields: "Units" is a number field, given "0,500", which writes the decimal point as a comma: ` +
        `${why} (500). Give the number: 0.5.`,
    );
    expect(answer.text).toContain(
      `- records[0].fields: "Price" is a currency field, given "1234,500 €", which writes the decimal point as a ` +
        `comma: ${why} (1234500). Give the number: 1234.5.`,
    );
    expect(answer.text).not.toContain("give the number 500");
    expect(writesSent()).toBe(before);
  });

  it('typecast: true: refused as "0,5" is, instead of sent (the sandbox stored 500)', async () => {
    const before = writesSent();
    const answer = await call("create_record", {
      baseId: mcp.base.id,
      tableId: "Items",
      typecast: true,
      fields: { Name: "z2", Units: "0,125" },
    });
    expect(answer.isError, answer.text).toBe(true);
    expect(answer.text).toBe(
      `fields: "Units" is a number field, given "0,125", which writes the decimal point as a comma: ${why} (125). ` +
        "Give the number: 0.125.",
    );
    expect(writesSent()).toBe(before);
  });

  it("typecast: false: no grouped number is named", async () => {
    const answer = await call("create_record", {
      baseId: mcp.base.id,
      tableId: "Items",
      typecast: false,
      fields: { Name: "z3", Units: "0,500" },
    });
    expect(answer.isError).toBe(true);
    expect(answer.text).not.toContain("500 (a JSON number");
  });

  it("a grouping comma and Indian grouping are still left to typecast, given true", async () => {
    const answer = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Items",
      typecast: true,
      records: [{ fields: { Name: "g1", Units: "1,200" } }, { fields: { Name: "g2", Units: "1,00,000" } }],
    });
    expect(answer.isError, answer.text).toBe(false);
    const stored = (name: string) =>
      mcp.h.sandbox.listRecordsDirect(mcp.base.id, "Items").find((r) => r.fields.Name === name)?.fields;
    expect(stored("g1")?.Units).toBe(1200);
    expect(stored("g2")?.Units).toBe(100000);
  });
});
