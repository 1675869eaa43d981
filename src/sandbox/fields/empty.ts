/** The result of a write that clears a cell: Airtable treats null, "", [], false (checkbox) as "empty". */
export const EMPTY = Symbol("empty");
export type CellResult = unknown | typeof EMPTY;

export function isEmptyResult(value: CellResult): value is typeof EMPTY {
  return value === EMPTY;
}
