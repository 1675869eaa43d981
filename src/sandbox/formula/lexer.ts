import { FormulaError } from "./errors.ts";

export type TokenKind = "number" | "string" | "field" | "ident" | "op" | "lparen" | "rparen" | "comma" | "eof";

export interface Token {
  kind: TokenKind;
  /** number: the numeric text; string: the unescaped value; field: the name inside the braces; ident: the identifier; op: the operator. */
  value: string;
  /** 0-based character offset of the token's first character. */
  pos: number;
}

const ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r" };
const IDENT_START = /[\p{L}_]/u;
const IDENT_PART = /[\p{L}\p{N}_]/u;
const DIGIT = /[0-9]/;

/** Shows a source character in an error message. */
export function describeChar(ch: string): string {
  return JSON.stringify(ch);
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const ch = text[i] as string;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const start = i;
    if (DIGIT.test(ch) || (ch === "." && DIGIT.test(text[i + 1] ?? ""))) {
      while (i < n && DIGIT.test(text[i] as string)) i++;
      if (text[i] === "." && DIGIT.test(text[i + 1] ?? "")) {
        i++;
        while (i < n && DIGIT.test(text[i] as string)) i++;
      }
      tokens.push({ kind: "number", value: text.slice(start, i), pos: start });
      continue;
    }
    if (ch === '"' || ch === "'") {
      i++;
      let out = "";
      let closed = false;
      while (i < n) {
        const c = text[i] as string;
        if (c === "\\") {
          if (i + 1 >= n) break;
          const next = text[i + 1] as string;
          out += ESCAPES[next] ?? next;
          i += 2;
          continue;
        }
        if (c === ch) {
          closed = true;
          i++;
          break;
        }
        out += c;
        i++;
      }
      if (!closed) throw new FormulaError(`Unterminated string starting at position ${start}`);
      tokens.push({ kind: "string", value: out, pos: start });
      continue;
    }
    if (ch === "{") {
      const end = text.indexOf("}", i + 1);
      if (end < 0) throw new FormulaError(`Unterminated field reference "{" at position ${start}`);
      const name = text.slice(i + 1, end);
      if (name === "") throw new FormulaError(`Empty field reference "{}" at position ${start}`);
      tokens.push({ kind: "field", value: name, pos: start });
      i = end + 1;
      continue;
    }
    if (IDENT_START.test(ch)) {
      while (i < n && IDENT_PART.test(text[i] as string)) i++;
      tokens.push({ kind: "ident", value: text.slice(start, i), pos: start });
      continue;
    }
    const two = text.slice(i, i + 2);
    if (two === "!=" || two === "<=" || two === ">=") {
      tokens.push({ kind: "op", value: two, pos: start });
      i += 2;
      continue;
    }
    if ("+-*/&=<>".includes(ch)) {
      tokens.push({ kind: "op", value: ch, pos: start });
      i++;
      continue;
    }
    if (ch === "(") tokens.push({ kind: "lparen", value: ch, pos: start });
    else if (ch === ")") tokens.push({ kind: "rparen", value: ch, pos: start });
    else if (ch === ",") tokens.push({ kind: "comma", value: ch, pos: start });
    else throw new FormulaError(`Unexpected character ${describeChar(ch)} at position ${start}`);
    i++;
  }
  tokens.push({ kind: "eof", value: "", pos: n });
  return tokens;
}
