import { ARRAY_FUNCTIONS } from "./array-functions.ts";
import { DATE_FUNCTIONS } from "./date-functions.ts";
import type { Node } from "./parser.ts";
import type { FunctionSpec } from "./spec.ts";
import { ErrorValue, isError, isTruthy, toNumber, toText, type Value } from "./values.ts";

export type { CallContext, FunctionSpec } from "./spec.ts";

type Plain = Exclude<Value, ErrorValue>;

function arg(args: Plain[], index: number): Plain {
  return args[index] ?? null;
}

function integerArg(args: Plain[], index: number, fallback: number): number | ErrorValue {
  const value = args[index];
  if (value === undefined) return fallback;
  const n = toNumber(value);
  return Number.isFinite(n) ? Math.trunc(n) : new ErrorValue(`argument ${index + 1} is not a number`);
}

/** FIND/SEARCH: 1-based position of the first occurrence at or after startFromPosition (0 by default). */
function position(args: Plain[]): number | ErrorValue {
  const start = integerArg(args, 2, 0);
  if (isError(start)) return start;
  return toText(arg(args, 1)).indexOf(toText(arg(args, 0)), Math.max(0, start)) + 1;
}

function count(args: Plain[], index: number): number | ErrorValue {
  const n = integerArg(args, index, 0);
  if (isError(n)) return n;
  return n < 0 ? new ErrorValue(`argument ${index + 1} must not be negative`) : n;
}

export const FUNCTIONS: Record<string, FunctionSpec> = {
  AND: { min: 1, max: Infinity, call: (args) => args.every(isTruthy) },
  OR: { min: 1, max: Infinity, call: (args) => args.some(isTruthy) },
  XOR: { min: 1, max: Infinity, call: (args) => args.filter(isTruthy).length % 2 === 1 },
  NOT: { min: 1, max: 1, call: (args) => !isTruthy(arg(args, 0)) },
  IF: {
    min: 2,
    max: 3,
    lazy: ([condition, then, otherwise], ctx) => {
      const test = ctx.evaluate(condition as Node);
      if (isError(test)) return test;
      if (isTruthy(test)) return ctx.evaluate(then as Node);
      return otherwise === undefined ? null : ctx.evaluate(otherwise);
    },
  },
  ISERROR: { min: 1, max: 1, lazy: ([value], ctx) => isError(ctx.evaluate(value as Node)) },
  BLANK: { min: 0, max: 0, call: () => null },
  TRUE: { min: 0, max: 0, call: () => true },
  FALSE: { min: 0, max: 0, call: () => false },
  FIND: { min: 2, max: 3, call: (args) => position(args) },
  SEARCH: {
    min: 2,
    max: 3,
    call: (args) => {
      const found = position(args);
      return found === 0 ? null : found;
    },
  },
  LOWER: { min: 1, max: 1, call: (args) => toText(arg(args, 0)).toLowerCase() },
  UPPER: { min: 1, max: 1, call: (args) => toText(arg(args, 0)).toUpperCase() },
  TRIM: { min: 1, max: 1, call: (args) => toText(arg(args, 0)).trim() },
  LEN: { min: 1, max: 1, call: (args) => toText(arg(args, 0)).length },
  CONCATENATE: { min: 1, max: Infinity, call: (args) => args.map(toText).join("") },
  LEFT: {
    min: 2,
    max: 2,
    call: (args) => {
      const n = count(args, 1);
      return isError(n) ? n : toText(arg(args, 0)).slice(0, n);
    },
  },
  RIGHT: {
    min: 2,
    max: 2,
    call: (args) => {
      const n = count(args, 1);
      if (isError(n)) return n;
      const text = toText(arg(args, 0));
      return n === 0 ? "" : text.slice(Math.max(0, text.length - n));
    },
  },
  MID: {
    min: 3,
    max: 3,
    call: (args) => {
      const start = integerArg(args, 1, 1);
      const n = count(args, 2);
      if (isError(start)) return start;
      if (isError(n)) return n;
      if (start < 1) return new ErrorValue("whereToStart must be at least 1");
      return toText(arg(args, 0)).slice(start - 1, start - 1 + n);
    },
  },
  SUBSTITUTE: {
    min: 3,
    max: 4,
    call: (args) => {
      const text = toText(arg(args, 0));
      const old = toText(arg(args, 1));
      const replacement = toText(arg(args, 2));
      if (old === "") return text;
      if (args[3] === undefined) return text.split(old).join(replacement);
      const index = integerArg(args, 3, 1);
      if (isError(index)) return index;
      let at = -1;
      for (let k = 0; k < index; k++) {
        at = text.indexOf(old, at + (k === 0 ? 0 : old.length));
        if (at < 0) return text;
      }
      return index < 1 ? text : text.slice(0, at) + replacement + text.slice(at + old.length);
    },
  },
  T: { min: 1, max: 1, call: (args) => (typeof args[0] === "string" ? args[0] : null) },
  RECORD_ID: { min: 0, max: 0, call: (_args, ctx) => ctx.record.id },
  CREATED_TIME: { min: 0, max: 0, call: (_args, ctx) => ctx.record.createdTime },
  ...ARRAY_FUNCTIONS,
  ...DATE_FUNCTIONS,
};

/** Real Airtable functions the sandbox does not emulate; using one is refused rather than approximated. */
export const UNSUPPORTED_FUNCTIONS: ReadonlySet<string> = new Set([
  "ABS",
  "CEILING",
  "DATESTR",
  "DATETIME_FORMAT",
  "DATETIME_PARSE",
  "DAY",
  "ENCODE_URL_COMPONENT",
  "ERROR",
  "EVEN",
  "EXP",
  "FLOOR",
  "FROMNOW",
  "HOUR",
  "INT",
  "LOG",
  "MINUTE",
  "MOD",
  "MONTH",
  "NOW",
  "ODD",
  "POWER",
  "REGEX_EXTRACT",
  "REGEX_MATCH",
  "REGEX_REPLACE",
  "REPLACE",
  "REPT",
  "ROUND",
  "ROUNDDOWN",
  "ROUNDUP",
  "SECOND",
  "SET_LOCALE",
  "SET_TIMEZONE",
  "SQRT",
  "SWITCH",
  "TIMESTR",
  "TODAY",
  "TONOW",
  "VALUE",
  "WEEKDAY",
  "WEEKNUM",
  "WORKDAY",
  "WORKDAY_DIFF",
  "YEAR",
]);
