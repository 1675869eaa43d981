/**
 * Airtable's regular-expression functions (https://support.airtable.com/docs/formula-field-reference, "Regex
 * functions"): REGEX_MATCH, REGEX_EXTRACT, REGEX_REPLACE. Airtable evaluates them with RE2; the sandbox uses
 * JavaScript's RegExp on the subset where both agree. A pattern RE2 would reject (backreferences, lookahead and
 * lookbehind, unknown escapes) or whose RE2 meaning JavaScript does not share (\A, \z, \pL, [[:alpha:]], \Q…\E,
 * \x{…}, the U flag) is #ERROR!, never an approximation. A leading RE2 flag group `(?i)`, `(?s)`, `(?m)` becomes the
 * matching RegExp flag and `(?P<name>…)` a named group.
 */
import type { FunctionSpec } from "./spec.ts";
import { ErrorValue, toText, type Value } from "./values.ts";

type Plain = Exclude<Value, ErrorValue>;

/** Letters and digits allowed after a backslash: the escapes RE2 and JavaScript both read the same way. */
const SHARED_ESCAPES = new Set(["d", "D", "w", "W", "s", "S", "b", "B", "n", "r", "t", "f", "v"]);

/** Longest pattern the sandbox compiles. */
const MAX_PATTERN_LENGTH = 10_000;

/** Translates an RE2 pattern into a JavaScript RegExp, or explains why it cannot. */
export function compileRe2(pattern: string, global: boolean): RegExp | ErrorValue {
  if (pattern.length > MAX_PATTERN_LENGTH) return new ErrorValue("the regular expression is too long");
  let flags = global ? "g" : "";
  let source = pattern;
  const leading = /^\(\?([a-zA-Z]+)\)/.exec(source);
  if (leading !== null) {
    for (const flag of leading[1] as string) {
      if (flag !== "i" && flag !== "m" && flag !== "s") return new ErrorValue(`unsupported regex flag ${flag}`);
      if (!flags.includes(flag)) flags += flag;
    }
    source = source.slice(leading[0].length);
  }
  let out = "";
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i] as string;
    if (ch === "\\") {
      const next = source[i + 1];
      if (next === undefined) return new ErrorValue("the regular expression ends with a backslash");
      if (/[A-Za-z0-9]/.test(next)) {
        if (next === "x") {
          if (!/^[0-9A-Fa-f]{2}$/.test(source.slice(i + 2, i + 4))) {
            return new ErrorValue("unsupported \\x escape in regular expression");
          }
        } else if (!SHARED_ESCAPES.has(next) || (inClass && (next === "b" || next === "B"))) {
          return new ErrorValue(`unsupported escape \\${next} in regular expression (RE2)`);
        }
      }
      out += ch + next;
      i++;
      continue;
    }
    if (inClass) {
      if (ch === "[" && source[i + 1] === ":") return new ErrorValue("POSIX character classes are not supported");
      if (ch === "]") inClass = false;
      out += ch;
      continue;
    }
    if (ch === "[") {
      inClass = true;
      out += ch;
      // A "]" or "^]" right after "[" is a literal in both dialects.
      if (source[i + 1] === "^") out += source[++i];
      if (source[i + 1] === "]") out += "\\" + source[++i];
      continue;
    }
    if (ch === "(" && source[i + 1] === "?") {
      const rest = source.slice(i + 2);
      if (rest.startsWith("P<")) {
        out += "(?<";
        i += 3;
        continue;
      }
      if (/^(=|!|<=|<!|P=|>)/.test(rest)) {
        return new ErrorValue("lookaround, atomic groups and backreferences are not supported by RE2");
      }
      if (!rest.startsWith(":") && !/^<[A-Za-z_]/.test(rest)) {
        return new ErrorValue("inline flags are supported only at the start of the regular expression");
      }
    }
    out += ch;
  }
  try {
    return new RegExp(out, flags);
  } catch (error) {
    return new ErrorValue(`invalid regular expression: ${(error as Error).message}`);
  }
}

function regexArgs(args: Plain[], global: boolean): [string, RegExp] | ErrorValue {
  const regex = compileRe2(toText(args[1] ?? null), global);
  return regex instanceof ErrorValue ? regex : [toText(args[0] ?? null), regex];
}

export const REGEX_FUNCTIONS: Record<string, FunctionSpec> = {
  /** REGEX_MATCH(text, regex): whether the regex matches anywhere in the text. */
  REGEX_MATCH: {
    min: 2,
    max: 2,
    call: (args) => {
      const parsed = regexArgs(args, false);
      return parsed instanceof ErrorValue ? parsed : parsed[1].test(parsed[0]);
    },
  },
  /** REGEX_EXTRACT(text, regex): the first match; no match is #ERROR!. */
  REGEX_EXTRACT: {
    min: 2,
    max: 2,
    call: (args) => {
      const parsed = regexArgs(args, false);
      if (parsed instanceof ErrorValue) return parsed;
      const match = parsed[1].exec(parsed[0]);
      return match === null ? new ErrorValue("REGEX_EXTRACT found no match") : match[0];
    },
  },
  /** REGEX_REPLACE(text, regex, replacement): every match replaced; `$1`… in the replacement name groups. */
  REGEX_REPLACE: {
    min: 3,
    max: 3,
    call: (args) => {
      const parsed = regexArgs(args, true);
      if (parsed instanceof ErrorValue) return parsed;
      return parsed[0].replace(parsed[1], toText(args[2] ?? null));
    },
  },
};
