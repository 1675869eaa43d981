/**
 * Airtable's empty cell: a value that leaves a cell empty when written (absent, null, "", an unchecked checkbox
 * `false`, an empty list), and that a cell read back has when Airtable returns no key for it ("empty fields are not
 * returned", and an unchecked checkbox is not either: Airtable's list records and field model pages). Used where a
 * written value is compared with what Airtable keeps: reading back a create whose answer was lost
 * (operations/reconcile.ts), and refusing a merge value that would match every empty cell (tools/write).
 */
export function isEmptyCell(value: unknown): boolean {
  return (
    value === undefined ||
    value === null ||
    value === "" ||
    value === false ||
    (Array.isArray(value) && value.length === 0)
  );
}
