/**
 * Cells keyed by field name (or id), as Airtable answers and takes them. Airtable allows any field name, `__proto__`
 * and `constructor` included, so a cell is an own property of the object that holds it: added by definition, not
 * assignment (`cells["__proto__"] = value` sets the object's prototype and the cell is lost), and read only when the
 * object has it as its own (`cells.constructor` of a record without that cell is Object's function, not "absent").
 */

/**
 * Adds the cell `key` to `cells` as an own, enumerable property, after the keys it has (JSON keeps that order).
 * Only `__proto__` needs a definition: assigning any other name (`constructor`, `toString`…) makes an own property
 * of a plain object, on the engine's fast path.
 */
export function setCell(cells: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(cells, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    cells[key] = value;
  }
}

/** The cell `key` of `cells`, undefined when it has no such own key (an empty cell, which Airtable leaves out). */
export function cellOf<T>(cells: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(cells, key) ? cells[key] : undefined;
}
