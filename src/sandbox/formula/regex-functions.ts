/**
 * Airtable's regular-expression functions (https://support.airtable.com/docs/formula-field-reference, "Regex
 * functions"): REGEX_MATCH, REGEX_EXTRACT, REGEX_REPLACE. Airtable evaluates them with RE2, and so does the
 * sandbox, through re2js (a port of RE2: the same syntax, so a pattern RE2 refuses — a backreference, lookaround,
 * a repeat count over 1000 — is #ERROR! here too, and the same linear-time matching, so no pattern can stall the
 * sandbox the way a backtracking engine would on `(a+)+$`).
 */
import { RE2JS, RE2JSException } from "re2js";
import type { FunctionSpec } from "./spec.ts";
import { ErrorValue, toText, type Value } from "./values.ts";

type Plain = Exclude<Value, ErrorValue>;

/** Longest pattern the sandbox compiles. */
const MAX_PATTERN_LENGTH = 10_000;

/** Compiles an RE2 pattern (inline flags such as `(?i)` and `(?P<name>…)` groups included), or says why not. */
export function compileRe2(pattern: string): RE2JS | ErrorValue {
  if (pattern.length > MAX_PATTERN_LENGTH) return new ErrorValue("the regular expression is too long");
  try {
    return RE2JS.compile(pattern);
  } catch (error) {
    if (!(error instanceof RE2JSException)) throw error;
    return new ErrorValue(`invalid regular expression (RE2): ${error.message}`);
  }
}

function regexArgs(args: Plain[]): [string, RE2JS] | ErrorValue {
  const regex = compileRe2(toText(args[1] ?? null));
  return regex instanceof ErrorValue ? regex : [toText(args[0] ?? null), regex];
}

export const REGEX_FUNCTIONS: Record<string, FunctionSpec> = {
  /** REGEX_MATCH(text, regex): whether the regex matches anywhere in the text. */
  REGEX_MATCH: {
    min: 2,
    max: 2,
    call: (args) => {
      const parsed = regexArgs(args);
      return parsed instanceof ErrorValue ? parsed : parsed[1].matcher(parsed[0]).find();
    },
  },
  /** REGEX_EXTRACT(text, regex): the first match; no match is #ERROR!. */
  REGEX_EXTRACT: {
    min: 2,
    max: 2,
    call: (args) => {
      const parsed = regexArgs(args);
      if (parsed instanceof ErrorValue) return parsed;
      const matcher = parsed[1].matcher(parsed[0]);
      return matcher.find() ? (matcher.group() ?? "") : new ErrorValue("REGEX_EXTRACT found no match");
    },
  },
  /** REGEX_REPLACE(text, regex, replacement): every match replaced; `$1`… in the replacement name groups. */
  REGEX_REPLACE: {
    min: 3,
    max: 3,
    call: (args) => {
      const parsed = regexArgs(args);
      if (parsed instanceof ErrorValue) return parsed;
      return parsed[1].matcher(parsed[0]).replaceAll(toText(args[2] ?? null));
    },
  },
};
