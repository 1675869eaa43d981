/**
 * What given records hold now, read by their ids: the list cells an update would replace (write/list-cells.ts), the
 * names of linked records (linked-records.ts). Airtable has no "get these records" endpoint besides one record per
 * request (https://airtable.com/developers/web/api/get-record), so they are listed with a filter on RECORD_ID()
 * (https://airtable.com/developers/web/api/list-records, `filterByFormula`).
 */
import type { AirtableClient } from "../airtable/client.ts";
import { formulaString } from "./search-formula.ts";

/** Record ids per read: keeps the formula short (the client switches to POST listRecords for long ones anyway). */
const IDS_PER_READ = 100;

/**
 * The cells of `fieldIds` that the records `ids` of table `tableId` hold now: by record id, then by field id. A record
 * Airtable does not return (deleted, or of another table) is absent. One list records request per 100 distinct ids
 * (`OR(RECORD_ID() = "rec…", …)`, cells keyed by field id), through the caller's client and so its limiter; rejects
 * with the client's errors.
 */
export async function readCellsById(
  airtable: AirtableClient,
  baseId: string,
  tableId: string,
  ids: Iterable<string>,
  fieldIds: readonly string[],
): Promise<Map<string, Record<string, unknown>>> {
  const cells = new Map<string, Record<string, unknown>>();
  const unique = [...new Set(ids)];
  for (let i = 0; i < unique.length; i += IDS_PER_READ) {
    const chunk = unique.slice(i, i + IDS_PER_READ);
    for await (const page of airtable.iterateRecords(baseId, tableId, {
      filterByFormula: `OR(${chunk.map((id) => `RECORD_ID() = ${formulaString(id)}`).join(", ")})`,
      fields: [...fieldIds],
      returnFieldsByFieldId: true,
    })) {
      for (const record of page) cells.set(record.id, record.fields);
    }
  }
  return cells;
}
