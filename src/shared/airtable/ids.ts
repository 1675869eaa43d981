/**
 * The shape of Airtable's record ids: `rec` and 14 letters or digits (17 characters), as every id in Airtable's
 * Web API reference shows (https://airtable.com/developers/web/api/model/record). Ids are opaque: this says only
 * whether a text can be one, not that the record exists.
 */
export const RECORD_ID_PATTERN = /^rec[A-Za-z0-9]{14}$/;

/**
 * Record ids inside a longer text (RECORD_ID_PATTERN unanchored, whole words only), e.g. in Airtable's error message
 * `Record ID recXXXXXXXXXXXXXX does not exist`. Global: use it with `text.match(RECORD_ID_IN_TEXT)` (all ids, or
 * null) or `matchAll`; `test`/`exec` would carry `lastIndex` from one call to the next.
 */
export const RECORD_ID_IN_TEXT = /\brec[A-Za-z0-9]{14}\b/g;

/** Whether `text` has the shape of a record id (RECORD_ID_PATTERN). */
export function isRecordId(text: string): boolean {
  return RECORD_ID_PATTERN.test(text);
}
