/**
 * withWriteSchemaForNames (check-fields.ts) through the single-item write tools' plans, with the Airtable sandbox
 * over HTTP, a real AirtableClient and SchemaCache on the test's clock: a table or field renamed in Airtable (nothing
 * taking its name) after the schema was cached, named by its old name over WRITE_NAMES_MAX_AGE_MS later, is still
 * the one changed, by id, as a record write naming it is (plan-records.ts `namesMovedIn`; README "Field renames"),
 * not refused as unknown: the outcome no longer depends on whether the call came 4 or 6 s after the cached read.
 * Names that passed to another field (swapped) are tests/e2e/field-rename.test.ts's.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../../../src/sandbox/index.ts";
import { AirtableClient } from "../../../../src/shared/airtable/client.ts";
import { BottleneckAirtableLimiter } from "../../../../src/shared/limiter/index.ts";
import { createLogger } from "../../../../src/shared/logger.ts";
import { SchemaCache } from "../../../../src/shared/schema-cache.ts";
import { z } from "zod";
import { OperationLog } from "../../../../src/shared/operations/operation-log.ts";
import type { ToolContext, WriteToolDefinition } from "../../../../src/shared/tools/define-tool.ts";
import { WRITE_NAMES_MAX_AGE_MS } from "../../../../src/shared/tools/write/check-fields.ts";
import { createField } from "../../../../src/shared/tools/write/create-field.ts";
import { updateField } from "../../../../src/shared/tools/write/update-field.ts";
import { updateTable } from "../../../../src/shared/tools/write/update-table.ts";
import { useTestRedis } from "../../../helpers/redis.ts";

const { redis, prefix } = useTestRedis("single-item-renamed");
const limiter = BottleneckAirtableLimiter.local({ settings: { baseRps: 25 } });
const logger = createLogger({ level: "silent" });
let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox({ perBaseRps: 25 });
});
afterAll(async () => {
  await limiter.close();
  await sandbox.close();
});

it("update_field, update_table and create_field naming a table or field renamed (nothing taking its name) over 5 s ago keep it, as record writes do", async () => {
  const user = sandbox.addUser({ email: "renamed@example.com" });
  const pat = sandbox.createPersonalAccessToken(user.id);
  const base = sandbox.createBase(user.id, {
    name: "Renamed",
    tables: [
      {
        name: "Files",
        fields: [
          { name: "Name", type: "singleLineText" },
          { name: "Photo", type: "multipleAttachments" },
        ],
      },
      { name: "Places", fields: [{ name: "Name", type: "singleLineText" }] },
    ],
  });
  const [files, places] = [base.tables[0]!, base.tables[1]!];
  const photo = files.fields.find((f) => f.name === "Photo")!.id;
  const airtable = new AirtableClient({
    apiUrl: sandbox.url,
    contentUrl: sandbox.url,
    userId: user.id,
    getAccessToken: async () => pat,
    limiter,
    logger,
  });
  let now = Date.now();
  // One schema cache per call (in memory, on the test's clock), each holding the schema from before the renames: a
  // call reading a fresh schema would otherwise teach the next one the new names.
  const caches = ["a", "b", "c"].map((k) => new SchemaCache({ keyPrefix: `${prefix}:${k}`, now: () => now }));
  for (const cache of caches) await cache.get(airtable, base.id, user.id);
  const operations = new OperationLog({ redis, keyPrefix: prefix, retentionMs: 60_000 });
  const plan = (schemas: SchemaCache, tool: WriteToolDefinition, args: Record<string, unknown>) => {
    const ctx: ToolContext = { airtable, userId: user.id, schemas, logger, operations, maxRecordsPerOperation: 5000 };
    return tool.plan(z.object(tool.inputSchema).parse(args), ctx);
  };

  // Renamed in Airtable after the server cached the schema, read over WRITE_NAMES_MAX_AGE_MS before the calls.
  const patch = async (path: string, name: string) => {
    const response = await fetch(`${sandbox.url}/v0/meta/bases/${base.id}/tables/${path}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${pat}`, "content-type": "application/json" },
      body: JSON.stringify({ name }),
    });
    expect(response.status, await response.text()).toBe(200);
  };
  await patch(`${files.id}/fields/${photo}`, "Picture");
  await patch(places.id, "Sites");
  now += WRITE_NAMES_MAX_AGE_MS + 1_000;

  const described = await plan(caches[0]!, updateField, {
    baseId: base.id,
    tableId: "Files",
    fieldId: "Photo",
    description: "x",
  });
  expect(described.input).toEqual([expect.objectContaining({ fieldId: photo, description: "x" })]);
  const table = await plan(caches[1]!, updateTable, { baseId: base.id, tableId: "Places", description: "Where" });
  expect(table).toMatchObject({ tableId: places.id, input: [{ description: "Where" }] });
  const link = await plan(caches[2]!, createField, {
    baseId: base.id,
    tableId: files.id,
    name: "Place",
    type: "multipleRecordLinks",
    options: { linkedTableId: "Places" },
  });
  expect(link.input).toEqual([
    expect.objectContaining({ name: "Place", options: expect.objectContaining({ linkedTableId: places.id }) }),
  ]);
});
