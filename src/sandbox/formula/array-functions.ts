/**
 * Airtable's array and aggregate functions (https://support.airtable.com/docs/formula-field-reference, "Array
 * functions" and "Numeric operators and functions"), as rollup fields use them over `values` and filters use them
 * over lookups. Arguments that are arrays are flattened into their items.
 */
import type { FunctionSpec } from "./spec.ts";
import { ErrorValue, isArray, toNumber, toText, type Scalar, type Value } from "./values.ts";

type Plain = Exclude<Value, ErrorValue>;

function items(args: Plain[]): Scalar[] {
  const out: Scalar[] = [];
  for (const arg of args) {
    if (isArray(arg)) out.push(...arg);
    else out.push(arg);
  }
  return out;
}

/** Numeric items: numbers, and text that reads as a number; blanks and other text are skipped. */
function numbers(args: Plain[]): number[] {
  const out: number[] = [];
  for (const item of items(args)) {
    if (item === null || typeof item === "boolean") continue;
    const n = toNumber(item);
    if (!Number.isNaN(n)) out.push(n);
  }
  return out;
}

function asArray(value: Plain): readonly Scalar[] {
  return isArray(value) ? value : value === null ? [] : [value];
}

export const ARRAY_FUNCTIONS: Record<string, FunctionSpec> = {
  /** ARRAYJOIN(values, separator): the items' text joined; the separator defaults to ", ". */
  ARRAYJOIN: {
    min: 1,
    max: 2,
    call: ([values, separator]) => {
      const sep = separator === undefined ? ", " : toText(separator);
      return asArray(values ?? null)
        .map((item) => toText(item))
        .join(sep);
    },
  },
  ARRAYUNIQUE: {
    min: 1,
    max: 1,
    call: ([values]) => {
      const out: Scalar[] = [];
      for (const item of asArray(values ?? null)) if (!out.includes(item)) out.push(item);
      return out;
    },
  },
  /** Drops blanks and empty strings. */
  ARRAYCOMPACT: {
    min: 1,
    max: 1,
    call: ([values]) => asArray(values ?? null).filter((item) => item !== null && item !== ""),
  },
  ARRAYFLATTEN: { min: 1, max: Infinity, call: (args) => items(args) },
  /** ARRAYSLICE(values, start, [end]): 1-based, negative positions count from the end, end inclusive. */
  ARRAYSLICE: {
    min: 2,
    max: 3,
    call: ([values, start, end]) => {
      const list = asArray(values ?? null);
      const from = Math.trunc(toNumber(start ?? null));
      const to = end === undefined ? list.length : Math.trunc(toNumber(end));
      if (!Number.isFinite(from) || !Number.isFinite(to)) return new ErrorValue("ARRAYSLICE positions must be numbers");
      const a = from < 0 ? list.length + from : from - 1;
      const b = to < 0 ? list.length + to + 1 : to;
      return list.slice(Math.max(0, a), Math.max(0, b));
    },
  },
  SUM: { min: 1, max: Infinity, call: (args) => numbers(args).reduce((a, b) => a + b, 0) },
  MAX: {
    min: 1,
    max: Infinity,
    call: (args) => {
      const list = numbers(args);
      return list.length === 0 ? 0 : Math.max(...list);
    },
  },
  MIN: {
    min: 1,
    max: Infinity,
    call: (args) => {
      const list = numbers(args);
      return list.length === 0 ? 0 : Math.min(...list);
    },
  },
  AVERAGE: {
    min: 1,
    max: Infinity,
    call: (args) => {
      const list = numbers(args);
      return list.length === 0 ? 0 : list.reduce((a, b) => a + b, 0) / list.length;
    },
  },
  /** COUNT counts numeric items, COUNTA non-empty items, COUNTALL every item including blanks. */
  COUNT: { min: 1, max: Infinity, call: (args) => numbers(args).length },
  COUNTA: {
    min: 1,
    max: Infinity,
    call: (args) => items(args).filter((item) => item !== null && item !== "").length,
  },
  COUNTALL: { min: 1, max: Infinity, call: (args) => items(args).length },
};
