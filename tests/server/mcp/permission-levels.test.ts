/**
 * Base permission levels as an agent meets them over MCP (https://airtable.com/developers/web/api/list-bases:
 * `permissionLevel` none / read / comment / edit / create; each endpoint's "User role": comments need a commenter,
 * records an editor, tables and fields a creator). Once list bases has shown the user's level on a base — the agent's
 * own list_bases, or the lookup a worker makes when Airtable refuses a write with 403 — a write that level does not
 * allow is refused at once, before anything is queued or sent; a level raised since is taken into account by the
 * next list_bases. Real MCP client over HTTP, the sandbox, writes on the embedded runner with logs in real Redis.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BaseInfo, PermissionLevel } from "../../../src/sandbox/index.ts";
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

/** A base of user B's, shared with the demo user (the caller) at `level`. */
function sharedBase(name: string, level: PermissionLevel): BaseInfo {
  const base = h.sandbox.createBase(h.userB.id, {
    name,
    tables: [{ name: "Notes", fields: [{ name: "Name", type: "singleLineText" }], records: [{ Name: "first" }] }],
  });
  h.sandbox.grantAccess(base.id, h.demo.user.id, level);
  return base;
}

/** Requests that reached the base other than reads (GET, and list records by POST). */
const writesTo = (baseId: string) =>
  h.sandbox.requests.filter((r) => r.baseId === baseId && r.method !== "GET" && !r.path.endsWith("/listRecords"));

/** Every request that reached the base, reads included (the schema, linked records' names). */
const requestsTo = (baseId: string) => h.sandbox.requests.filter((r) => r.baseId === baseId);

const operationsOn = async (baseId: string) => {
  const answer = await call("list_operations", { limit: 100 });
  return (answer.data.operations as { baseId: string }[]).filter((o) => o.baseId === baseId);
};

describe("a write the user's permission level does not allow", () => {
  it("is refused at once, nothing queued or sent, once list_bases has shown the level", async () => {
    const base = sharedBase("Read-only base", "read");
    const bases = await call("list_bases", {});
    expect(bases.data.bases).toContainEqual({ id: base.id, name: "Read-only base", permissionLevel: "read" });

    const answer = await call("create_records", {
      baseId: base.id,
      tableId: "Notes",
      records: Array.from({ length: 25 }, (_, i) => ({ fields: { Name: `n${i}` } })),
    });
    expect(answer.isError).toBe(true);
    expect(answer.text).toContain(
      `Your permission level on base ${base.id} ("Read-only base") is read-only (permissionLevel read): ` +
        "create_records needs editor (permissionLevel edit) or more",
    );
    expect(answer.text).toContain("Nothing was queued");
    expect(await operationsOn(base.id)).toEqual([]);
    // Refused before the write's checks: not even its schema was read, none of the base's 5 req/s spent.
    expect(requestsTo(base.id)).toEqual([]);

    // Schema changes need a creator; a comment only a commenter.
    const commenter = sharedBase("Commenter base", "comment");
    const editor = sharedBase("Editor base", "edit");
    await call("list_bases", {});
    const field = await call("create_field", { baseId: editor.id, tableId: "Notes", name: "Due", type: "date" });
    expect(field.isError).toBe(true);
    expect(field.text).toContain(
      "is editor (permissionLevel edit): create_field needs creator (permissionLevel create)",
    );
    const recordId = h.sandbox.listRecordsDirect(commenter.id, "Notes")[0]!.id;
    const comment = await call("create_comment", {
      baseId: commenter.id,
      tableId: "Notes",
      recordId,
      text: "Looks good",
    });
    expect(comment.isError).toBe(false);
    expect(comment.data.status).toBe("completed");
    const update = await call("update_records", {
      baseId: commenter.id,
      tableId: "Notes",
      records: [{ id: recordId, fields: { Name: "changed" } }],
    });
    expect(update.isError).toBe(true);
    expect(update.text).toContain("is commenter (permissionLevel comment): update_records needs editor");
    expect(requestsTo(editor.id)).toEqual([]);
  });

  it("goes through once the owner raised the level and list_bases was called again", async () => {
    const base = sharedBase("Raised base", "read");
    await call("list_bases", {});
    expect((await call("create_record", { baseId: base.id, tableId: "Notes", fields: { Name: "x" } })).isError).toBe(
      true,
    );
    h.sandbox.grantAccess(base.id, h.demo.user.id, "edit");
    await call("list_bases", {});
    const written = await call("create_record", { baseId: base.id, tableId: "Notes", fields: { Name: "x" } });
    expect(written.isError).toBe(false);
    expect(written.data.status).toBe("completed");
  });

  it("without a list_bases call, Airtable's first refusal is looked into by the worker and the next write is refused at once", async () => {
    const base = sharedBase("Unlisted read-only base", "read");
    const first = await call("create_record", { baseId: base.id, tableId: "Notes", fields: { Name: "x" } });
    expect(first.isError).toBe(false); // queued, refused by Airtable: the operation's answer says why
    expect(first.data.status).toBe("failed");
    expect((first.data.failure as { reason: string }).reason).toContain("is read-only (permissionLevel read)");
    expect(writesTo(base.id)).toHaveLength(1);

    const second = await call("create_record", { baseId: base.id, tableId: "Notes", fields: { Name: "y" } });
    expect(second.isError).toBe(true);
    expect(second.text).toContain("is read-only (permissionLevel read)");
    expect(writesTo(base.id)).toHaveLength(1);
  });

  it("a base listed with permissionLevel none: each tool names the level it needs (a write: editor, not read)", async () => {
    const base = sharedBase("Interface-only base", "none");
    const write = await call("create_records", {
      baseId: base.id,
      tableId: "Notes",
      records: [{ fields: { Name: "x" } }],
    });
    expect(write.isError).toBe(true);
    expect(write.text).toContain("list_bases shows permissionLevel none");
    expect(write.text).toContain("create_records needs editor (permissionLevel edit) or more");
    const field = await call("create_field", { baseId: base.id, tableId: "Notes", name: "Due", type: "date" });
    expect(field.text).toContain("create_field needs creator (permissionLevel create) or more");
    const read = await call("list_records", { baseId: base.id, tableId: "Notes" });
    expect(read.text).toContain("list_records needs read-only (permissionLevel read) or more");
    expect(writesTo(base.id)).toEqual([]);
  });
});

