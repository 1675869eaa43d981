/**
 * The shape of Airtable's record ids: `rec` and 14 letters or digits (17 characters), as every id in Airtable's
 * Web API reference shows (https://airtable.com/developers/web/api/model/record). Ids are opaque: this says only
 * whether a text can be one, not that the record exists.
 */
export const RECORD_ID_PATTERN = /^rec[A-Za-z0-9]{14}$/;

/** Whether `text` has the shape of a record id (RECORD_ID_PATTERN). */
export function isRecordId(text: string): boolean {
  return RECORD_ID_PATTERN.test(text);
}
