import { ARRAY_FUNCTIONS } from "./array-functions.ts";
import { DATE_FUNCTIONS } from "./date-functions.ts";
import { DATETIME_FUNCTIONS } from "./datetime-functions.ts";
import { MOMENT_FUNCTIONS } from "./moment-functions.ts";
import { NUMERIC_FUNCTIONS } from "./numeric-functions.ts";
import type { Node } from "./parser.ts";
import { REGEX_FUNCTIONS } from "./regex-functions.ts";
import type { FunctionSpec } from "./spec.ts";
import { compare, ErrorValue, isError, isTruthy, toNumber, toText, type Value } from "./values.ts";

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

/** Longest text REPT builds (Airtable caps a cell's text at 100,000 characters). */
export const MAX_TEXT_LENGTH = 100_000;

/**
 * ENCODE_URL_COMPONENT: percent-encodes everything but letters, digits and - _ . ~ (the reference lists those four
 * as the only characters left alone, so ! ' ( ) * are encoded too, unlike JavaScript's encodeURIComponent).
 */
function encodeUrlComponent(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
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
  /**
   * SWITCH(expression, pattern, result, [pattern, result…], [default]): the result of the first pattern equal to the
   * expression (equal as `=` compares), else the default (blank without one). Only the result taken is evaluated;
   * an error in the expression, or in a pattern compared before a match, is the result.
   */
  SWITCH: {
    min: 3,
    max: Infinity,
    lazy: ([expression, ...rest], ctx) => {
      const value = ctx.evaluate(expression as Node);
      if (isError(value)) return value;
      const pairs = Math.floor(rest.length / 2);
      for (let k = 0; k < pairs; k++) {
        const pattern = ctx.evaluate(rest[2 * k] as Node);
        if (isError(pattern)) return pattern;
        if (compare("=", value, pattern)) return ctx.evaluate(rest[2 * k + 1] as Node);
      }
      return rest.length % 2 === 1 ? ctx.evaluate(rest[rest.length - 1] as Node) : null;
    },
  },
  /** ERROR(): the generic #ERROR! value. */
  ERROR: { min: 0, max: 0, call: () => new ErrorValue("ERROR()") },
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
  /** REPT(text, number): the text repeated; a negative count is #ERROR!, as for LEFT. */
  REPT: {
    min: 2,
    max: 2,
    call: (args) => {
      const n = count(args, 1);
      if (isError(n)) return n;
      const text = toText(arg(args, 0));
      if (text.length * n > MAX_TEXT_LENGTH) return new ErrorValue("REPT result is too long");
      return text.repeat(n);
    },
  },
  /** REPLACE(text, start, count, replacement): `count` characters from the 1-based `start` replaced. */
  REPLACE: {
    min: 4,
    max: 4,
    call: (args) => {
      const start = integerArg(args, 1, 1);
      const n = count(args, 2);
      if (isError(start)) return start;
      if (isError(n)) return n;
      if (start < 1) return new ErrorValue("start_character must be at least 1");
      const text = toText(arg(args, 0));
      return text.slice(0, start - 1) + toText(arg(args, 3)) + text.slice(start - 1 + n);
    },
  },
  ENCODE_URL_COMPONENT: { min: 1, max: 1, call: (args) => encodeUrlComponent(toText(arg(args, 0))) },
  T: { min: 1, max: 1, call: (args) => (typeof args[0] === "string" ? args[0] : null) },
  RECORD_ID: { min: 0, max: 0, call: (_args, ctx) => ctx.record.id },
  CREATED_TIME: { min: 0, max: 0, call: (_args, ctx) => ctx.record.createdTime },
  ...ARRAY_FUNCTIONS,
  ...DATE_FUNCTIONS,
  ...DATETIME_FUNCTIONS,
  ...MOMENT_FUNCTIONS,
  ...NUMERIC_FUNCTIONS,
  ...REGEX_FUNCTIONS,
};

/**
 * Real Airtable functions the sandbox does not emulate; using one is refused rather than approximated. Every function
 * of the formula field reference is emulated since session 27 (DATETIME_PARSE, SET_LOCALE, TONOW and FROMNOW were the
 * last), so this is empty; it stays so that a function Airtable adds can be refused by name rather than as unknown.
 */
export const UNSUPPORTED_FUNCTIONS: ReadonlySet<string> = new Set<string>();
