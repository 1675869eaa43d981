/**
 * A write whose own tools/call is cancelled while it waits (issue found in session 12's MCP 2026-07-28 audit): a
 * 2026-07-28 client that closes the request's stream has cancelled it ("Closing the SSE response stream MUST be
 * treated by the server as cancellation", basic/transports/streamable-http) and will re-issue the request, so the
 * operation must stop; a 2025-era client that disconnects has not ("Disconnection SHOULD NOT be interpreted as the
 * client cancelling its request"), so its write goes on. Real HTTP, the embedded runner against the sandbox, logs in
 * real Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OperationSummary } from "../../../src/shared/operations/summary.ts";
import { isUnreadable } from "../../../src/shared/operations/unreadable-log.ts";
import { allTools } from "../../../src/shared/tools/catalog.ts";
import { startMcpHarness, type McpHarness } from "../../support/mcp-test-harness.ts";
import { MODERN, modernMeta } from "../../support/tasks-client.ts";

let h: McpHarness;
beforeAll(async () => {
  h = await startMcpHarness({ tools: allTools, writeWaitMs: 20_000 });
});
afterAll(async () => {
  await h?.close();
});

const TOTAL = 1_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * 1,000 records (100 batches) sent as `era`; the client goes away once 2 batches are written, while the write is
 * still running (asserted). The operation's final summary.
 */
async function writeThenLeave(era: "2026-07-28" | "2025-11-25", label: string): Promise<OperationSummary> {
  const records = Array.from({ length: TOTAL }, (_, i) => ({ fields: { Name: `${label} ${i}` } }));
  const before = new Set((await h.operations.listForOwner(h.demo.user.id, { limit: 50 })).map((o) => o.operationId));
  const modern = era === MODERN;
  const params = {
    name: "create_records",
    arguments: { baseId: h.demo.base.id, tableId: "Contacts", records },
    _meta: { ...(modern ? modernMeta(false) : {}), progressToken: label },
  };
  const leave = new AbortController();
  let status: number | undefined;
  const answered = fetch(`${h.url}/mcp`, {
    method: "POST",
    signal: leave.signal,
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": era,
      ...(modern && { "mcp-method": "tools/call", "mcp-name": "create_records" }),
      "x-test-user": h.demo.user.id,
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params }),
  }).then(
    async (res) => {
      status = res.status;
      await res.text().catch(() => undefined); // cut short by the abort below
    },
    () => undefined,
  );
  for (let i = 0; i < 100 && written(label) < 20; i++) await sleep(50);
  expect(written(label), "the write had started").toBeGreaterThanOrEqual(20);
  leave.abort();
  expect(written(label), "the client left while the write was still running").toBeLessThan(TOTAL);
  await answered;
  expect(status, "the call was answered with a stream before the client left").toBe(200);
  for (let i = 0; i < 200; i++) {
    const mine = (await h.operations.listForOwner(h.demo.user.id, { limit: 50 })).find(
      (o): o is OperationSummary => !isUnreadable(o) && !before.has(o.operationId),
    );
    if (mine !== undefined && mine.status !== "queued" && mine.status !== "running") return mine;
    await sleep(50);
  }
  throw new Error("the operation did not end within 10 s");
}

function written(label: string): number {
  return h.sandbox
    .listRecordsDirect(h.demo.base.id, "Contacts")
    .filter((r) => String(r.fields.Name).startsWith(`${label} `)).length;
}

describe("a write call that goes away while it waits", () => {
  it("2026-07-28: closing the request's stream cancels the operation; what was written stays, the rest is not sent", async () => {
    const op = await writeThenLeave(MODERN, "modern-leaves");
    expect(op.status).toBe("cancelled");
    const settled = written("modern-leaves");
    expect(settled).toBeLessThan(TOTAL);
    await sleep(1_000);
    expect(written("modern-leaves"), "nothing is sent after the cancel has ended the operation").toBe(settled);
  });

  it("2025-11-25: a disconnect is not a cancel; the write completes", async () => {
    const op = await writeThenLeave("2025-11-25", "legacy-leaves");
    expect(op.status).toBe("completed");
    expect(written("legacy-leaves")).toBe(TOTAL);
  });
});
