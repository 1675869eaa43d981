import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type BaseInfo, type Sandbox } from "../../../src/sandbox/index.ts";
import { AirtableClient } from "../../../src/shared/airtable/client.ts";
import { AirtableValidationError } from "../../../src/shared/airtable/errors.ts";
import { BottleneckAirtableLimiter } from "../../../src/shared/limiter/index.ts";
import { queryFingerprint } from "../../../src/shared/tools/record-cursor.ts";
import { fetchRecordPage, type RecordPageRequest } from "../../../src/shared/tools/record-pager.ts";
import { ToolInputError } from "../../../src/shared/tools/tool-input-error.ts";

let sandbox: Sandbox;
let limiter: BottleneckAirtableLimiter;
let airtable: AirtableClient;
let base: BaseInfo;
let tableId: string;
const COUNT = 60;

beforeAll(async () => {
  sandbox = await startSandbox({ perBaseRps: 50 });
  limiter = BottleneckAirtableLimiter.local({ settings: { baseRps: 50 } });
  const user = sandbox.addUser({ email: "pager@example.com" });
  const token = sandbox.createPersonalAccessToken(user.id);
  base = sandbox.createBase(user.id, {
    name: "Pager",
    tables: [
      {
        name: "Items",
        fields: [
          { name: "Name", type: "singleLineText" },
          { name: "Body", type: "multilineText" },
        ],
        // Sizes vary (50–500 bytes) so that budget stops fall at different places inside Airtable pages.
        records: Array.from({ length: COUNT }, (_, i) => ({
          Name: `item ${i}`,
          Body: "x".repeat(50 + ((i * 37) % 450)),
        })),
      },
    ],
  });
  tableId = base.tables[0]?.id as string;
  airtable = new AirtableClient({
    apiUrl: sandbox.url,
    contentUrl: sandbox.url,
    userId: user.id,
    getAccessToken: async () => token,
    limiter,
  });
});
afterAll(async () => {
  await limiter.close();
  await sandbox.close();
});

function request(over: Partial<RecordPageRequest> = {}): RecordPageRequest {
  return {
    airtable,
    baseId: base.id,
    tableId,
    query: {},
    fingerprint: queryFingerprint({ test: 1 }),
    limit: 100,
    budgetBytes: 2_000,
    ...over,
  };
}

async function drain(over: Partial<RecordPageRequest>): Promise<{ names: string[]; pages: number[] }> {
  const names: string[] = [];
  const pages: number[] = [];
  let cursor: string | undefined;
  do {
    const page = await fetchRecordPage(request({ ...over, ...(cursor && { cursor }) }));
    names.push(...page.records.map((r) => String(r.fields.Name)));
    pages.push(page.records.length);
    cursor = page.nextCursor;
  } while (cursor !== undefined && pages.length < 100);
  return { names, pages };
}

const all = Array.from({ length: COUNT }, (_, i) => `item ${i}`);

