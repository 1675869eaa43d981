/** A formula error value (Airtable shows these as #ERROR!). It propagates through operators and most functions. */
export class ErrorValue {
  readonly code: string;
  readonly reason: string;
  constructor(reason: string, code = "#ERROR!") {
    this.code = code;
    this.reason = reason;
  }
}

/** A single runtime value: blank (null), text, number or logical. */
export type Scalar = null | string | number | boolean;

/**
 * Runtime values: a scalar, an array (what a lookup field or an ARRAY… function gives; flat, as Airtable flattens
 * lookups of lookups) or an error.
 */
export type Value = Scalar | readonly Scalar[] | ErrorValue;

export function isError(value: Value): value is ErrorValue {
  return value instanceof ErrorValue;
}

export function isArray(value: Value): value is readonly Scalar[] {
  return Array.isArray(value);
}

/** Airtable keeps a record unless the result is 0, false, "", NaN, [] or #Error! (blank counts as empty). */
export function isTruthy(value: Value): boolean {
  if (value === null || isError(value)) return false;
  if (isArray(value)) return toText(value) !== "";
  if (typeof value === "number") return value !== 0 && !Number.isNaN(value);
  if (typeof value === "string") return value !== "";
  return value;
}

/**
 * Text form of a value: blank is "", TRUE/FALSE are 1/0 (Airtable represents logicals numerically), an array is its
 * items' text joined with ", " — how Airtable turns a lookup into text, so FIND/SEARCH over a lookup search the
 * joined values.
 */
export function toText(value: Exclude<Value, ErrorValue>): string {
  if (value === null) return "";
  if (isArray(value)) return value.map((item) => toText(item)).join(", ");
  if (typeof value === "boolean") return value ? "1" : "0";
  if (typeof value === "number") return String(value);
  return value;
}

/** Numeric form of a value: blank is 0, TRUE/FALSE are 1/0, text is parsed ("" is 0, non-numeric text is NaN). */
export function toNumber(value: Exclude<Value, ErrorValue>): number {
  if (value === null) return 0;
  if (isArray(value)) return toNumber(toText(value));
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "number") return value;
  const trimmed = value.trim();
  if (trimmed === "") return 0;
  return /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(trimmed) ? Number(trimmed) : Number.NaN;
}

type Plain = Exclude<Value, ErrorValue>;

/**
 * Brings two operands to a common type for comparison. Blank takes the other side's type ("" against text, 0 against
 * numbers), so `{X} = ""`, `{X} = 0` and `{X} = BLANK()` all hold for an empty field, and text against a number is
 * compared numerically ("5" = 5, "" = 0).
 */
function coercePair(a: Plain, b: Plain): [string, string] | [number, number] {
  // An array compares as its text (a one-item lookup equals its item's text).
  if (isArray(a)) a = toText(a) === "" ? null : toText(a);
  if (isArray(b)) b = toText(b) === "" ? null : toText(b);
  if (typeof a === "boolean") a = a ? 1 : 0;
  if (typeof b === "boolean") b = b ? 1 : 0;
  if (a === null && b === null) return ["", ""];
  if (a === null) a = typeof b === "string" ? "" : 0;
  if (b === null) b = typeof a === "string" ? "" : 0;
  if (typeof a === "string" && typeof b === "string") return [a, b];
  return [toNumber(a), toNumber(b)];
}

export function compare(op: "=" | "!=" | "<" | ">" | "<=" | ">=", a: Plain, b: Plain): boolean {
  const [x, y] = coercePair(a, b);
  switch (op) {
    case "=":
      return x === y;
    case "!=":
      return x !== y;
    case "<":
      return x < y;
    case ">":
      return x > y;
    case "<=":
      return x <= y;
    case ">=":
      return x >= y;
  }
}

/** What evaluate() hands back: blank as null, errors in the shape Airtable's API uses for a formula cell error. */
export function toExternal(value: Value): unknown {
  if (isError(value)) return { error: value.code };
  if (isArray(value)) return value.length === 0 ? null : [...value];
  return value;
}
