/**
 * Mentions in comments, as Airtable's "user mentioned" model documents them
 * (https://airtable.com/developers/web/api/model/user-mentioned): a comment mentions a user "by including the userId
 * or email surrounded by @[]"; answers give "the userId surrounded by the same @[]" in the text and a `mentioned`
 * object map from each id to `{type, id, name, email}`. The sandbox kept the text as sent and had no map, so
 * list_comments, which dropped `mentioned`, looked complete; against Airtable an agent read `@[usr…]` with no way to
 * say who it was. Real MCP client over HTTP, the sandbox, the write on the embedded runner.
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

describe("mentions in comments", () => {
  it("create_comment with @[email]: list_comments shows @[user id] and who it is", async () => {
    const recordId = h.sandbox.listRecordsDirect(h.demo.base.id, "Contacts")[0]!.id;
    const created = await call("create_comment", {
      baseId: h.demo.base.id,
      tableId: "Contacts",
      recordId,
      text: "@[b@example.com] can you call them?",
    });
    expect(created.isError).toBe(false);
    expect(created.data.status).toBe("completed");

    const listed = await call("list_comments", { baseId: h.demo.base.id, tableId: "Contacts", recordId });
    const comments = listed.data.comments as { text: string; mentioned?: unknown }[];
    expect(comments[0]).toMatchObject({
      text: `@[${h.userB.id}] can you call them?`,
      mentioned: { [h.userB.id]: { type: "user", id: h.userB.id, name: "User B", email: "b@example.com" } },
    });
    // The tools say so: the mention forms create_comment takes, and where list_comments says who a mention is.
    const tools = (await client.listTools()).tools;
    expect(tools.find((t) => t.name === "list_comments")?.description).toContain("mentioned says who each is");
    const text = tools.find((t) => t.name === "create_comment")?.inputSchema.properties?.text as {
      description?: string;
    };
    expect(text.description).toContain("@[their email]");
  });
});
