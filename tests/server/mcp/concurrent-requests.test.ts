import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineTool, readOnlyAnnotations } from "../../../src/shared/tools/define-tool.ts";
import { startMcpHarness, type McpHarness } from "../../support/mcp-test-harness.ts";

/**
 * Many stateless /mcp requests at once, 2025-era (the catalog is compiled once per process and each request binds
 * its own caller: build-once.test.ts counts that). What users must observe: each request's answers carry their own
 * JSON-RPC ids and their own caller's data, however many run at once with the same ids; a request whose client
 * goes away, or that the client cancels, stops its tool; the next request is answered normally.
 */

/** Test-only tool: waits until its request is cancelled (or 5 s), and records that it started and whether its signal fired. */
const started: string[] = [];
const aborted: string[] = [];
/** How the server saw each tool call end (its metrics' outcome). */
const outcomes: string[] = [];
const waitTool = defineTool({
  name: "test_wait_for_cancel",
  title: "Wait for cancel",
  description: "Waits until the request is cancelled.",
  kind: "read",
  scopes: ["records:read"],
  inputSchema: { label: z.string() },
  outputSchema: { cancelled: z.boolean() },
  annotations: readOnlyAnnotations,
  async handler(input, ctx) {
    started.push(input.label);
    const cancelled = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 5_000);
      const onAbort = () => {
        clearTimeout(timer);
        aborted.push(input.label);
        resolve(true);
      };
      if (ctx.signal?.aborted === true) onAbort();
      else ctx.signal?.addEventListener("abort", onAbort);
    });
    return { cancelled };
  },
});

let h: McpHarness;
beforeAll(async () => {
  h = await startMcpHarness({
    extraTools: [waitTool],
    onToolCall: (tool, _ms, outcome) => void outcomes.push(`${tool} ${outcome}`),
  });
});
afterAll(async () => {
  await h?.close();
});

const mcpHeaders = {
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
  "mcp-protocol-version": "2025-11-25",
};

function post(userId: string, body: unknown, signal?: AbortSignal) {
  return fetch(`${h.url}/mcp`, {
    method: "POST",
    headers: { ...mcpHeaders, "x-test-user": userId },
    body: JSON.stringify(body),
    ...(signal !== undefined && { signal }),
  });
}

const listBases = (id: number | string) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name: "list_bases", arguments: {} },
});

type ListBasesAnswer = { id: number | string; result: { structuredContent: { bases: { id: string }[] } } };

describe("many concurrent stateless requests", () => {
  it("keeps concurrent requests with the same JSON-RPC id apart: each caller gets their own answer", async () => {
    const callers = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? h.demo.user.id : h.userB.id));
    const answers = await Promise.all(
      callers.map(async (userId) => ({
        userId,
        body: (await (await post(userId, listBases(7))).json()) as ListBasesAnswer,
      })),
    );
    for (const { userId, body } of answers) {
      expect(body.id).toBe(7);
      const bases = body.result.structuredContent.bases.map((b) => b.id);
      if (userId === h.userB.id) expect(bases).toEqual([h.userB.base.id]);
      else expect(bases).not.toContain(h.userB.base.id);
    }
  });

  it("cancels a running tool when its client goes away, and answers the next request normally", async () => {
    const gone = new AbortController();
    const pending = post(
      h.demo.user.id,
      {
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: { name: "test_wait_for_cancel", arguments: { label: "gone" } },
      },
      gone.signal,
    ).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(aborted).not.toContain("gone");
    gone.abort();
    await pending;
    const deadline = Date.now() + 2_000;
    while (!aborted.includes("gone") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(aborted).toContain("gone");

    const next = (await (await post(h.demo.user.id, listBases(1))).json()) as ListBasesAnswer;
    expect(next.result.structuredContent.bases.map((b) => b.id)).toContain(h.demo.base.id);
  });

  it("stops a tool call when the client sends notifications/cancelled for it", async () => {
    // Two messages in one POST (a JSON-RPC batch): the call, then its cancellation by the client's id. A cancelled
    // request gets no answer (MCP), so the POST stays open: the test hangs up once the call has been stopped. The
    // cancel reaches the SDK with the call, before the tool starts: the call then stops before it runs (its context
    // is awaited under the request's signal, read-call.ts awaitCallContext); a tool already running sees its signal
    // abort instead.
    const hangUp = new AbortController();
    const res = post(
      h.demo.user.id,
      [
        {
          jsonrpc: "2.0",
          id: "c1",
          method: "tools/call",
          params: { name: "test_wait_for_cancel", arguments: { label: "cancelled" } },
        },
        { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: "c1", reason: "user pressed stop" } },
      ],
      hangUp.signal,
    ).catch(() => undefined);
    const deadline = Date.now() + 1_000;
    const ended = () => outcomes.includes("test_wait_for_cancel cancelled");
    while (!ended() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    // Judged before the test hangs up (which would stop the call too): the server ended the call as cancelled, and
    // it either never started its tool (the cancel came with it) or its tool saw the signal abort.
    const seen = `outcomes: ${outcomes.join(",")}; started: ${started.join(",")}; aborted: ${aborted.join(",")}`;
    const endedByCancel = ended();
    const toolStopped = !started.includes("cancelled") || aborted.includes("cancelled");
    hangUp.abort();
    await res;
    expect(endedByCancel, seen).toBe(true);
    expect(toolStopped, seen).toBe(true);
  });
});
