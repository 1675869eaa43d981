/**
 * What a field-type fidelity trial (session 26: a base with every field type Airtable's field model documents,
 * written, read, filtered and sorted through the real MCP client over HTTP against the sandbox) found an agent told
 * too late or not at all, each now answered before anything is queued:
 * - create_field / create_table of a number, percent, currency, date, dateTime or duration field without the display
 *   options the field model's write format lists with no default (`{"name": "Qty", "type": "number"}`): the create
 *   was queued and failed in the worker with Airtable's INVALID_FIELD_TYPE_OPTIONS.
 */
import { describe, expect, it } from "vitest";
import { callToolAnswer } from "../../support/mcp-test-harness.ts";
import { useMcpHarness } from "../../support/use-mcp-harness.ts";

const mcp = useMcpHarness({
  name: "Field types trial",
  tables: [
    {
      name: "Items",
      fields: [
        { name: "Name", type: "singleLineText" },
        { name: "Ratio", type: "percent", options: { precision: 0 } },
        { name: "Code", type: "barcode" },
        {
          name: "Meeting",
          type: "dateTime",
          options: { dateFormat: { name: "iso" }, timeFormat: { name: "24hour" }, timeZone: "Europe/Berlin" },
        },
      ],
      records: [{ Name: "seed" }],
    },
  ],
});

const call = (name: string, args: Record<string, unknown>) => callToolAnswer(mcp.client, name, args);

/** Requests that change the test base's schema or records (anything but a read). */
const writesSent = () =>
  mcp.h.sandbox.requests.filter(
    (r) => r.method !== "GET" && !r.path.endsWith("/listRecords") && r.path.includes(mcp.base.id),
  ).length;

describe("a number or date field created without its display options", () => {
  it("create_field number without options.precision: refused up front with the options to send", async () => {
    const before = writesSent();
    const answer = await call("create_field", { baseId: mcp.base.id, tableId: "Items", name: "Qty", type: "number" });
    expect(answer.isError).toBe(true);
    expect(answer.text).toBe(
      "options: a number field needs options.precision (the digits shown after the decimal point, 0 to 8), which " +
        "Airtable's field model gives no default: send options: { precision: 0 }.",
    );
    expect(writesSent()).toBe(before);
  });

  it("create_table names every field missing options in one answer; nothing is queued", async () => {
    const before = writesSent();
    const answer = await call("create_table", {
      baseId: mcp.base.id,
      name: "Orders",
      fields: [
        { name: "Name", type: "singleLineText" },
        { name: "Price", type: "currency", options: { precision: 2 } },
        { name: "Due", type: "date" },
        { name: "At", type: "dateTime", options: { dateFormat: { name: "iso" }, timeFormat: { name: "24hour" } } },
        { name: "Took", type: "duration" },
        { name: "Done", type: "checkbox" },
      ],
    });
    expect(answer.isError).toBe(true);
    expect(answer.text).toBe(
      "4 fields need options they were not given; nothing was queued. Fix them all, then call again:\n" +
        "- fields[1].options: a currency field needs fields[1].options.symbol (the digits shown after the decimal " +
        "point, 0 to 7, and the currency symbol), which Airtable's field model gives no default: send options: " +
        '{ precision: 2, symbol: "$" } in fields[1].\n' +
        "- fields[2].options: a date field needs fields[2].options.dateFormat (how dates are shown: local, friendly, " +
        "us, european or iso), which Airtable's field model gives no default: send options: { dateFormat: { name: " +
        '"iso" } } in fields[2].\n' +
        "- fields[3].options: a dateTime field needs fields[3].options.timeZone (how dates are shown (local, " +
        'friendly, us, european or iso), 12hour or 24hour, and the time zone: "utc", "client" (each viewer\'s own) ' +
        'or one such as "Europe/Berlin"), which Airtable\'s field model gives no default: send options: ' +
        '{ dateFormat: { name: "iso" }, timeFormat: { name: "24hour" }, timeZone: "utc" } in fields[3].\n' +
        "- fields[4].options: a duration field needs fields[4].options.durationFormat (h:mm, h:mm:ss, h:mm:ss.S, " +
        "h:mm:ss.SS or h:mm:ss.SSS), which Airtable's field model gives no default: send options: " +
        '{ durationFormat: "h:mm" } in fields[4].',
    );
    expect(writesSent()).toBe(before);
  });

  it("the same fields with their options are created", async () => {
    const answer = await call("create_table", {
      baseId: mcp.base.id,
      name: "Orders",
      fields: [
        { name: "Name", type: "singleLineText" },
        { name: "Qty", type: "number", options: { precision: 0 } },
        { name: "Share", type: "percent", options: { precision: 1 } },
        { name: "Price", type: "currency", options: { precision: 2, symbol: "$" } },
        { name: "Due", type: "date", options: { dateFormat: { name: "iso" } } },
        {
          name: "At",
          type: "dateTime",
          options: { dateFormat: { name: "iso" }, timeFormat: { name: "24hour" }, timeZone: "utc" },
        },
        { name: "Took", type: "duration", options: { durationFormat: "h:mm" } },
        { name: "Done", type: "checkbox" },
      ],
    });
    expect(answer.isError, answer.text).toBe(false);
    expect(answer.data).toMatchObject({ status: "completed", results: [{ index: 0, id: expect.any(String) }] });
  });
});
