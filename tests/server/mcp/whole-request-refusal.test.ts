/**
 * What an agent reads when Airtable refuses a request of several records as a whole and the request is not split
 * (onError "stop"), through the real MCP SDK client over HTTP against the sandbox (writes in the embedded runner,
 * logs in real Redis). Airtable refuses every record of a request when one is invalid and does not say which, so:
 * - the record its message can be traced to (a value or a field it names, found in that record alone) fails with its
 *   error; every other record of the request is `notWritten` because its request was refused as a whole, and counts
 *   as not written, not failed (in the answer, its message and the progress notifications);
 * - when nothing singles a record out, none is blamed: all are not written, and Airtable's error is said once, in the
 *   message;
 * - onError continue (the default) still splits the request: the good records are written, the bad one named.
 * Replays a newcomer trial (session 22): 5 companies, record 3 naming an unknown collaborator, answered
 * INVALID_VALUE_FOR_COLUMN on all 5; 40 contacts, index 7 linking a contact's id, answered "10 failed".
 */
import { describe, expect, it } from "vitest";
import type { OperationResultOutput } from "../../../src/shared/tools/operation-result.ts";
import { useMcpHarness } from "../../support/use-mcp-harness.ts";

const mcp = useMcpHarness({
  name: "Whole requests",
  tables: [
    {
      name: "Companies",
      fields: [
        { name: "Name", type: "singleLineText" },
        { name: "Account manager", type: "singleCollaborator" },
      ],
      records: [{ Name: "Acme" }],
    },
    {
      name: "Contacts",
      fields: [
        { name: "Name", type: "singleLineText" },
        { name: "Company", type: "multipleRecordLinks", options: { linkedTableId: "Companies" } },
      ],
      records: [{ Name: "Ada" }, { Name: "Bob" }, { Name: "Cy" }],
    },
  ],
});

type Progress = { progress: number; total?: number; message?: string };

async function write(name: string, args: Record<string, unknown>, progress?: Progress[]) {
  const result = await mcp.client.callTool(
    { name, arguments: { baseId: mcp.base.id, ...args } },
    undefined,
    progress === undefined ? undefined : { onprogress: (p) => progress.push(p) },
  );
  expect(result.isError, JSON.stringify(result.content)).not.toBe(true);
  const answer = result.structuredContent as OperationResultOutput;
  expect(answer.done).toBe(true);
  return { answer, text: (result.content as { text: string }[])[0]!.text };
}

const rows = (table: string) => mcp.h.sandbox.listRecordsDirect(mcp.base.id, table);
const names = (table: string, prefix: string) =>
  rows(table)
    .map((r) => String(r.fields.Name))
    .filter((n) => n.startsWith(prefix));

