/**
 * The sandbox's emulation of Airtable's filterByFormula: a parser and evaluator for the subset of Airtable's formula
 * language the server generates and tests use. Anything outside that subset is refused with a FormulaError at
 * compile time, never approximated, so a filter the sandbox cannot honour can not silently match every record.
 */
import { FormulaError } from "./formula/errors.ts";
import { fieldValue, type FormulaField, type FormulaRecord } from "./formula/fields.ts";
import { FUNCTIONS, UNSUPPORTED_FUNCTIONS, type CallContext } from "./formula/functions.ts";
import { parse, type Node } from "./formula/parser.ts";
import { compare, ErrorValue, isError, isTruthy, toExternal, toNumber, toText, type Value } from "./formula/values.ts";

export { FormulaError, type FormulaErrorKind } from "./formula/errors.ts";
export type { FormulaField, FormulaRecord } from "./formula/fields.ts";
export { MAX_DEPTH, MAX_LENGTH, parse } from "./formula/parser.ts";
export type { Node } from "./formula/parser.ts";

export interface CompiledFormula {
  /** The parsed formula. */
  readonly root: Node;
  /** The fields the formula references (each once, in order of first use). */
  readonly referencedFields: readonly FormulaField[];
  /** The formula's value for a record: a string, number, boolean, null for blank, or `{ error: "#ERROR!" }`. */
  evaluate(record: FormulaRecord): unknown;
  /** Whether Airtable would return the record: the result is not 0, false, "", NaN, blank or an error. */
  matches(record: FormulaRecord): boolean;
}

/** Checks function names, argument counts and field names; the tree's depth is bounded by the parser. */
function check(root: Node, fields: Map<string, FormulaField>): void {
  const unknownFunctions: string[] = [];
  const unsupportedFunctions: string[] = [];
  const arityErrors: string[] = [];
  const unknownFields: string[] = [];
  const visit = (node: Node): void => {
    switch (node.type) {
      case "field":
        if (!fields.has(node.name) && !unknownFields.includes(node.name)) unknownFields.push(node.name);
        return;
      case "negate":
        visit(node.operand);
        return;
      case "chain":
        visit(node.first);
        for (const part of node.rest) visit(part.operand);
        return;
      case "call": {
        const spec = FUNCTIONS[node.name];
        if (spec === undefined) {
          const list = UNSUPPORTED_FUNCTIONS.has(node.name) ? unsupportedFunctions : unknownFunctions;
          if (!list.includes(node.name)) list.push(node.name);
        } else if (node.args.length < spec.min || node.args.length > spec.max) {
          const expected =
            spec.min === spec.max
              ? `${spec.min}`
              : spec.max === Infinity
                ? `at least ${spec.min}`
                : `${spec.min} to ${spec.max}`;
          const noun = expected === "1" || expected === "at least 1" ? "argument" : "arguments";
          arityErrors.push(`${node.name}() at position ${node.pos} takes ${expected} ${noun}, got ${node.args.length}`);
        }
        for (const child of node.args) visit(child);
        return;
      }
      default:
        return;
    }
  };
  visit(root);
  if (unknownFunctions.length > 0) {
    throw new FormulaError(`Unknown function names: ${unknownFunctions.join(", ")}`, "unknownFunction");
  }
  if (unsupportedFunctions.length > 0) {
    throw new FormulaError(
      `Not supported by the Airtable sandbox's formula engine: ${unsupportedFunctions.join(", ")} (a real Airtable function the sandbox does not emulate)`,
      "unsupported",
    );
  }
  if (arityErrors.length > 0) {
    throw new FormulaError(`Wrong number of arguments: ${arityErrors.join("; ")}`, "arity");
  }
  if (unknownFields.length > 0) {
    throw new FormulaError(`Unknown field names: ${unknownFields.join(", ")}`, "unknownField");
  }
}

function evaluateNode(node: Node, record: FormulaRecord, fields: Map<string, FormulaField>): Value {
  const ctx: CallContext = { record, evaluate: (child) => evaluateNode(child, record, fields) };
  switch (node.type) {
    case "number":
    case "string":
    case "boolean":
      return node.value;
    case "field":
      return fieldValue(fields.get(node.name) as FormulaField, record);
    case "negate": {
      const operand = evaluateNode(node.operand, record, fields);
      return isError(operand) ? operand : -toNumber(operand);
    }
    case "chain": {
      let left = evaluateNode(node.first, record, fields);
      for (const { op, operand } of node.rest) {
        const right = evaluateNode(operand, record, fields);
        if (isError(left)) return left;
        if (isError(right)) return right;
        switch (op) {
          case "&":
            left = toText(left) + toText(right);
            break;
          case "+":
            left = toNumber(left) + toNumber(right);
            break;
          case "-":
            left = toNumber(left) - toNumber(right);
            break;
          case "*":
            left = toNumber(left) * toNumber(right);
            break;
          case "/":
            left = toNumber(left) / toNumber(right);
            break;
          default:
            left = compare(op, left, right);
        }
      }
      return left;
    }
    case "call": {
      const spec = FUNCTIONS[node.name];
      if (spec === undefined) return new ErrorValue(`unknown function ${node.name}`);
      if (spec.lazy !== undefined) return spec.lazy(node.args, ctx);
      const args: Exclude<Value, ErrorValue>[] = [];
      for (const child of node.args) {
        const value = evaluateNode(child, record, fields);
        if (isError(value)) return value;
        args.push(value);
      }
      return spec.call === undefined ? null : spec.call(args, ctx);
    }
  }
}

/**
 * Parses and checks a filterByFormula against a table's fields (referenced by name). Throws FormulaError for syntax
 * errors (with 0-based positions), unknown or unsupported functions, wrong argument counts and unknown field names.
 */
export function compileFormula(text: string, fields: FormulaField[]): CompiledFormula {
  const root = parse(text);
  const byName = new Map<string, FormulaField>();
  for (const field of fields) {
    if (field.id !== undefined) byName.set(field.id, field);
  }
  // Names win over ids when a field is named like another field's id.
  for (const field of fields) byName.set(field.name, field);
  check(root, byName);
  const referencedFields: FormulaField[] = [];
  const collect = (node: Node): void => {
    if (node.type === "field") {
      const field = byName.get(node.name) as FormulaField;
      if (!referencedFields.includes(field)) referencedFields.push(field);
    } else if (node.type === "negate") collect(node.operand);
    else if (node.type === "chain") {
      collect(node.first);
      for (const part of node.rest) collect(part.operand);
    } else if (node.type === "call") node.args.forEach(collect);
  };
  collect(root);
  const run = (record: FormulaRecord): Value => evaluateNode(root, record, byName);
  return {
    root,
    referencedFields,
    evaluate: (record) => toExternal(run(record)),
    matches: (record) => isTruthy(run(record)),
  };
}
