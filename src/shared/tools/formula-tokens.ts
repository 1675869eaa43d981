/**
 * A minimal reader of Airtable formula text, shared by the two places this server looks at an agent's
 * filterByFormula: the link-field check before it is sent (link-id-formula.ts) and the explanation of a formula
 * Airtable refused (formula-mistakes.ts). It never judges the formula: Airtable does.
 */

export type FormulaTokenKind = "string" | "field" | "ident" | "op" | "lparen" | "rparen" | "comma" | "other";

export interface FormulaToken {
  kind: FormulaTokenKind;
  /** string: the unescaped text; field: the text inside the braces; ident: the identifier; op: the operator;
   * other: the one character (digits, `!`, `%`, `;`, `[`, a curly quote, …). */
  value: string;
  /** 0-based offset of the token's first character in the formula. */
  pos: number;
}

export interface FormulaTokens {
  /** The tokens up to the end, or up to a string or `{` that is never closed. */
  tokens: FormulaToken[];
  /** A string (in double or single quotes) or a `{field}` reference that the formula never closes, and where it starts. */
  unclosed?: { kind: "string" | "field"; pos: number };
}

const IDENT_START = /[\p{L}_]/u;
const IDENT_PART = /[\p{L}\p{N}_]/u;
const ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r" };

/**
 * Airtable's formula tokens: strings in double or single quotes with backslash escapes, `{field}` ending at the
 * first `}` (Airtable has no escape for it), identifiers, the operators `!= <= >= + - * / & = < >`, parentheses and
 * commas. Anything else, numbers included, is `other`, one character at a time.
 */
export function tokenizeFormula(text: string): FormulaTokens {
  const tokens: FormulaToken[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    const pos = i;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '"' || ch === "'") {
      let out = "";
      i++;
      for (;;) {
        if (i >= text.length || (text[i] === "\\" && i + 1 >= text.length)) {
          return { tokens, unclosed: { kind: "string", pos } };
        }
        const c = text[i] as string;
        if (c === "\\") {
          const next = text[i + 1] as string;
          out += ESCAPES[next] ?? next;
          i += 2;
        } else if (c === ch) {
          i++;
          break;
        } else {
          out += c;
          i++;
        }
      }
      tokens.push({ kind: "string", value: out, pos });
    } else if (ch === "{") {
      const end = text.indexOf("}", i + 1);
      if (end < 0) return { tokens, unclosed: { kind: "field", pos } };
      tokens.push({ kind: "field", value: text.slice(i + 1, end), pos });
      i = end + 1;
    } else if (IDENT_START.test(ch)) {
      while (i < text.length && IDENT_PART.test(text[i] as string)) i++;
      tokens.push({ kind: "ident", value: text.slice(pos, i), pos });
    } else if (["!=", "<=", ">="].includes(text.slice(i, i + 2))) {
      tokens.push({ kind: "op", value: text.slice(i, i + 2), pos });
      i += 2;
    } else if ("+-*/&=<>".includes(ch)) {
      tokens.push({ kind: "op", value: ch, pos });
      i++;
    } else {
      const kind = ch === "(" ? "lparen" : ch === ")" ? "rparen" : ch === "," ? "comma" : "other";
      tokens.push({ kind, value: ch, pos });
      i++;
    }
  }
  return { tokens };
}
