/**
 * The result type of a formula (and of a rollup's aggregation), as the meta API reports it in `options.result`
 * ("The resulting field type and options returned by the formula":
 * https://airtable.com/developers/web/api/field-model#formula), and the cell value a formula result becomes.
 *
 * Inferred from the formula's shape: text operators and functions give singleLineText, arithmetic gives number
 * (with the largest precision among the numbers it reads), counting and positions give integers, SUM/MIN/MAX of
 * one kind of number keep it (a sum of currency is currency), logical tests give checkbox (a formula
 * cell is `true` or empty for them: the field model lists `true` among formula cell values), date functions give
 * dateTime, and a bare field reference gives that field's own type and options.
 */
import type { Node } from "../formula.ts";
import type { Field } from "../store.ts";
import { NUMBER_TYPES } from "./registry.ts";

export interface ResultConfig {
  type: string;
  options?: Record<string, unknown>;
}

const TEXT_FUNCTIONS = new Set([
  "LOWER",
  "UPPER",
  "TRIM",
  "CONCATENATE",
  "LEFT",
  "RIGHT",
  "MID",
  "SUBSTITUTE",
  "T",
  "RECORD_ID",
  "ARRAYJOIN",
  "TONOW",
  "FROMNOW",
]);
const NUMBER_FUNCTIONS = new Set([
  "LEN",
  "FIND",
  "SEARCH",
  "SUM",
  "MAX",
  "MIN",
  "AVERAGE",
  "COUNT",
  "COUNTA",
  "COUNTALL",
  "DATETIME_DIFF",
]);
const AGGREGATES_KEEPING_TYPE = new Set(["SUM", "MIN", "MAX"]);
const LOGICAL_FUNCTIONS = new Set([
  "AND",
  "OR",
  "XOR",
  "NOT",
  "ISERROR",
  "TRUE",
  "FALSE",
  "IS_BEFORE",
  "IS_AFTER",
  "IS_SAME",
]);
const DATE_FUNCTIONS = new Set(["CREATED_TIME", "LAST_MODIFIED_TIME", "DATEADD", "DATETIME_PARSE"]);
const ARRAY_FUNCTIONS = new Set(["ARRAYUNIQUE", "ARRAYCOMPACT", "ARRAYFLATTEN", "ARRAYSLICE"]);

export const TEXT_RESULT: ResultConfig = { type: "singleLineText" };
/**
 * Types a formula reads as text (a person's name, AI text's value, a sync source's name): a formula of one of them
 * gives text.
 */
const TEXT_VALUED_TYPES: ReadonlySet<string> = new Set(["createdBy", "lastModifiedBy", "aiText", "externalSyncSource"]);
export const CHECKBOX_RESULT: ResultConfig = { type: "checkbox", options: { icon: "check", color: "greenBright" } };
/**
 * The result of a date-valued formula (CREATED_TIME(), DATEADD, …) and of a created / last modified time field set up
 * without one: a dateTime in ISO date and 24-hour time, shown in each viewer's zone (`client`: a string cell is in
 * the request's `timeZone`), as a date field whose "Use the same time zone (GMT) for all collaborators" is unticked,
 * the interface's default (a guess: the field model documents the options, not their defaults). It was `utc` until
 * session 28, which showed such times in UTC whatever the request's zone.
 */
export const DATETIME_RESULT: ResultConfig = {
  type: "dateTime",
  options: {
    dateFormat: { name: "iso", format: "YYYY-MM-DD" },
    timeFormat: { name: "24hour", format: "HH:mm" },
    timeZone: "client",
  },
};

function numberResult(precision: number): ResultConfig {
  return { type: "number", options: { precision } };
}

