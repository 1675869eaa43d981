/**
 * A table that limits who can create (or delete) records (Airtable's table permissions), through the real MCP SDK
 * client over HTTP against the sandbox: a trial (session 28) importing into such a table got ten results repeating
 * Airtable's long 403 sentence and a reason naming the table by id only ("otherwise table tbl… limits who may create,
 * edit or delete its records"). The reason now names the table by name and id and what it limits, quotes Airtable
 * once, and says what to do; each refused record points at it (src/shared/operations/table-limit.ts).
 *
 * Airtable's words are its errors page's (https://airtable.com/developers/web/api/errors, 403): "You are not permitted
 * to create records in table Leads (tbl…)" for a create limit and "You are not permitted to write cell values in field
 * Notes (fld…)" for a field. Until session 32 the sandbox answered older words, which the product's reading of them
 * was fitted to: against Airtable, a limited field every record set was blamed on the table.
 */
import { describe, expect, it } from "vitest";
import type { OperationResultOutput } from "../../../src/shared/tools/operation-result.ts";
import { useMcpHarness } from "../../support/use-mcp-harness.ts";

const mcp = useMcpHarness({
  name: "Limited tables",
  tables: [
    {
      name: "Leads",
      fields: [
        { name: "Name", type: "singleLineText" },
        { name: "Notes", type: "multilineText" },
      ],
      records: Array.from({ length: 12 }, (_, i) => ({ Name: `seed ${i}` })),
    },
  ],
});

const leads = () => mcp.h.sandbox.listRecordsDirect(mcp.base.id, "Leads");
const tableId = () => mcp.base.tables.find((t) => t.name === "Leads")!.id;
/** Airtable's refusal of a record creation in a table limiting who may create records (errors page, 403). */
const AIRTABLE_SAYS = () => `You are not permitted to create records in table Leads (${tableId()})`;