describe("fetchRecordPage", () => {
  it("stops at the size budget inside Airtable pages and resumes with nothing lost or repeated", async () => {
    const { names, pages } = await drain({});
    expect(names).toEqual(all);
    expect(pages.length).toBeGreaterThan(5);
    expect(Math.max(...pages)).toBeLessThan(20);
  });

  it("never spends more than two Airtable requests on a resumed page", async () => {
    const first = await fetchRecordPage(request());
    sandbox.clearRequests();
    const second = await fetchRecordPage(request({ cursor: first.nextCursor as string }));
    expect(second.records.length).toBeGreaterThan(0);
    expect(sandbox.requests.length).toBeLessThanOrEqual(2);
  });

  it("pages by limit with Airtable offsets alone when the budget is ample", async () => {
    const { names, pages } = await drain({ limit: 25, budgetBytes: 1_000_000 });
    expect(names).toEqual(all);
    expect(pages).toEqual([25, 25, 10]);
  });

  it("counts maxRecords across calls", async () => {
    const { names, pages } = await drain({ limit: 7, maxRecords: 20, budgetBytes: 1_000_000 });
    expect(names).toEqual(all.slice(0, 20));
    expect(pages).toEqual([7, 7, 6]);
  });

  it("always returns at least one record, even one larger than the budget", async () => {
    const page = await fetchRecordPage(request({ budgetBytes: 10 }));
    expect(page.records).toHaveLength(1);
    expect(page.stoppedBySize).toBe(true);
  });

  it("skips carried records deleted in between", async () => {
    const first = await fetchRecordPage(request({ budgetBytes: 1_500 }));
    const next = sandbox.listRecordsDirect(base.id, "Items")[first.records.length];
    if (next === undefined) throw new Error("fixture too small");
    await airtable.deleteRecords(base.id, tableId, [next.id]);
    const second = await fetchRecordPage(request({ budgetBytes: 1_500, cursor: first.nextCursor as string }));
    expect(second.records[0]?.id).not.toBe(next.id);
    expect(second.records[0]?.fields.Name).toBe(`item ${first.records.length + 1}`);
  });

  it("skips carried records changed in between so that the listing's filter no longer holds them", async () => {
    // Every item's Name holds "item"; the carried record is renamed between the two calls, as another user would.
    const query = { filterByFormula: 'FIND("item", {Name})' };
    const first = await fetchRecordPage(request({ query, budgetBytes: 1_500 }));
    const carried = first.records.length;
    const next = sandbox.listRecordsDirect(base.id, "Items").filter((r) => String(r.fields.Name).includes("item"))[
      carried
    ];
    if (next === undefined) throw new Error("fixture too small");
    await airtable.updateRecords(base.id, tableId, [{ id: next.id, fields: { Name: "renamed" } }]);
    const second = await fetchRecordPage(request({ query, budgetBytes: 1_500, cursor: first.nextCursor as string }));
    expect(second.records.map((r) => r.fields.Name)).not.toContain("renamed");
    expect(second.records[0]?.id).not.toBe(next.id);
    expect(String(second.records[0]?.fields.Name)).toMatch(/^item /);
  });

  it("refuses a cursor of another query; a cursor used again gives the same records; an expired listing comes back as Airtable's iterator error", async () => {
    // The first call asks Airtable for a page of 40 and returns all of it: the cursor holds an Airtable offset.
    const listed = sandbox.listRecordsDirect(base.id, "Items").map((r) => r.id);
    const first = await fetchRecordPage(request({ limit: 40, budgetBytes: 1_000_000 }));
    const cursor = first.nextCursor as string;
    await expect(fetchRecordPage(request({ cursor, fingerprint: "other" }))).rejects.toBeInstanceOf(ToolInputError);
    const second = await fetchRecordPage(request({ limit: 10, budgetBytes: 1_000_000, cursor }));
    // The agent repeats the call (its answer was lost): Airtable's offsets are not single-use (only their timeout is
    // documented), so the same cursor answers the same records, and its next cursor goes on from them.
    const again = await fetchRecordPage(request({ limit: 10, budgetBytes: 1_000_000, cursor }));
    expect(again.records.map((r) => r.id)).toEqual(second.records.map((r) => r.id));
    expect(again.records[0]?.id).toBe(listed[40]);
    const third = await fetchRecordPage(
      request({ limit: 10, budgetBytes: 1_000_000, cursor: again.nextCursor as string }),
    );
    expect(third.records[0]?.id).toBe(listed[50]);
    // "Iteration may timeout due to client inactivity or server restarts": then Airtable's error reaches the caller.
    sandbox.expireListIterators();
    const expired = await fetchRecordPage(request({ limit: 10, budgetBytes: 1_000_000, cursor })).catch(
      (e: unknown) => e,
    );
    expect(expired).toBeInstanceOf(AirtableValidationError);
    expect((expired as AirtableValidationError).type).toBe("LIST_RECORDS_ITERATOR_NOT_AVAILABLE");
  });
});
