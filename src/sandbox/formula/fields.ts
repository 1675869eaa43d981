import { ErrorValue, type Scalar, type Value } from "./values.ts";
import { cellOf } from "../cell-object.ts";

export interface FormulaRecord {
  id: string;
  createdTime: string;
  /** When any of the record's cells last changed (LAST_MODIFIED_TIME()); createdTime when absent. */
  lastModifiedTime?: string;
  /**
   * When each of the formula's fields last had its cell changed, keyed by field name (LAST_MODIFIED_TIME({Field},
   * …)); a field absent here was never changed (or is computed).
   */
  fieldModifiedTimes?: Record<string, string>;
  /**
   * Keyed by field name; raw values as Airtable's API returns them (absent/undefined when the cell is empty),
   * except link fields, which hold their linked records' primary values (what a formula sees of a link).
   */
  fields: Record<string, unknown>;
}

export interface FormulaField {
  name: string;
  type: string;
  /** The field id: a formula may reference a field by `{fldXXXXXXXXXXXXXX}` as well as by name. */
  id?: string;
}

function textOrBlank(value: string): Value {
  return value === "" ? null : value;
}

function nameOf(item: unknown): string {
  if (typeof item === "string") return item;
  if (typeof item === "number" || typeof item === "boolean") return String(item);
  if (item !== null && typeof item === "object") {
    // Collaborators and selects show their name, barcodes their text, buttons their label.
    for (const key of ["name", "text", "label"] as const) {
      if (key in item && typeof (item as Record<string, unknown>)[key] === "string") {
        return (item as Record<string, string>)[key] as string;
      }
    }
  }
  return "";
}

/** An array cell (lookup, array-valued formula or rollup) as a flat array of scalars; blank when empty. */
function arrayValue(raw: unknown[]): Value {
  const out: Scalar[] = [];
  const add = (item: unknown): void => {
    if (Array.isArray(item)) item.forEach(add);
    else if (item === null || item === undefined) out.push(null);
    else if (typeof item === "string" || typeof item === "number" || typeof item === "boolean") out.push(item);
    else if (typeof item === "object" && "filename" in item) out.push(attachmentText(item));
    else out.push(nameOf(item));
  };
  raw.forEach(add);
  return out.length === 0 ? null : out;
}

/** An attachment appears in formulas as "filename (url)". */
function attachmentText(item: unknown): string {
  if (item === null || typeof item !== "object") return nameOf(item);
  const filename = "filename" in item && typeof item.filename === "string" ? item.filename : "";
  const url = "url" in item && typeof item.url === "string" ? item.url : "";
  if (filename === "") return url;
  return url === "" ? filename : `${filename} (${url})`;
}

function personText(raw: unknown): Value {
  if (raw === undefined || raw === null) return null;
  if (typeof raw === "object" && !Array.isArray(raw)) {
    const person = raw as Record<string, unknown>;
    for (const key of ["name", "email"] as const) {
      if (typeof person[key] === "string" && person[key] !== "") return person[key] as string;
    }
    return null;
  }
  return generic(raw);
}

function generic(raw: unknown): Value {
  if (raw === undefined || raw === null) return null;
  if (typeof raw === "string") return textOrBlank(raw);
  if (typeof raw === "number" || typeof raw === "boolean") return raw;
  if (Array.isArray(raw)) return raw.length === 0 ? null : textOrBlank(raw.map(nameOf).join(", "));
  const name = nameOf(raw);
  return name === "" ? new ErrorValue("unsupported cell value") : name;
}

/** Converts a stored cell value into the value a formula sees, following the field's type. */
export function fieldValue(field: FormulaField, record: FormulaRecord): Value {
  const raw = cellOf(record.fields, field.name);
  switch (field.type) {
    case "checkbox":
      return raw === true;
    case "number":
    case "autoNumber":
    case "currency":
    case "percent":
    case "rating":
    case "duration":
      if (raw === undefined || raw === null || raw === "") return null;
      return typeof raw === "number" ? raw : Number(raw);
    case "multipleSelects":
      return generic(raw);
    case "multipleAttachments":
      if (!Array.isArray(raw) || raw.length === 0) return null;
      return raw.map(attachmentText).join(", ");
    case "date":
      // A date-only field is "YYYY-MM-DD"; tolerate a full timestamp by keeping its date part.
      return typeof raw === "string"
        ? textOrBlank(/^\d{4}-\d{2}-\d{2}T/.test(raw) ? raw.slice(0, 10) : raw)
        : generic(raw);
    case "createdTime":
      return typeof raw === "string" && raw !== "" ? raw : record.createdTime;
    case "multipleLookupValues":
      return Array.isArray(raw) ? arrayValue(raw) : generic(raw);
    case "formula":
    case "rollup":
      if (Array.isArray(raw)) return arrayValue(raw);
      if (raw !== null && typeof raw === "object" && "error" in raw) return new ErrorValue(String(raw.error));
      return generic(raw);
    case "count":
      return typeof raw === "number" ? raw : 0;
    case "createdBy":
    case "lastModifiedBy":
      // A person reads as their name (their email when they have none), as Airtable's formulas show them.
      return personText(raw);
    case "aiText":
      // The generated text the cell shows (`value`); blank while empty, loading or in error without a value.
      if (raw !== null && typeof raw === "object" && "value" in raw) {
        return typeof raw.value === "string" ? textOrBlank(raw.value) : null;
      }
      return generic(raw);
    default:
      return generic(raw);
  }
}
