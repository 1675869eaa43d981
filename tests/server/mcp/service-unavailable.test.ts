/**
 * Airtable (or an edge in front of it) answering 503 Service Unavailable with a `Retry-After` header (RFC 9110
 * §10.2.3: "how long the service is expected to be unavailable"). Airtable's errors page documents no Retry-After
 * ("retry the request with backoffs"), so this is what the server does if one comes: a time within what a call
 * waits is waited out before the next attempt; a later one is not retried into, and the agent is told when to try
 * again. Over the MCP SDK client and real HTTP, the sandbox answering 503 with the header (its `unavailable` fault).
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { nowMs } from "../../../src/sandbox/recorder.ts";
import { callToolAnswer, startMcpHarness, type McpHarness } from "../../support/mcp-test-harness.ts";

let h: McpHarness;
let client: Client;
beforeAll(async () => {
  h = await startMcpHarness();
  client = await h.connect();
});
afterAll(async () => {
  await h?.close();
});
beforeEach(() => h.sandbox.setFaults({ unavailable: 0, retryAfter: undefined }));

const requestsSince = (since: number) => h.sandbox.requests.filter((r) => r.time >= since);

describe("a 503 with Retry-After", () => {
  it("further off than a call waits: one request, and the agent is told when to try again", async () => {
    await callToolAnswer(client, "describe_table", { baseId: h.demo.base.id, tableId: "Contacts" }); // schema cached
    h.sandbox.setFaults({ unavailable: 5, retryAfter: "120" });
    const before = nowMs();
    const started = Date.now();
    const answer = await callToolAnswer(client, "list_records", { baseId: h.demo.base.id, tableId: "Contacts" });
    expect(answer.isError, answer.text).toBe(true);
    const at = /at (\S+Z) \(its Retry-After header\)/.exec(answer.text)?.[1];
    expect(answer.text).toMatch(
      /^Airtable is unavailable right now \(HTTP 503 SERVICE_UNAVAILABLE\) and asked to be retried in 1[12]\d s, at /,
    );
    expect(Date.parse(at ?? "")).toBeGreaterThanOrEqual(started + 120_000 - 1000);
    expect(answer.text).toContain("Try again after that time, not before.");
    // Not retried into the same 503 four more times.
    expect(requestsSince(before).map((r) => r.status)).toEqual([503]);
  });

  it("so far off no date can say it: the agent gets the plain 503 answer, not an internal error", async () => {
    // 10^13 s is past the last time a JavaScript Date holds (8.64e15 ms after 1970): a proxy's nonsense, not a time.
    await callToolAnswer(client, "describe_table", { baseId: h.demo.base.id, tableId: "Contacts" });
    h.sandbox.setFaults({ unavailable: 5, retryAfter: "10000000000000" });
    const answer = await callToolAnswer(client, "list_records", { baseId: h.demo.base.id, tableId: "Contacts" });
    expect(answer.isError, answer.text).toBe(true);
    expect(answer.text).toBe(
      "Airtable is not answering properly right now (SERVICE_UNAVAILABLE). Try again in a minute.",
    );
  });

  it("within what a call waits: waited out, then the read answers", async () => {
    await callToolAnswer(client, "describe_table", { baseId: h.demo.base.id, tableId: "Contacts" });
    h.sandbox.setFaults({ unavailable: 1, retryAfter: "1" });
    const before = nowMs();
    const answer = await callToolAnswer(client, "list_records", {
      baseId: h.demo.base.id,
      tableId: "Contacts",
      maxRecords: 1,
    });
    expect(answer.isError, answer.text).toBe(false);
    const [refused, answered] = requestsSince(before);
    expect([refused?.status, answered?.status]).toEqual([503, 200]);
    expect(answered!.time - refused!.time).toBeGreaterThanOrEqual(950);
  });
});