/**
 * A base with select fields, of user B's shared with the caller at `level`, or the caller's own (a creator). Only a
 * creator may add a select option: Airtable answers anyone else's typecast that would add one 422
 * INVALID_MULTIPLE_CHOICE_OPTIONS "Insufficient permissions to create new select option" (as it does any unknown
 * option without typecast), https://github.com/Airtable/airtable.js/issues/138.
 */
function selectBase(name: string, level: PermissionLevel | "own"): BaseInfo {
  const base = h.sandbox.createBase(level === "own" ? h.demo.user.id : h.userB.id, {
    name,
    tables: [
      {
        name: "Tasks",
        fields: [
          { name: "Name", type: "singleLineText" },
          { name: "Status", type: "singleSelect", options: { choices: [{ name: "Todo" }, { name: "Done" }] } },
          { name: "Tags", type: "multipleSelects", options: { choices: [{ name: "urgent" }] } },
        ],
      },
    ],
  });
  if (level !== "own") h.sandbox.grantAccess(base.id, h.demo.user.id, level);
  return base;
}

const choicesOf = async (baseId: string, field: string) => {
  const schema = await h.airtableA.getBaseSchema(baseId);
  const found = schema.tables[0]!.fields.find((f) => f.name === field)!;
  return (found.options?.choices as { name: string }[]).map((c) => c.name);
};

interface ItemAnswer {
  index: number;
  id?: string;
  error?: { type: string; message: string };
}

describe("a select option an editor's value would create (only a creator may add options)", () => {
  it("before list_bases has shown the level: the record fails with the option, the field, why and the fix", async () => {
    const base = selectBase("Editor's tasks", "edit");
    const answer = await call("create_records", {
      baseId: base.id,
      tableId: "Tasks",
      records: [{ fields: { Name: "a", Status: "Todo" } }, { fields: { Name: "b", Status: "Blocked" } }],
    });
    expect(answer.isError).toBe(false);
    expect(answer.data.status).toBe("completed_with_errors");
    const [written, refused] = answer.data.results as ItemAnswer[];
    expect(written!.id).toMatch(/^rec/);
    expect(refused!.error!.type).toBe("INVALID_MULTIPLE_CHOICE_OPTIONS");
    const message = refused!.error!.message;
    expect(message).toContain('"Blocked" is not an existing option of the select field "Status"');
    expect(message).toContain("Only a base creator can add an option: typecast: true adds one only for a creator");
    expect(message).toContain("describe_table lists them");
    expect(message).toContain('ask the base\'s owner to add "Blocked" or to make you a creator');
    expect(message).toContain('(Airtable: Insufficient permissions to create new select option ""Blocked"")');
    expect(await choicesOf(base.id, "Status")).toEqual(["Todo", "Done"]);
  });

  it("once list_bases has shown an editor's level: refused before queueing, nothing sent, naming the options", async () => {
    const base = selectBase("Listed editor's tasks", "edit");
    await call("list_bases", {});
    const answer = await call("create_records", {
      baseId: base.id,
      tableId: "Tasks",
      records: [
        { fields: { Name: "a", Status: "Todo", Tags: ["urgent"] } },
        { fields: { Name: "b", Status: "Blocked" } },
        { fields: { Name: "c", Tags: ["urgent", "later"] } },
      ],
    });
    expect(answer.isError).toBe(true);
    expect(answer.text).toContain(
      'records[1].fields: "Blocked" is not an option of "Status" (a single select field): its options are "Todo", ' +
        '"Done". Only a base creator can add an option (typecast: true adds one only for a creator), and your ' +
        `permission level on base ${base.id} ("Listed editor's tasks") is editor (permissionLevel edit)`,
    );
    expect(answer.text).toContain('records[2].fields: "later" is not an option of "Tags" (a multiple select field)');
    expect(answer.text).toContain("Give one of the existing options (describe_table lists them all)");
    expect(await operationsOn(base.id)).toEqual([]);
    expect(writesTo(base.id)).toEqual([]);

    // Without typecast too (no "pass typecast: true" advice an editor cannot follow); existing options go through.
    const strict = await call("create_record", {
      baseId: base.id,
      tableId: "Tasks",
      fields: { Status: "Blocked" },
      typecast: false,
    });
    expect(strict.text).toContain("Only a base creator can add an option");
    expect(strict.text).not.toContain("pass typecast: true");
    const fine = await call("create_record", { baseId: base.id, tableId: "Tasks", fields: { Status: "Done" } });
    expect(fine.data.status).toBe("completed");
  });

  it("a creator's typecast still adds the option", async () => {
    const base = selectBase("My own tasks", "own");
    await call("list_bases", {});
    const answer = await call("create_record", { baseId: base.id, tableId: "Tasks", fields: { Status: "Blocked" } });
    expect(answer.data.status).toBe("completed");
    expect(await choicesOf(base.id, "Status")).toEqual(["Todo", "Done", "Blocked"]);
  });
});
