/**
 * A dateTime field's time zone as Airtable's field model types it: a value of its Timezone model
 * (https://airtable.com/developers/web/api/model/timezone), which enumerates "utc", "client" and IANA Region/City
 * names. The sandbox took any text, so `timeZone: "UTC"` (or "EST", or a misspelt city) created the field here, while
 * Airtable refuses it once the queued operation runs. create_field and create_table now refuse such a zone before
 * queueing, saying what to write. Real MCP client over HTTP, the sandbox, writes on the embedded runner.
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

const call = (name: string, args: Record<string, unknown>) => callToolAnswer(client, name, args);
const schemaWrites = () => h.sandbox.requests.filter((r) => r.path.startsWith("/v0/meta/") && r.method !== "GET");
const dateTime = (timeZone: string) => ({
  dateFormat: { name: "iso" },
  timeFormat: { name: "24hour" },
  timeZone,
});

describe("a dateTime field's time zone", () => {
  it("create_field refuses a zone Airtable's Timezone model does not hold, before queueing, saying what to write", async () => {
    h.sandbox.clearRequests();
    const cases: [string, string][] = [
      ["UTC", 'options.timeZone "UTC" is not spelled as Airtable\'s zones are: write "utc".'],
      [
        "EST",
        'options.timeZone "EST" is an abbreviation, not a time zone Airtable takes: give the IANA name of the ' +
          'place (e.g. "America/New_York" for EST).',
      ],
      [
        "Europe/Berlinn",
        'options.timeZone "Europe/Berlinn" is not a time zone Airtable takes. Did you mean ' + '"Europe/Berlin"?',
      ],
      ["europe/berlin", 'Did you mean "Europe/Berlin"?'],
      // An old link name is told the place it stands for (it was told only the three kinds of value).
      [
        "US/Eastern",
        'options.timeZone "US/Eastern" is not a time zone Airtable takes. Did you mean "America/New_York"?',
      ],
    ];
    for (const [zone, said] of cases) {
      const answer = await call("create_field", {
        baseId: h.demo.base.id,
        tableId: "Contacts",
        name: `Met ${zone}`,
        type: "dateTime",
        options: dateTime(zone),
      });
      expect(answer.isError, zone).toBe(true);
      expect(answer.text, zone).toContain(said);
      expect(answer.text, zone).toContain(
        'Give "utc" (lowercase) for UTC, "client" to show each viewer their own zone',
      );
    }
    expect(schemaWrites()).toEqual([]);

    for (const zone of ["utc", "client", "Asia/Kolkata"]) {
      const created = await call("create_field", {
        baseId: h.demo.base.id,
        tableId: "Contacts",
        name: `Meeting (${zone})`,
        type: "dateTime",
        options: dateTime(zone),
      });
      expect(created.isError, zone).toBe(false);
      expect(created.data.status, zone).toBe("completed");
    }
  });

  it("create_table names the field whose zone is refused", async () => {
    h.sandbox.clearRequests();
    const answer = await call("create_table", {
      baseId: h.demo.base.id,
      name: "Meetings",
      fields: [
        { name: "Title", type: "singleLineText" },
        { name: "Starts", type: "dateTime", options: dateTime("GMT") },
      ],
    });
    expect(answer.isError).toBe(true);
    expect(answer.text).toContain(
      'fields[1].options.timeZone "GMT" is not spelled as Airtable\'s zones are: write "utc".',
    );
    expect(schemaWrites()).toEqual([]);
  });
});
