import { FormulaError } from "./errors.ts";
import { tokenize, type Token } from "./lexer.ts";

export type BinaryOp = "+" | "-" | "*" | "/" | "&" | "=" | "!=" | "<" | ">" | "<=" | ">=";

export type Node =
  | { type: "number"; value: number; pos: number }
  | { type: "string"; value: string; pos: number }
  | { type: "boolean"; value: boolean; pos: number }
  | { type: "field"; name: string; pos: number }
  | { type: "call"; name: string; args: Node[]; pos: number }
  | { type: "negate"; operand: Node; pos: number }
  /** A left-associative run of operators of one precedence level, kept flat so a long `a+b+c+…` cannot build a deep tree. */
  | { type: "chain"; first: Node; rest: { op: BinaryOp; operand: Node; pos: number }[]; pos: number };

/** Deepest nesting of parentheses, function calls and unary minus the sandbox accepts. */
export const MAX_DEPTH = 200;
/** Longest formula text the sandbox accepts (Airtable's own limit comes from URL length, around 16 kB). */
export const MAX_LENGTH = 100_000;

/** Operator precedence levels, lowest first (Excel-style: comparison < & < + - < * /). */
const LEVELS: readonly (readonly BinaryOp[])[] = [["=", "!=", "<", ">", "<=", ">="], ["&"], ["+", "-"], ["*", "/"]];

function describe(token: Token): string {
  switch (token.kind) {
    case "eof":
      return "end of formula";
    case "string":
      return `string ${JSON.stringify(token.value)}`;
    case "field":
      return `field reference {${token.value}}`;
    case "number":
    case "ident":
      return `"${token.value}"`;
    default:
      return `token "${token.value}"`;
  }
}

class Parser {
  private readonly tokens: Token[];
  private index = 0;
  private depth = 0;

  constructor(tokens: Token[]) {
    this.tokens = tokens;
  }

  private peek(): Token {
    return this.tokens[this.index] as Token;
  }

  private next(): Token {
    const token = this.peek();
    if (token.kind !== "eof") this.index++;
    return token;
  }

  private unexpected(token: Token): FormulaError {
    if (token.kind === "eof") return new FormulaError(`Unexpected end of formula at position ${token.pos}`);
    return new FormulaError(`Unexpected ${describe(token)} at position ${token.pos}`);
  }

  private enter(pos: number): void {
    this.depth++;
    if (this.depth > MAX_DEPTH) {
      throw new FormulaError(`Formula is nested too deeply (more than ${MAX_DEPTH} levels) at position ${pos}`);
    }
  }

  private leave(): void {
    this.depth--;
  }

  parseFormula(): Node {
    if (this.peek().kind === "eof") throw new FormulaError("The formula is empty");
    const node = this.parseLevel(0);
    const rest = this.peek();
    if (rest.kind !== "eof") throw this.unexpected(rest);
    return node;
  }

  private parseLevel(level: number): Node {
    const ops = LEVELS[level];
    if (ops === undefined) return this.parseUnary();
    const first = this.parseLevel(level + 1);
    const rest: { op: BinaryOp; operand: Node; pos: number }[] = [];
    for (;;) {
      const token = this.peek();
      if (token.kind !== "op" || !ops.includes(token.value as BinaryOp)) break;
      this.next();
      rest.push({ op: token.value as BinaryOp, operand: this.parseLevel(level + 1), pos: token.pos });
    }
    return rest.length === 0 ? first : { type: "chain", first, rest, pos: first.pos };
  }

  private parseUnary(): Node {
    const token = this.peek();
    if (token.kind === "op" && token.value === "-") {
      this.next();
      this.enter(token.pos);
      const operand = this.parseUnary();
      this.leave();
      return { type: "negate", operand, pos: token.pos };
    }
    return this.parsePrimary();
  }

  private parsePrimary(): Node {
    const token = this.next();
    switch (token.kind) {
      case "number":
        return { type: "number", value: Number(token.value), pos: token.pos };
      case "string":
        return { type: "string", value: token.value, pos: token.pos };
      case "field":
        return { type: "field", name: token.value, pos: token.pos };
      case "lparen": {
        this.enter(token.pos);
        const inner = this.parseLevel(0);
        this.leave();
        const close = this.next();
        if (close.kind !== "rparen") throw this.unexpected(close);
        return inner;
      }
      case "ident": {
        if (this.peek().kind === "lparen") return this.parseCall(token);
        const upper = token.value.toUpperCase();
        if (upper === "TRUE" || upper === "FALSE") return { type: "boolean", value: upper === "TRUE", pos: token.pos };
        // Airtable lets a field whose name is a plain identifier be referenced without braces.
        return { type: "field", name: token.value, pos: token.pos };
      }
      default:
        throw this.unexpected(token);
    }
  }

  private parseCall(nameToken: Token): Node {
    const open = this.next();
    this.enter(open.pos);
    const args: Node[] = [];
    if (this.peek().kind === "rparen") {
      this.next();
    } else {
      for (;;) {
        args.push(this.parseLevel(0));
        const sep = this.next();
        if (sep.kind === "rparen") break;
        if (sep.kind !== "comma") throw this.unexpected(sep);
      }
    }
    this.leave();
    return { type: "call", name: nameToken.value.toUpperCase(), args, pos: nameToken.pos };
  }
}

export function parse(text: string): Node {
  if (text.length > MAX_LENGTH) {
    throw new FormulaError(
      `Formula is too long (${text.length} characters, the sandbox accepts at most ${MAX_LENGTH})`,
    );
  }
  return new Parser(tokenize(text)).parseFormula();
}
