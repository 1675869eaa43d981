import type { AirtableClient } from "../airtable/client.ts";
import type { ListRecordsOptions } from "../airtable/request.ts";
import type { AirtableRecord } from "../airtable/schemas.ts";
import { decodeCursor, encodeCursor } from "./record-cursor.ts";

/** About what an agent can take in one answer without drowning its context (the JSON of the records). */
export const DEFAULT_RESPONSE_BUDGET_BYTES = 40_000;
/** Airtable pages fetched by one call at most (besides the carried records): bounds the call's latency. */
const MAX_PAGE_FETCHES = 3;
/** Airtable's largest page. */
const AIRTABLE_MAX_PAGE = 100;

export interface RecordPageRequest {
  airtable: AirtableClient;
  baseId: string;
  /** The table id (resolved through the schema). */
  tableId: string;
  /** What selects and orders the records; the same on every call of one listing. */
  query: Omit<ListRecordsOptions, "offset" | "pageSize" | "maxRecords">;
  /** queryFingerprint of everything above (and of anything else that shapes the listing). */
  fingerprint: string;
  /** The agent's cursor, when continuing. */
  cursor?: string;
  /** Records this call may return (1–100). */
  limit: number;
  /** Records the whole listing may return, across calls. */
  maxRecords?: number;
  /** Stop adding records once their JSON would pass this many bytes (at least one record is always returned). */
  budgetBytes?: number;
  /** Bytes a record will grow by after this page is fetched (expandLinks adds primary values); counted in the budget. */
  extraBytes?(record: AirtableRecord): number;
}

export interface RecordPage {
  records: AirtableRecord[];
  /** Present when more records follow. */
  nextCursor?: string;
  /** True when the size budget, not the limit, ended this page. */
  stoppedBySize: boolean;
}

/**
 * One page of a listing for the agent: up to `limit` records, fewer when their JSON passes the size budget, with a
 * cursor that resumes exactly after the last record returned, even in the middle of an Airtable page (see
 * record-cursor.ts). maxRecords is counted here, not by Airtable, so the cursor can carry the count.
 */
export async function fetchRecordPage(req: RecordPageRequest): Promise<RecordPage> {
  const state = req.cursor === undefined ? undefined : decodeCursor(req.cursor, req.fingerprint);
  const returnedBefore = state?.n ?? 0;
  const budget = req.budgetBytes ?? DEFAULT_RESPONSE_BUDGET_BYTES;
  const want = Math.min(req.limit, (req.maxRecords ?? Infinity) - returnedBefore);
  if (want <= 0) return { records: [], stoppedBySize: false };

  let offset = state?.o;
  /** Whether Airtable has pages left: at the start yes; when continuing, only if Airtable gave an offset. */
  let airtableHasMore = state === undefined || state.o !== undefined;
  let queue = state !== undefined && state.c.length > 0 ? await fetchCarried(req, state.c) : [];

  const out: AirtableRecord[] = [];
  let used = 2;
  let stoppedBySize = false;
  let fetches = 0;
  for (;;) {
    while (queue.length > 0 && out.length < want) {
      const next = queue[0] as AirtableRecord;
      const size = Buffer.byteLength(JSON.stringify(next)) + 1 + (req.extraBytes?.(next) ?? 0);
      if (out.length > 0 && used + size > budget) {
        stoppedBySize = true;
        break;
      }
      out.push(next);
      queue.shift();
      used += size;
    }
    if (stoppedBySize || out.length >= want || !airtableHasMore || fetches >= MAX_PAGE_FETCHES) break;
    const page = await req.airtable.listRecords(req.baseId, req.tableId, {
      ...req.query,
      pageSize: Math.min(AIRTABLE_MAX_PAGE, want - out.length),
      ...(offset !== undefined && { offset }),
    });
    fetches++;
    queue = page.records;
    offset = page.offset;
    airtableHasMore = offset !== undefined;
  }

  const returned = returnedBefore + out.length;
  const reachedMax = req.maxRecords !== undefined && returned >= req.maxRecords;
  if (reachedMax || (queue.length === 0 && !airtableHasMore)) return { records: out, stoppedBySize };
  const nextCursor = encodeCursor({
    q: req.fingerprint,
    ...(airtableHasMore && offset !== undefined && { o: offset }),
    c: queue.map((r) => r.id),
    n: returned,
  });
  return { records: out, nextCursor, stoppedBySize };
}

/**
 * The carried records, by id, in their listing order. Those deleted since are skipped, and so are those changed since
 * so that the listing's own filter (filterByFormula, search_records' formula) or view no longer holds them: a record
 * edited between two calls from "Lead" to "Customer" is not answered, in its new state, to a listing of the leads.
 */
async function fetchCarried(req: RecordPageRequest, ids: string[]): Promise<AirtableRecord[]> {
  // Ids were validated as rec + 14 alphanumerics when the cursor was decoded: safe inside the formula.
  const byIds = `OR(${ids.map((id) => `RECORD_ID()="${id}"`).join(",")})`;
  const filter = req.query.filterByFormula;
  const formula = filter === undefined || filter.trim() === "" ? byIds : `AND(${byIds}, ${filter})`;
  const page = await req.airtable.listRecords(req.baseId, req.tableId, {
    ...(req.query.view !== undefined && { view: req.query.view }),
    ...(req.query.fields !== undefined && { fields: req.query.fields }),
    ...(req.query.returnFieldsByFieldId !== undefined && { returnFieldsByFieldId: req.query.returnFieldsByFieldId }),
    // The carried records come in the listing's cell format: text cells stay text after a cursor.
    ...(req.query.cellFormat !== undefined && { cellFormat: req.query.cellFormat }),
    ...(req.query.timeZone !== undefined && { timeZone: req.query.timeZone }),
    ...(req.query.userLocale !== undefined && { userLocale: req.query.userLocale }),
    filterByFormula: formula,
    pageSize: AIRTABLE_MAX_PAGE,
  });
  const byId = new Map(page.records.map((r) => [r.id, r]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}