/** A field's type and options as another field's `result` shows them (a computed field shows its own result). */
export function resultOfField(field: Field): ResultConfig {
  if (field.type === "formula" || field.type === "rollup" || field.type === "multipleLookupValues") {
    const result = field.options?.result as ResultConfig | null | undefined;
    if (result !== undefined && result !== null) return structuredClone(result);
  }
  if (field.type === "count" || field.type === "autoNumber") return numberResult(0);
  if (field.type === "createdTime" || field.type === "lastModifiedTime") {
    // Its own result (date or dateTime, its formats and zone), as the meta API shows it; DATETIME_RESULT for a field
    // stored without one.
    const result = field.options?.result as ResultConfig | null | undefined;
    return structuredClone(result ?? DATETIME_RESULT);
  }
  // "The prompt will not currently be provided if this field config is within another fields configuration".
  if (field.type === "aiText") return { type: "aiText" };
  const out: ResultConfig = { type: field.type };
  if (field.options !== undefined) out.options = structuredClone(field.options);
  return out;
}

function precisionOf(config: ResultConfig): number {
  const p = config.options?.precision;
  return typeof p === "number" ? p : 0;
}

function isNumeric(config: ResultConfig): boolean {
  return NUMBER_TYPES.has(config.type);
}

/** Infers the result of a parsed formula; `fieldOf` resolves a field reference (by name or id) to its field. */
export function inferResult(root: Node, fieldOf: (name: string) => Field | undefined): ResultConfig {
  const infer = (node: Node): ResultConfig | undefined => {
    switch (node.type) {
      case "number":
        return numberResult(Number.isInteger(node.value) ? 0 : 2);
      case "string":
        return TEXT_RESULT;
      case "boolean":
        return CHECKBOX_RESULT;
      case "field": {
        const field = fieldOf(node.name);
        if (field !== undefined && TEXT_VALUED_TYPES.has(field.type)) return TEXT_RESULT;
        return field === undefined ? undefined : resultOfField(field);
      }
      case "negate": {
        const inner = infer(node.operand);
        return numberResult(inner === undefined ? 0 : precisionOf(inner));
      }
      case "chain": {
        const op = node.rest[0]?.op;
        if (op === "&") return TEXT_RESULT;
        if (op === "+" || op === "-" || op === "*" || op === "/") {
          const parts = [node.first, ...node.rest.map((r) => r.operand)].map(infer);
          const numeric = parts.filter((p): p is ResultConfig => p !== undefined && isNumeric(p));
          const precision = Math.max(0, ...numeric.map(precisionOf));
          return numberResult(node.rest.some((r) => r.op === "/") ? Math.max(precision, 2) : precision);
        }
        return CHECKBOX_RESULT;
      }
      case "call": {
        if (TEXT_FUNCTIONS.has(node.name)) return TEXT_RESULT;
        if (NUMBER_FUNCTIONS.has(node.name)) {
          const inner = node.args.map(infer).filter((p): p is ResultConfig => p !== undefined && isNumeric(p));
          // SUM, MIN and MAX of one kind of number keep it (a sum of currency is currency).
          const first = inner[0];
          if (
            AGGREGATES_KEEPING_TYPE.has(node.name) &&
            first !== undefined &&
            inner.every((p) => p.type === first.type && JSON.stringify(p.options) === JSON.stringify(first.options))
          ) {
            return first;
          }
          if (!AGGREGATES_KEEPING_TYPE.has(node.name) && node.name !== "AVERAGE") return numberResult(0);
          return numberResult(node.name === "AVERAGE" ? 2 : Math.max(0, ...inner.map(precisionOf)));
        }
        if (LOGICAL_FUNCTIONS.has(node.name)) return CHECKBOX_RESULT;
        if (DATE_FUNCTIONS.has(node.name)) return DATETIME_RESULT;
        if (ARRAY_FUNCTIONS.has(node.name)) return node.args[0] === undefined ? undefined : infer(node.args[0]);
        if (node.name === "IF") {
          for (const branch of node.args.slice(1)) {
            const r = infer(branch);
            if (r !== undefined) return r;
          }
        }
        return undefined;
      }
    }
  };
  return structuredClone(infer(root) ?? TEXT_RESULT);
}
