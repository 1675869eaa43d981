/**
 * Cells keyed by field name, as Airtable answers them. Airtable takes any field name, `__proto__` and `constructor`
 * included, so cells are own properties of the object built (defined, not assigned: `cells["__proto__"] = value`
 * would set the object's prototype, and the cell would be lost) and are read only when the object has them as its
 * own (`cells.constructor` of a record without that cell is Object's function).
 */

/**
 * Adds the cell `key` to `cells` as an own, enumerable property, after the keys it has (JSON keeps that order). Only
 * `__proto__` needs a definition; any other name is assigned (an own property of a plain object, the fast path).
 */
export function setCell(cells: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(cells, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    cells[key] = value;
  }
}

/** The cell `key` of `cells`, undefined when it has no such own key. */
export function cellOf<T>(cells: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(cells, key) ? cells[key] : undefined;
}