describe("a table that limits who can create or delete records", () => {
  it("create_records: the reason names the table and what it limits, once, and what to do", async () => {
    mcp.h.sandbox.restrictTable(mcp.base.id, "Leads", mcp.h.demo.user.id, ["create"]);
    try {
      const records = Array.from({ length: 25 }, (_, i) => ({ fields: { Name: `new ${i}` } }));
      const result = await mcp.client.callTool({
        name: "create_records",
        arguments: { baseId: mcp.base.id, tableId: "Leads", records },
      });
      const answer = result.structuredContent as OperationResultOutput;
      expect(answer.status).toBe("failed");
      const reason = answer.failure?.reason ?? "";
      expect(reason).toBe(
        `Table "Leads" (${tableId()}) limits who can create records, and your Airtable account is not among them: ` +
          `Airtable refused every record sent so far (403 INVALID_PERMISSIONS: "${AIRTABLE_SAYS()}."), so the ` +
          "remaining batches were not sent. To write these records, ask a creator of the base to let you create " +
          'records in that table (its "who can create records" permission, in Airtable\'s interface), or write them ' +
          "to another table; then send again the records get_operation lists as failed or notWritten.",
      );
      // Airtable's sentence is said once, in the reason: the refused records point at it.
      const failed = (answer.results ?? []).filter((r) => r.error !== undefined);
      expect(failed).toHaveLength(10);
      for (const r of failed) {
        expect(r.error).toEqual({
          type: "INVALID_PERMISSIONS",
          message: "Refused with the other records: failure.reason says why, once, and what to do.",
        });
      }
      expect(JSON.stringify(answer.results)).not.toContain("not permitted to create");
      expect(leads()).toHaveLength(12);
    } finally {
      mcp.h.sandbox.clearRestrictions(mcp.base.id);
    }
  });

  it("an import of one batch, every record refused alike: the same reason, without batches left unsent", async () => {
    mcp.h.sandbox.restrictTable(mcp.base.id, "Leads", mcp.h.demo.user.id, ["create"]);
    try {
      const records = Array.from({ length: 4 }, (_, i) => ({ fields: { Name: `few ${i}` } }));
      const result = await mcp.client.callTool({
        name: "create_records",
        arguments: { baseId: mcp.base.id, tableId: "Leads", records, typecast: false },
      });
      const answer = result.structuredContent as OperationResultOutput;
      // Was completed_with_errors, with Airtable's sentence on each record and no word of the table.
      expect(answer.status).toBe("failed");
      expect(answer.failure?.reason).toBe(
        `Table "Leads" (${tableId()}) limits who can create records, and your Airtable account is not among them: ` +
          `Airtable refused every record of this write (403 INVALID_PERMISSIONS: "${AIRTABLE_SAYS()}."). To write ` +
          'these records, ask a creator of the base to let you create records in that table (its "who can create ' +
          "records\" permission, in Airtable's interface), or write them to another table; then send again the " +
          "records get_operation lists as failed or notWritten.",
      );
      expect(JSON.stringify(answer.results)).not.toContain("not permitted to create");
      expect(leads()).toHaveLength(12);
    } finally {
      mcp.h.sandbox.clearRestrictions(mcp.base.id);
    }
  });

  it("onError stop: the same reason as the default's, for a write of several batches and of one", async () => {
    // Session 30 left it: under onError stop a request is refused whole, not split, so the write ended
    // completed_with_errors with Airtable's bare sentence and said to send again with onError continue, which meets
    // the same limit.
    mcp.h.sandbox.restrictTable(mcp.base.id, "Leads", mcp.h.demo.user.id, ["create"]);
    try {
      const records = Array.from({ length: 25 }, (_, i) => ({ fields: { Name: `stop ${i}` } }));
      const result = await mcp.client.callTool({
        name: "create_records",
        arguments: { baseId: mcp.base.id, tableId: "Leads", records, onError: "stop", typecast: false },
      });
      const answer = result.structuredContent as OperationResultOutput;
      expect(answer.status).toBe("failed");
      expect(answer.failure?.reason).toBe(
        `Table "Leads" (${tableId()}) limits who can create records, and your Airtable account is not among them: ` +
          `Airtable refused every record sent so far (403 INVALID_PERMISSIONS: "${AIRTABLE_SAYS()}."), so the ` +
          "remaining batches were not sent. To write these records, ask a creator of the base to let you create " +
          'records in that table (its "who can create records" permission, in Airtable\'s interface), or write them ' +
          "to another table; then send again the records get_operation lists as failed or notWritten.",
      );
      const results = answer.results ?? [];
      expect(results.filter((r) => r.error !== undefined)).toHaveLength(10);
      for (const r of results.filter((r) => r.error !== undefined)) {
        expect(r.error?.message).toBe("Refused with the other records: failure.reason says why, once, and what to do.");
      }
      expect(results.filter((r) => r.notWritten === true)).toHaveLength(15);
      expect(JSON.stringify(answer)).not.toContain("onError continue");
      const polled = await mcp.client.callTool({
        name: "get_operation",
        arguments: { operationId: answer.operationId },
      });
      expect((polled.structuredContent as OperationResultOutput).failure?.reason).toBe(answer.failure?.reason);

      const few = await mcp.client.callTool({
        name: "create_records",
        arguments: {
          baseId: mcp.base.id,
          tableId: "Leads",
          records: records.slice(0, 3),
          onError: "stop",
          typecast: false,
        },
      });
      const one = few.structuredContent as OperationResultOutput;
      expect(one.status).toBe("failed");
      expect(one.failure?.reason).toContain(
        `Table "Leads" (${tableId()}) limits who can create records, and your Airtable account is not among them: ` +
          `Airtable refused every record of this write (403 INVALID_PERMISSIONS: "${AIRTABLE_SAYS()}."). To write`,
      );
      expect(leads()).toHaveLength(12);
    } finally {
      mcp.h.sandbox.clearRestrictions(mcp.base.id);
    }
  });

  it("a one-record write (create_record, delete_records of one): the same reason as a batch's", async () => {
    // Session 29 left it: one record is not split, so it kept Airtable's bare sentence as its error and the write
    // ended completed_with_errors, with no word of the table or of what to do.
    mcp.h.sandbox.restrictTable(mcp.base.id, "Leads", mcp.h.demo.user.id, ["create", "delete"]);
    try {
      const created = await mcp.client.callTool({
        name: "create_record",
        arguments: { baseId: mcp.base.id, tableId: "Leads", fields: { Name: "one" } },
      });
      const answer = created.structuredContent as OperationResultOutput;
      expect(answer.status).toBe("failed");
      expect(answer.failure?.reason).toBe(
        `Table "Leads" (${tableId()}) limits who can create records, and your Airtable account is not among them: ` +
          `Airtable refused the record of this write (403 INVALID_PERMISSIONS: "${AIRTABLE_SAYS()}."). To write it, ` +
          'ask a creator of the base to let you create records in that table (its "who can create records" ' +
          "permission, in Airtable's interface), or write it to another table; then send it again.",
      );
      expect(answer.message).toContain(answer.failure!.reason);
      expect(answer.results).toEqual([
        {
          index: 0,
          error: { type: "INVALID_PERMISSIONS", message: "Refused: failure.reason says why and what to do." },
        },
      ]);
      const polled = await mcp.client.callTool({
        name: "get_operation",
        arguments: { operationId: answer.operationId },
      });
      expect((polled.structuredContent as OperationResultOutput).failure?.reason).toBe(answer.failure?.reason);

      const deleted = await mcp.client.callTool({
        name: "delete_records",
        arguments: { baseId: mcp.base.id, tableId: "Leads", recordIds: [leads()[0]!.id] },
      });
      const refusal = deleted.structuredContent as OperationResultOutput;
      expect(refusal.status).toBe("failed");
      expect(refusal.failure?.reason).toContain(`Table "Leads" (${tableId()}) limits who can delete records`);
      expect(refusal.failure?.reason).toContain("Airtable refused the record of this write");
      expect(refusal.failure?.reason).not.toContain("typecast");
      expect(leads()).toHaveLength(12);
    } finally {
      mcp.h.sandbox.clearRestrictions(mcp.base.id);
    }
  });

  it("delete_records (two batches): the table's delete limit is named, without the typecast aside", async () => {
    mcp.h.sandbox.restrictTable(mcp.base.id, "Leads", mcp.h.demo.user.id, ["delete"]);
    try {
      const result = await mcp.client.callTool({
        name: "delete_records",
        arguments: { baseId: mcp.base.id, tableId: "Leads", recordIds: leads().map((r) => r.id) },
      });
      const answer = result.structuredContent as OperationResultOutput;
      expect(answer.status).toBe("failed");
      expect(answer.failure?.reason).toContain(`Table "Leads" (${tableId()}) limits who can delete records`);
      expect(answer.failure?.reason).toContain('its "who can delete records" permission');
      expect(answer.failure?.reason).not.toContain("typecast");
      expect(leads()).toHaveLength(12);
    } finally {
      mcp.h.sandbox.clearRestrictions(mcp.base.id);
    }
  });
  it("a limited field every record sets: the reason names the field, not a table limit", async () => {
    // Airtable says "You are not permitted to write cell values in field Notes (fld…)" (errors page, 403): the
    // product read only the older `the field "Notes" (fld…)` as naming a field, so it told the user that table Leads
    // limits who can create records and to ask for that permission, which would not help.
    mcp.h.sandbox.restrictField(mcp.base.id, "Leads", "Notes", mcp.h.demo.user.id);
    const notesId = mcp.base.tables.find((t) => t.name === "Leads")!.fields.find((x) => x.name === "Notes")!.id;
    try {
      const records = Array.from({ length: 25 }, (_, i) => ({ fields: { Name: `noted ${i}`, Notes: "private" } }));
      const result = await mcp.client.callTool({
        name: "create_records",
        arguments: { baseId: mcp.base.id, tableId: "Leads", records },
      });
      const answer = result.structuredContent as OperationResultOutput;
      expect(answer.status).toBe("failed");
      const reason = answer.failure?.reason ?? "";
      expect(reason).toContain(
        `403 INVALID_PERMISSIONS: You are not permitted to write cell values in field Notes (${notesId}).`,
      );
      expect(reason).toContain("when Airtable's message names a field, leave that field out of the records");
      expect(reason).not.toContain("limits who can create records");
      expect(reason).not.toContain('who can create records" permission');
      expect(leads()).toHaveLength(12);
    } finally {
      mcp.h.sandbox.clearRestrictions(mcp.base.id);
    }
  });
});
