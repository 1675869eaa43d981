/**
 * cancel_operation with the embedded runner (`npm start` without Redis, stdio): the MCP SDK client over real HTTP,
 * operations run in this process against the sandbox with their logs in real Redis. A running import stops within
 * one batch of the cancel and its result is exactly what the sandbox holds; stopping a record write needs
 * records:write (the scopes of the tool that made the operation: tests/server/mcp/cancel-scopes.test.ts for the rest).
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allTools } from "../../../src/shared/tools/catalog.ts";
import type { OperationResultOutput } from "../../../src/shared/tools/operation-result.ts";
import { startMcpHarness, type McpHarness } from "../../support/mcp-test-harness.ts";

let h: McpHarness;
let client: Client;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  h = await startMcpHarness({ tools: allTools, writeWaitMs: 200 });
  client = await h.connect();
});
afterAll(async () => {
  await h?.close();
});

async function call(name: string, args: Record<string, unknown>, as = client): Promise<OperationResultOutput> {
  const result = await as.callTool({ name, arguments: args });
  if (result.isError === true) throw new Error(`${name}: ${JSON.stringify(result.content)}`);
  return result.structuredContent as OperationResultOutput;
}

describe("cancel_operation (embedded runner)", () => {
  it("stops a running import after the batch in flight; what was written is listed, the rest is not", async () => {
    const baseId = h.sandbox.createBase(h.demo.user.id, {
      name: "Embedded cancel",
      tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }] }],
    }).id;
    const records = Array.from({ length: 1000 }, (_, i) => ({ fields: { Name: `row ${i}` } }));
    const first = await call("create_records", { baseId, tableId: "Tasks", records });
    expect(first.done).toBe(false);
    for (let i = 0; i < 50 && h.sandbox.listRecordsDirect(baseId, "Tasks").length < 50; i++) await sleep(50);

    const answer = await call("cancel_operation", { operationId: first.operationId });
    const atCancel = answer.progress.recordsSucceeded;
    let final = answer;
    for (let i = 0; i < 100 && !final.done; i++) {
      await sleep(100);
      final = await call("get_operation", { operationId: first.operationId });
    }
    expect(final.status).toBe("cancelled");
    expect(final.progress.recordsSucceeded - atCancel).toBeLessThanOrEqual(10);
    await sleep(500);
    const stored = h.sandbox.listRecordsDirect(baseId, "Tasks");
    expect(stored.length).toBe(final.progress.recordsSucceeded);
    expect(stored.length).toBeLessThan(1000);
    const page = [...(final.results ?? [])];
    for (let cursor = final.nextCursor; cursor !== undefined;) {
      const next = await call("get_operation", { operationId: first.operationId, cursor });
      page.push(...(next.results ?? []));
      cursor = next.nextCursor;
    }
    expect(page).toHaveLength(1000);
    const ids = page.flatMap((r) => (r.id === undefined ? [] : [r.id]));
    expect(new Set(ids)).toEqual(new Set(stored.map((r) => r.id)));
    expect(page.filter((r) => r.notWritten === true).length).toBe(page.length - ids.length);

    // Again: idempotent, unchanged, and the answer says this cancel stopped nothing more.
    const again = await call("cancel_operation", { operationId: first.operationId });
    expect(again).toEqual({
      ...final,
      message: `This operation had already been cancelled before this call: nothing more was stopped. ${final.message}`,
    });
  });

  it("a cancelled delete says its results carry an id for each record deleted, not written", async () => {
    // Session 29 trial: a 1,500-record delete cancelled midway answered "an id if it was written".
    const baseId = h.sandbox.createBase(h.demo.user.id, {
      name: "Embedded delete cancel",
      tables: [
        {
          name: "Tasks",
          fields: [{ name: "Name", type: "singleLineText" }],
          records: Array.from({ length: 400 }, (_, i) => ({ Name: `row ${i}` })),
        },
      ],
    }).id;
    const recordIds = h.sandbox.listRecordsDirect(baseId, "Tasks").map((r) => r.id);
    const first = await call("delete_records", { baseId, tableId: "Tasks", recordIds });
    expect(first.done).toBe(false);
    await call("cancel_operation", { operationId: first.operationId });
    let final = first;
    for (let i = 0; i < 100 && !final.done; i++) {
      await sleep(100);
      final = await call("get_operation", { operationId: first.operationId });
    }
    expect(final.status).toBe("cancelled");
    expect(final.message).toContain(" items were deleted; ");
    expect(final.message).toContain("Each item's result is in results, by index: an id if it was deleted, notWritten");
    expect(final.message).not.toContain("if it was written");
  });

  it("a write call waiting for its operation ends with the cancel; its last progress notification says cancelled", async () => {
    const waiting = await startMcpHarness({ tools: allTools, writeWaitMs: 20_000 });
    try {
      const agent = await waiting.connect();
      const baseId = waiting.sandbox.createBase(waiting.demo.user.id, {
        name: "Waiting call",
        tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }] }],
      }).id;
      const seen: { progress: number; total?: number; message?: string }[] = [];
      const calledAt = Date.now();
      const writing = agent.callTool(
        {
          name: "create_records",
          arguments: {
            baseId,
            tableId: "Tasks",
            records: Array.from({ length: 1000 }, (_, i) => ({ fields: { Name: `w ${i}` } })),
          },
        },
        undefined,
        { onprogress: (p) => seen.push(p) },
      );
      while (seen.length < 3) await sleep(20);
      const listed = (await agent.callTool({ name: "list_operations", arguments: {} })).structuredContent as {
        operations: { operationId: string; baseId: string }[];
      };
      const operationId = listed.operations.find((o) => o.baseId === baseId)!.operationId;
      await call("cancel_operation", { operationId }, agent);
      const result = (await writing).structuredContent as OperationResultOutput;
      expect(Date.now() - calledAt).toBeLessThan(10_000);
      expect(result.status).toBe("cancelled");
      expect(seen.at(-1)?.message).toMatch(
        new RegExp(`^cancelled: \\d+ of 1,000 written; the rest were not sent · operation ${operationId}$`),
      );
      // Every progress message names the operation, so a client whose call goes away knows what to look up.
      for (const p of seen) expect(p.message).toContain(operationId);
      // The cancelled notice counts every item as accounted for, so progress still increases (MUST, progress spec).
      expect(seen.at(-1)?.progress).toBe(1000);
      for (let i = 1; i < seen.length; i++) expect(seen[i]!.progress).toBeGreaterThan(seen[i - 1]!.progress);
    } finally {
      await waiting.close();
    }
  });

  it("stopping a record write needs records:write, like the write: a read-only token gets 403 insufficient_scope", async () => {
    const baseId = h.sandbox.createBase(h.demo.user.id, {
      name: "Read-only cancel",
      tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }] }],
    }).id;
    const write = await call("create_records", { baseId, tableId: "Tasks", records: [{ fields: { Name: "kept" } }] });
    const readOnly = await h.connect({ scopes: ["records:read", "schema:read"] });
    await expect(
      readOnly.callTool({ name: "cancel_operation", arguments: { operationId: write.operationId } }),
    ).rejects.toThrow(/403|insufficient_scope/);
    // An id that is none of the caller's operations needs no scope: the answer any token gets, as get_operation's.
    const none = await readOnly.callTool({
      name: "cancel_operation",
      arguments: { operationId: "op_AAAAAAAAAAAAAAAAAAAAAA" },
    });
    expect(none.isError).toBe(true);
    expect(JSON.stringify(none.content)).toContain("There is no operation");
  });
});
