/**
 * get_operation's `since` (the sinceToken of an earlier answer), through the real MCP SDK client over real HTTP
 * against the sandbox: a trial (session 28) polling a 1,500-record import got the same first 200 results (8 kB) on
 * every poll. Polled with the previous answer's sinceToken, each answer lists only the results that changed after
 * it; the results of all polls together are every record once. Left out, the answer is as before.
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

async function call(name: string, args: Record<string, unknown>): Promise<OperationResultOutput> {
  const result = await client.callTool({ name, arguments: args });
  if (result.isError === true) throw new Error(`${name}: ${JSON.stringify(result.content)}`);
  return result.structuredContent as OperationResultOutput;
}

describe("get_operation with since", () => {
  it("polling a running import with each answer's sinceToken lists each record's result once", async () => {
    const baseId = h.sandbox.createBase(h.demo.user.id, {
      name: "Polled import",
      tables: [{ name: "Rows", fields: [{ name: "Name", type: "singleLineText" }] }],
    }).id;
    // Slower than the limiter, so the polls see it running for a while.
    h.sandbox.setFaults({ latencyMs: 40 });
    try {
      const records = Array.from({ length: 450 }, (_, i) => ({ fields: { Name: `row ${i}` } }));
      const first = await call("create_records", { baseId, tableId: "Rows", records });
      expect(first.done).toBe(false);
      expect(first.sinceToken).toMatch(new RegExp(`^${first.operationId}@\\d+$`));

      // Left out: every result from the first, as before (pending ones included).
      const whole = await call("get_operation", { operationId: first.operationId });
      expect(whole.results).toHaveLength(200);
      expect(whole.results?.[0]?.index).toBe(0);

      const seen = new Map<number, number>();
      let token = first.sinceToken!;
      let answer: OperationResultOutput = first;
      let polls = 0;
      let paged = false;
      for (; polls < 400 && !answer.done; polls++) {
        await sleep(60);
        answer = await call("get_operation", { operationId: first.operationId, since: token });
        const listed = [...(answer.results ?? [])];
        // More than a page changed: paged with the same since. A token then may list a few results again (never
        // skip one): counted below.
        if (answer.nextCursor !== undefined) paged = true;
        for (let cursor = answer.nextCursor; cursor !== undefined;) {
          const more = await call("get_operation", { operationId: first.operationId, since: token, cursor });
          listed.push(...(more.results ?? []));
          cursor = more.nextCursor;
        }
        for (const r of listed) {
          expect(r.pending, `index ${r.index} listed while pending`).toBeUndefined();
          seen.set(r.index, (seen.get(r.index) ?? 0) + 1);
        }
        token = answer.sinceToken!;
      }
      expect(answer.status).toBe("completed");
      expect(polls).toBeGreaterThan(2);
      expect(seen.size).toBe(450);
      if (!paged) expect([...seen.values()].every((n) => n === 1)).toBe(true);
      // Once done, nothing changes after the last answer.
      const after = await call("get_operation", { operationId: first.operationId, since: token });
      expect(after.results).toEqual([]);
      expect(after.message).toContain("The results field lists only the 0 items whose result changed since");
    } finally {
      h.sandbox.setFaults({ latencyMs: 0 });
    }
  });

  it("the last page's sinceToken counts the earlier pages as seen: the next poll lists only what changed after", async () => {
    // h-review29: a poll that paged (more than 200 results changed) and went on with the last page's sinceToken got
    // the earlier pages' results again, and paging them gave the same token: the same results on every poll.
    const baseId = h.sandbox.createBase(h.demo.user.id, {
      name: "Paged polls",
      tables: [{ name: "Rows", fields: [{ name: "Name", type: "singleLineText" }] }],
    }).id;
    const records = Array.from({ length: 450 }, (_, i) => ({ fields: { Name: `row ${i}` } }));
    const first = await call("create_records", { baseId, tableId: "Rows", records });
    let done = first;
    for (let i = 0; i < 600 && !done.done; i++) {
      await sleep(100);
      done = await call("get_operation", { operationId: first.operationId });
    }
    expect(done.status).toBe("completed");
    // The token of an answer given before anything settled (seq 1, the log's `accepted`; the write's own answer may
    // come after a few batches on a busy host): every result changed since, three pages, each with its sinceToken.
    const since = `${first.operationId}@1`;
    const seen = new Set<number>();
    let page = await call("get_operation", { operationId: first.operationId, since });
    for (let pages = 1; ; pages++) {
      for (const r of page.results ?? []) seen.add(r.index);
      if (page.nextCursor === undefined) {
        expect(pages).toBe(3);
        break;
      }
      page = await call("get_operation", {
        operationId: first.operationId,
        since,
        cursor: page.nextCursor,
      });
    }
    expect(seen.size).toBe(450);
    // Nothing changed since the last page was answered: its token lists nothing again.
    const next = await call("get_operation", { operationId: first.operationId, since: page.sinceToken });
    expect(next.results).toEqual([]);
    expect(next.nextCursor).toBeUndefined();
  });

  it("a cancelled import's last poll lists the records not written; a token of another operation is refused", async () => {
    const baseId = h.sandbox.createBase(h.demo.user.id, {
      name: "Cancelled import",
      tables: [{ name: "Rows", fields: [{ name: "Name", type: "singleLineText" }] }],
    }).id;
    h.sandbox.setFaults({ latencyMs: 40 });
    try {
      const records = Array.from({ length: 300 }, (_, i) => ({ fields: { Name: `row ${i}` } }));
      const first = await call("create_records", { baseId, tableId: "Rows", records });
      expect(first.done).toBe(false);
      const cancel = await call("cancel_operation", { operationId: first.operationId });
      let final = cancel;
      for (let i = 0; i < 100 && !final.done; i++) {
        await sleep(50);
        final = await call("get_operation", { operationId: first.operationId });
      }
      expect(final.status).toBe("cancelled");
      const changed = await call("get_operation", { operationId: first.operationId, since: first.sinceToken });
      const notWritten = (changed.results ?? []).filter((r) => r.notWritten === true).length;
      const written = (changed.results ?? []).filter((r) => r.id !== undefined).length;
      expect(written + notWritten).toBe(Math.min(200, 300));
      expect(notWritten).toBeGreaterThan(0);

      const other = await client.callTool({
        name: "get_operation",
        arguments: { operationId: first.operationId, since: "op_someoneelse@3" },
      });
      expect(other.isError).toBe(true);
      expect(JSON.stringify(other.content)).toContain(
        `does not belong to operation ${first.operationId}. Use the sinceToken of an answer about this operation`,
      );
    } finally {
      h.sandbox.setFaults({ latencyMs: 0 });
    }
  });
});
