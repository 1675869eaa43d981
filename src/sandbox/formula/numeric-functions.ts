/**
 * Airtable's numeric functions (https://support.airtable.com/docs/formula-field-reference, "Numeric operators and
 * functions"): ABS, CEILING, FLOOR, INT, MOD, POWER, SQRT, EXP, LOG, EVEN, ODD, ROUND, ROUNDUP, ROUNDDOWN, VALUE.
 * Arguments are read as the arithmetic operators read them (blank is 0, TRUE/FALSE are 1/0, non-numeric text is NaN),
 * so a bad argument gives NaN, as `"abc" + 1` does, never an approximation.
 */
import type { FunctionSpec } from "./spec.ts";
import { toNumber, toText, type ErrorValue, type Value } from "./values.ts";

type Plain = Exclude<Value, ErrorValue>;

function num(args: Plain[], index: number, fallback = 0): number {
  const value = args[index];
  return value === undefined ? fallback : toNumber(value);
}

/** -0 as 0 (JSON and the API show no negative zero); NaN stays NaN. */
function unsigned(value: number): number {
  return value === 0 ? 0 : value;
}

/** value × 10^places, computed on the decimal text so that 1.005 shifted by 2 is exactly 100.5 (not 100.49999…). */
function shift(value: number, places: number): number {
  const [mantissa, exponent = "0"] = String(value).split("e");
  return Number(`${mantissa}e${Number(exponent) + places}`);
}

/** Drops binary floating-point noise from a product such as 11 × 0.1 (1.1000000000000001 → 1.1). */
function tidy(value: number): number {
  return Number.isFinite(value) ? Number.parseFloat(value.toPrecision(15)) : value;
}

/** Rounds |value| at `precision` decimal places (negative: to tens, hundreds…) with `how`, keeping the sign. */
function roundAt(value: number, precisionArg: number, how: (x: number) => number): number {
  if (!Number.isFinite(value) || !Number.isFinite(precisionArg)) return Number.NaN;
  const precision = Math.trunc(precisionArg);
  const sign = value < 0 ? -1 : 1;
  return unsigned(sign * shift(how(shift(Math.abs(value), precision)), -precision));
}

/** CEILING/FLOOR: the nearest multiple of significance (1 by default) at or above / at or below the value. */
function toMultiple(args: Plain[], how: (x: number) => number): number {
  const value = num(args, 0);
  const significance = num(args, 1, 1);
  return unsigned(tidy(how(value / significance) * significance));
}

export const NUMERIC_FUNCTIONS: Record<string, FunctionSpec> = {
  ABS: { min: 1, max: 1, call: (args) => Math.abs(num(args, 0)) },
  CEILING: { min: 1, max: 2, call: (args) => toMultiple(args, Math.ceil) },
  FLOOR: { min: 1, max: 2, call: (args) => toMultiple(args, Math.floor) },
  /** The greatest integer at or below the value: INT(-1.99) is -2. */
  INT: { min: 1, max: 1, call: (args) => unsigned(Math.floor(num(args, 0))) },
  /** The remainder of value ÷ divisor, with the sign of the value (as JavaScript's %); MOD(x, 0) is NaN. */
  MOD: { min: 2, max: 2, call: (args) => unsigned(num(args, 0) % num(args, 1)) },
  POWER: { min: 2, max: 2, call: (args) => Math.pow(num(args, 0), num(args, 1)) },
  /** The square root of a non-negative number; a negative one gives NaN. */
  SQRT: { min: 1, max: 1, call: (args) => Math.sqrt(num(args, 0)) },
  EXP: { min: 1, max: 1, call: (args) => Math.exp(num(args, 0)) },
  /** LOG(number, [base]): the base defaults to 10. */
  LOG: {
    min: 1,
    max: 2,
    call: (args) => {
      const value = num(args, 0);
      const base = num(args, 1, 10);
      if (base === 10) return Math.log10(value);
      if (base === 2) return Math.log2(value);
      return Math.log(value) / Math.log(base);
    },
  },
  /** Rounds away from zero to an even integer: EVEN(0.1) is 2, EVEN(-0.1) is -2, EVEN(0) is 0. */
  EVEN: {
    min: 1,
    max: 1,
    call: (args) => {
      const value = num(args, 0);
      return unsigned((value < 0 ? -1 : 1) * Math.ceil(Math.abs(value) / 2) * 2);
    },
  },
  /** Rounds away from zero to an odd integer: ODD(0.1) is 1, ODD(-0.1) is -1, ODD(2) is 3, ODD(0) is 1. */
  ODD: {
    min: 1,
    max: 1,
    call: (args) => {
      const value = num(args, 0);
      if (Number.isNaN(value)) return value;
      let n = Math.ceil(Math.abs(value));
      if (n % 2 === 0) n++;
      return value < 0 ? -n : n;
    },
  },
  /**
   * ROUND(value, [precision]): to `precision` decimal places (0 by default; negative rounds to tens, hundreds…), ties
   * broken toward positive infinity, so ROUND(2.5, 0) is 3 and ROUND(-2.5, 0) is -2.
   */
  ROUND: {
    min: 1,
    max: 2,
    call: (args) => {
      const value = num(args, 0);
      const precision = num(args, 1, 0);
      if (!Number.isFinite(value) || !Number.isFinite(precision)) return Number.NaN;
      const p = Math.trunc(precision);
      return unsigned(shift(Math.round(shift(value, p)), -p));
    },
  },
  /** ROUNDUP(value, precision): away from zero. Airtable needs the precision. */
  ROUNDUP: { min: 2, max: 2, call: (args) => roundAt(num(args, 0), num(args, 1), Math.ceil) },
  /** ROUNDDOWN(value, precision): toward zero. Airtable needs the precision. */
  ROUNDDOWN: { min: 2, max: 2, call: (args) => roundAt(num(args, 0), num(args, 1), Math.floor) },
  /**
   * VALUE(text): the number the text spells, ignoring currency signs, thousands separators and spaces
   * (VALUE("$1,000,000") is 1000000); text that is not a number is NaN, blank is 0.
   */
  VALUE: {
    min: 1,
    max: 1,
    call: (args) => {
      const value = args[0] ?? null;
      if (typeof value === "number") return value;
      return toNumber(toText(value).replace(/[\s,$€£¥]/g, ""));
    },
  },
};
