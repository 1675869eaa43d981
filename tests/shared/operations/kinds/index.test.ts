/**
 * The write-kind registry: every kind the registry lists is what an operation may be, and each single-item kind
 * (table, field, comment, attachment) goes through the processor to the Airtable sandbox over real HTTP and
 * writes what a user then reads back — the record kinds have their own tests in processor.test.ts. A kind that
 * changes the schema leaves the schema cache showing the change.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture, type Fixture } from "../../../sandbox/test-helpers.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../../helpers/redis.ts";
import { AirtableClient } from "../../../../src/shared/airtable/client.ts";
import { BottleneckAirtableLimiter } from "../../../../src/shared/limiter/index.ts";
import { createLogger } from "../../../../src/shared/logger.ts";
import { OPERATION_KINDS, operationSchema } from "../../../../src/shared/operations/events.ts";
import { WRITE_KINDS } from "../../../../src/shared/operations/kinds/index.ts";
import { OperationLog } from "../../../../src/shared/operations/operation-log.ts";
import { itemSchemas, operationFromPlan, type OperationPlan } from "../../../../src/shared/operations/plan.ts";
import { processOperation } from "../../../../src/shared/operations/processor.ts";
import { SchemaCache } from "../../../../src/shared/schema-cache.ts";
import { testOperation } from "../../../support/operations-test-harness.ts";

let f: Fixture;
let log: OperationLog;
let airtable: AirtableClient;
const redis = createTestRedis();
const prefix = uniquePrefix("write-kinds");
const limiter = BottleneckAirtableLimiter.local({ settings: { baseRps: 50 } });
const logger = createLogger({ level: "silent" });
const schemas = new SchemaCache({ keyPrefix: prefix });

beforeAll(async () => {
  f = await fixture({ perBaseRps: 50 });
  log = new OperationLog({ redis, keyPrefix: prefix, retentionMs: 600_000 });
  airtable = new AirtableClient({
    apiUrl: f.sandbox.url,
    contentUrl: f.sandbox.url,
    userId: f.user.id,
    getAccessToken: async () => f.token,
    limiter,
    logger,
  });
});

afterAll(async () => {
  await limiter.close();
  await f?.sandbox.close();
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

const tasks = () => f.base.tables.find((t) => t.name === "Tasks")!.id;
const cachedSchema = () => schemas.get(airtable, f.base.id, f.user.id);

/** Runs a one-item plan to the end; answers the Airtable id the operation reports for its item. */
async function write(plan: Omit<OperationPlan, "baseId" | "options">): Promise<string> {
  const op = operationFromPlan(
    { baseId: f.base.id, options: { typecast: false, onError: "continue" }, ...plan },
    f.user.id,
  );
  await log.create(op);
  const state = await processOperation(op.operationId, { store: log, airtable, logger, schemas });
  expect(state.status).toBe("completed");
  expect(state.outcomes).toHaveLength(1);
  const outcome = state.outcomes[0]!;
  if (!("recordId" in outcome)) throw new Error(`item not written: ${JSON.stringify(outcome)}`);
  return outcome.recordId;
}

describe("the write-kind registry", () => {
  it("lists each kind once; operations, their kinds and item schemas come from it", () => {
    const names = WRITE_KINDS.map((k) => k.name);
    expect(new Set(names).size).toBe(names.length);
    expect([...OPERATION_KINDS]).toEqual(names);
    for (const kind of WRITE_KINDS) expect(itemSchemas[kind.name]).toBe(kind.item);
    expect(operationSchema.safeParse(testOperation({ kind: "rename_base" as never })).success).toBe(false);
  });

  it("single-item kinds take exactly one item; record kinds take a list", () => {
    for (const kind of WRITE_KINDS) {
      const two = operationSchema.safeParse(
        testOperation({
          kind: kind.name,
          records: 2,
          options: { typecast: false, onError: "continue", fieldsToMergeOn: ["Name"] },
        }),
      );
      expect({ kind: kind.name, accepted: two.success }).toEqual({ kind: kind.name, accepted: !kind.singleItem });
    }
  });
});

describe("single-item kinds through the processor", () => {
  it("create_table, then update_table: the new table, renamed, is in the (cached) schema", async () => {
    await cachedSchema();
    const tableId = await write({
      kind: "create_table",
      input: [{ name: "Projects", fields: [{ name: "Title", type: "singleLineText" }] }],
    });
    expect(tableId).toMatch(/^tbl/);
    expect((await cachedSchema()).tables.find((t) => t.id === tableId)?.name).toBe("Projects");

    expect(await write({ kind: "update_table", tableId, input: [{ name: "Projects 2026" }] })).toBe(tableId);
    expect((await cachedSchema()).tables.find((t) => t.id === tableId)?.name).toBe("Projects 2026");
  });

  it("create_field, then update_field: the new field, renamed, is in the (cached) schema", async () => {
    await cachedSchema();
    const fieldId = await write({
      kind: "create_field",
      tableId: tasks(),
      input: [{ name: "Notes", type: "multilineText" }],
    });
    expect(fieldId).toMatch(/^fld/);
    const fieldName = async () =>
      (await cachedSchema()).tables.find((t) => t.id === tasks())?.fields.find((x) => x.id === fieldId)?.name;
    expect(await fieldName()).toBe("Notes");

    expect(await write({ kind: "update_field", tableId: tasks(), input: [{ fieldId, name: "Remarks" }] })).toBe(
      fieldId,
    );
    expect(await fieldName()).toBe("Remarks");
  });

  it("create_comment: the comment and a reply to it are on the record", async () => {
    const [record] = await airtable.createRecords(f.base.id, tasks(), [{ fields: { Name: "commented" } }]);
    const commentId = await write({
      kind: "create_comment",
      tableId: tasks(),
      input: [{ recordId: record!.id, text: "Looks good" }],
    });
    const replyId = await write({
      kind: "create_comment",
      tableId: tasks(),
      input: [{ recordId: record!.id, text: "Thanks", parentCommentId: commentId }],
    });
    const page = await airtable.listComments(f.base.id, tasks(), record!.id);
    expect(page.comments.map((c) => [c.id, c.text])).toEqual([
      [replyId, "Thanks"],
      [commentId, "Looks good"],
    ]);
  });

  it("upload_attachment: the file is the last attachment of the cell, and its id is the item's result", async () => {
    const files = f.base.tables.find((t) => t.name === "Tasks")!.fields.find((x) => x.name === "Files")!.id;
    const [record] = await airtable.createRecords(f.base.id, tasks(), [{ fields: { Name: "with files" } }]);
    const upload = (filename: string) =>
      write({
        kind: "upload_attachment",
        tableId: tasks(),
        input: [
          {
            recordId: record!.id,
            fieldId: files,
            contentType: "text/plain",
            filename,
            file: Buffer.from(`contents of ${filename}`).toString("base64"),
          },
        ],
      });
    const first = await upload("a.txt");
    const second = await upload("b.txt");
    expect(second).toMatch(/^att/);
    const cell = (await airtable.getRecord(f.base.id, tasks(), record!.id, { returnFieldsByFieldId: true })).fields[
      files
    ] as { id: string; filename: string }[];
    expect(cell.map((a) => [a.id, a.filename])).toEqual([
      [first, "a.txt"],
      [second, "b.txt"],
    ]);
  });
});