describe("a request refused as a whole (onError stop)", () => {
  it("5 companies, record 3 naming an unknown collaborator: record 3 fails, the 4 others are not written (continue: split)", async () => {
    const records = Array.from({ length: 5 }, (_, i) => ({
      fields: { Name: `Co ${i}`, ...(i === 3 ? { "Account manager": { email: "ghost@example.com" } } : {}) },
    }));
    const { answer } = await write("create_records", { tableId: "Companies", onError: "stop", records });
    expect(answer.status).toBe("completed_with_errors");
    expect(answer.progress).toMatchObject({ recordsSucceeded: 0, recordsFailed: 1, recordsNotWritten: 4 });
    const [r0, r1, r2, r3, r4] = answer.results!;
    expect(r3).toEqual({
      index: 3,
      error: {
        type: "INVALID_VALUE_FOR_COLUMN",
        message: expect.stringContaining('Field "Account manager" cannot accept the provided value') as string,
      },
    });
    expect(r3!.error!.message).toContain(
      "Airtable refused records 0–4 (one request, refused as a whole) for this record: the 4 other records were " +
        "not written, and can be sent again as they are.",
    );
    for (const r of [r0, r1, r2, r4]) {
      expect(r).toEqual({
        index: r!.index,
        notWritten: true,
        reason:
          "Not written: Airtable refused records 0–4 (one request, refused as a whole) because of record 3 (its " +
          "error says why). onError was stop, so the request was not split: none of its records was written. " +
          "Nothing was said against this record: send it again as it is.",
      });
    }
    expect(answer.message).toBe(
      "Done with errors: 0 records written, 1 failed, 4 not written (their request was refused) of 5. Airtable " +
        "refused records 0–4 (one request, refused as a whole) because of record 3 (see its error): the 4 other " +
        "records were not written, though nothing was said against them. Each failed item's error is in results, " +
        "by index. onError was stop: nothing after the failing batch was written.",
    );
    expect(names("Companies", "Co ")).toEqual([]);

    // onError continue (the default) still splits the request: the good records are written and the bad one named.
    const split = records.map((r) => ({ fields: { ...r.fields, Name: r.fields.Name.replace("Co ", "Split ") } }));
    const { answer: continued } = await write("create_records", { tableId: "Companies", records: split });
    expect(continued.progress).toMatchObject({ recordsSucceeded: 4, recordsFailed: 1 });
    expect(continued.progress.recordsNotWritten).toBeUndefined();
    expect(continued.results![3]!.error?.type).toBe("INVALID_VALUE_FOR_COLUMN");
    expect(names("Companies", "Split ").sort()).toEqual(["Split 0", "Split 1", "Split 2", "Split 4"]);
  });

  it("40 contacts, index 7 linking a contact's id: record 7 fails; 0–6 and 8–9 are not written; progress says so", async () => {
    const contact = rows("Contacts")[0]!.id;
    const records = Array.from({ length: 40 }, (_, i) => ({
      fields: { Name: `Mix ${i}`, Company: i === 7 ? [contact] : ["Acme"] },
    }));
    const seen: Progress[] = [];
    const { answer } = await write("create_records", { tableId: "Contacts", onError: "stop", records }, seen);
    expect(answer.progress).toMatchObject({ recordsSucceeded: 0, recordsFailed: 1, recordsNotWritten: 9 });
    const results = answer.results!;
    expect(results[7]!.error?.type).toBe("ROW_DOES_NOT_EXIST");
    expect(results[7]!.error?.message).toContain(`The link field "Company" names ${contact}`);
    for (const i of [0, 1, 2, 3, 4, 5, 6, 8, 9]) {
      expect(results[i]).toMatchObject({ index: i, notWritten: true });
      expect(results[i]!.reason).toContain("records 0–9 (one request, refused as a whole) because of record 7");
      expect(results[i]!.error).toBeUndefined();
    }
    // Never sent (onError stop): not written, without a reason of their own.
    for (const i of [10, 39]) expect(results[i]).toEqual({ index: i, notWritten: true });
    expect(answer.message).toMatch(
      /^Done with errors: 0 records written, 1 failed, 9 not written \(their request was refused\) of 40\./,
    );
    // The 30 never sent are counted too (Session 29 trial: the counts added up to fewer than the records given).
    expect(answer.message).toMatch(
      /onError was stop: nothing after the failing batch was written \(30 records after it never sent, listed as notWritten\)\.$/,
    );
    expect(seen.at(-1)?.message).toBe(
      `10 of 40 done: 0 written, 1 failed, 9 not written (their request was refused) (batch 1/4) · operation ${answer.operationId}`,
    );
    expect(seen.some((p) => /10 failed/.test(p.message ?? ""))).toBe(false);
    expect(names("Contacts", "Mix ")).toEqual([]);
  });

  it("an id that is one record's own id and another's link value is not blamed on the record it is the id of", async () => {
    // Record 1 links record 0's own id from a field linking to Companies: Airtable names the id, not which use of it
    // it refused, and record 0's id exists (an error saying "Record ID … does not exist" would send an agent after it).
    const [ada, bob, cy] = rows("Contacts").map((r) => r.id);
    const before = rows("Contacts").map((r) => ({ ...r.fields }));
    const { answer } = await write("update_records", {
      tableId: "Contacts",
      onError: "stop",
      records: [
        { id: ada, fields: { Name: "Ada renamed" } },
        { id: bob, fields: { Company: [ada] } },
        { id: cy, fields: { Name: "Cy renamed" } },
      ],
    });
    expect(answer.progress).toMatchObject({ recordsFailed: 0, recordsNotWritten: 3 });
    for (const r of answer.results!) expect(r).toMatchObject({ index: r.index, notWritten: true });
    expect(answer.message).toContain(`The link field "Company" names ${ada}`);
    expect(rows("Contacts").map((r) => r.fields)).toEqual(before);
  });

  it("nothing singles a record out: none is blamed, Airtable's error is said once, in the message", async () => {
    // Records 1 and 2 both name the unknown collaborator: Airtable's message names the field, which both write.
    const records = Array.from({ length: 3 }, (_, i) => ({
      fields: { Name: `Both ${i}`, ...(i > 0 ? { "Account manager": { email: `ghost${i}@example.com` } } : {}) },
    }));
    const { answer, text } = await write("create_records", { tableId: "Companies", onError: "stop", records });
    expect(answer.progress).toMatchObject({ recordsFailed: 0, recordsNotWritten: 3 });
    for (const r of answer.results!) {
      expect(r).toEqual({
        index: r.index,
        notWritten: true,
        reason:
          "Not written: Airtable refused records 0–2 (one request, refused as a whole) with " +
          "INVALID_VALUE_FOR_COLUMN (its message is in this answer's message) and did not say which of them is at " +
          "fault. onError was stop, so the request was not split: none of its records was written. To have the " +
          "good records written and the bad one named, send them again with onError continue (the default): the " +
          "request is then split.",
      });
    }
    expect(answer.message).toContain(
      "Done with errors: 0 records written, 3 not written (their request was refused) of 3. Airtable refused " +
        "records 0–2 (one request, refused as a whole) and did not say which of them is at fault: none was " +
        'written. Its error: INVALID_VALUE_FOR_COLUMN: Field "Account manager" cannot accept the provided value',
    );
    expect(answer.status).toBe("completed_with_errors");
    // Once in the whole answer (the text is the structured answer as JSON).
    expect(text.split("cannot accept the provided value").length - 1).toBe(1);
  });
});
