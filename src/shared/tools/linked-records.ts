/**
 * Link fields (`multipleRecordLinks`) made easy for agents, both ways:
 * - writes: a link cell may name linked records by the linked table's primary-field value ("Acme") as well as by
 *   record id; names are resolved to ids before the write is queued (`resolveLinkNames`);
 * - reads: with expandLinks, a link cell's ids come back with the linked records' primary values
 *   (`expandLinkCells`).
 * Both read the linked tables through the caller's Airtable client, so every request passes the shared limiter.
 * Airtable's cell format for links is an array of record ids (https://airtable.com/developers/web/api/field-model,
 * "Link to another record").
 */
import type { AirtableClient } from "../airtable/client.ts";
import { isRecordId } from "../airtable/ids.ts";
import { closestNames } from "../closest-name.ts";
import type { AirtableField, AirtableRecord, AirtableTable, BaseSchema } from "../airtable/schemas.ts";
import { readCellsById } from "./cells-by-id.ts";
import { fieldReference, formulaString } from "./search-formula.ts";
import { ToolInputError } from "./tool-input-error.ts";
import { alsoGivenIn, type ProblemLine } from "./write/write-problems.ts";
import type { LinkNameMatch } from "../operations/options.ts";

/** Names per lookup request: keeps the filterByFormula short (the client switches to POST for long ones anyway). */
const NAMES_PER_REQUEST = 50;

/** The link fields' linked tables, with their primary fields (undefined when the schema lacks the table). */
function linkedTable(schema: BaseSchema, field: AirtableField): { table: AirtableTable; primary: AirtableField } {
  const linkedTableId = field.options?.linkedTableId;
  const table = schema.tables.find((t) => t.id === linkedTableId);
  const primary = table?.fields.find((f) => f.id === table.primaryFieldId);
  if (table === undefined || primary === undefined) {
    throw new ToolInputError(
      `The link field ${JSON.stringify(field.name)} links to a table (${String(linkedTableId)}) this base's schema ` +
        "does not show. Give record ids (rec…) for it instead of names.",
    );
  }
  return { table, primary };
}

/**
 * A primary value as text, the way Airtable shows it (arrays joined with ", "): a collaborator's `name`, a
 * barcode's `text`, a button's `label`, an attachment's `filename`, an AI text field's `value`, a computed
 * field's error (`{"error": "#ERROR!"}`) or special number (`{"specialValue": "NaN"}`) as that text
 * (https://airtable.com/developers/web/api/field-model).
 */
function primaryText(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (Array.isArray(value)) return value.map(primaryText).join(", ");
  if (typeof value === "object") {
    const o = value as Record<string, unknown>;
    for (const key of ["name", "text", "label", "filename", "value", "error", "specialValue"]) {
      if (typeof o[key] === "string") return o[key];
    }
    if ("value" in o) return primaryText(o.value);
    return JSON.stringify(value);
  }
  return String(value);
}

/**
 * What to do about a name no linked record has: create the record, fix the name, or give an id; for a name with
 * commas ("Acme, Globex"), first how to name several records. Airtable's typecast splits a text link cell on commas
 * (https://github.com/Airtable/airtable.js/issues/130), so an agent may join names that way, while this server looks
 * a name up whole (a primary value may hold a comma: "O'Reilly, Inc."), and would otherwise be told only to create
 * a record named "Acme, Globex".
 */
function severalNamesHint(name: string): string {
  const parts = commaParts(name);
  const fix = "create that record first, fix the name, or give its record id (rec…).";
  if (parts.length < 2) return fix.charAt(0).toUpperCase() + fix.slice(1);
  return (
    "A name is looked up whole, commas included; to link several records, give each its own item: " +
    `${JSON.stringify(parts).replaceAll('","', '", "')}. Otherwise ${fix}`
  );
}

/** A name's parts between commas, trimmed, blanks left out. */
const commaParts = (name: string): string[] =>
  name
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "");

/** Whether a name reads as several names joined with commas ("Acme, Globex"): severalNamesHint says what to do. */
const listsSeveral = (name: string): boolean => commaParts(name).length >= 2;

/** Text naming a linked record by its primary value: not a record id, not blank. */
const isName = (v: unknown): v is string => typeof v === "string" && v.trim() !== "" && !isRecordId(v);

/**
 * Rewrites, in place, every link cell of `cells` (keyed by field ids of `table`) so that names of linked records become
 * their record ids. A cell may be an array mixing ids and names, or a single name. One read of each linked table per 50
 * distinct names. Names match the primary value exactly, else case-insensitively.
 *
 * Throws ToolInputError naming the value, the linked table and the field when no record or several records have that
 * primary value (for no record, with the records it likely meant: likelyMeant, one more read, refusals only)
 * (`where(i)` names the record, e.g. `records[3].fields`). With `collect`, such a name is added to it instead, as a
 * line of a gathered refusal (write-problems.ts: one per field and name, naming the first record giving it and where
 * else it is given), and left in its cell; so are a link field whose names cannot be looked up (its linked table
 * missing from the schema, or a primary field name a formula cannot reference). The requests are the same either way.
 * `caseMatches`: each (field, name) that matched its record only ignoring case ("acme" for "Acme") is added to it
 * once, for the write's answer to say which record it linked (OperationOptions.linkNamesMatched).
 */
export async function resolveLinkNames(
  airtable: AirtableClient,
  baseId: string,
  schema: BaseSchema,
  table: AirtableTable,
  cells: Record<string, unknown>[],
  where: (index: number) => string,
  collect?: ProblemLine[],
  caseMatches?: LinkNameMatch[],
): Promise<void> {
  const links = table.fields.filter((f) => f.type === "multipleRecordLinks");
  for (const field of links) {
    const wanted = new Set<string>();
    const naming: number[] = [];
    cells.forEach((record, index) => {
      const cell = record[field.id];
      // "" names no record: it clears the cell (typecast), and Airtable skips a blank item of a list the same way.
      if (isName(cell)) wanted.add(cell);
      if (Array.isArray(cell)) {
        for (const v of cell) if (isName(v)) wanted.add(v);
      }
      if (namesIn(cell)) naming.push(index);
    });
    if (wanted.size === 0) continue;
    /** Refuses the field's names as a whole: thrown, or with `collect`, one line for every record naming some. */
    const refuseField = (error: ToolInputError): void => {
      if (collect === undefined) throw error;
      collect.push({ first: naming[0] ?? 0, records: naming, text: error.message });
    };
    let linked: AirtableTable;
    let primary: AirtableField;
    try {
      ({ table: linked, primary } = linkedTable(schema, field));
    } catch (error) {
      if (!(error instanceof ToolInputError)) throw error;
      refuseField(error);
      continue;
    }
    const ref = fieldReference(primary);
    if (ref === undefined) {
      refuseField(
        new ToolInputError(
          `Names cannot be looked up in ${JSON.stringify(linked.name)}: its primary field's name contains "}". ` +
            `Give record ids (rec…) for ${JSON.stringify(field.name)}.`,
        ),
      );
      continue;
    }
    const found = new Map<string, { id: string; text: string }[]>();
    const names = [...wanted];
    for (let i = 0; i < names.length; i += NAMES_PER_REQUEST) {
      const chunk = names.slice(i, i + NAMES_PER_REQUEST);
      const formula = `OR(${chunk.map((n) => `LOWER(${ref} & "") = LOWER(${formulaString(n)})`).join(", ")})`;
      for await (const page of airtable.iterateRecords(baseId, linked.id, {
        filterByFormula: formula,
        fields: [primary.id],
        returnFieldsByFieldId: true,
      })) {
        for (const rec of page) {
          const text = primaryText(rec.fields[primary.id]);
          const key = text.toLowerCase();
          found.set(key, [...(found.get(key) ?? []), { id: rec.id, text }]);
        }
      }
    }
    // A name with commas is told how to name several records instead (severalNamesHint): no guess for it.
    const unmatched = names.filter((name) => (found.get(name.toLowerCase()) ?? []).length === 0 && !listsSeveral(name));
    const suggestions = await likelyMeant(airtable, baseId, linked.id, primary, ref, unmatched);
    /** With `collect`: each name refused, with its sentence for the first record and every record giving it. */
    const refused = new Map<string, { text: string; records: number[]; places: string[] }>();
    const idOf = (name: string, index: number): string => {
      const candidates = found.get(name.toLowerCase()) ?? [];
      const exact = candidates.filter((c) => c.text === name);
      const matches = exact.length > 0 ? exact : candidates;
      if (matches.length === 1) {
        const match = matches[0]!;
        if (exact.length === 0 && !caseMatches?.some((m) => m.fieldId === field.id && m.given === name)) {
          caseMatches?.push({
            fieldId: field.id,
            field: field.name,
            given: name,
            name: match.text,
            recordId: match.id,
          });
        }
        return match.id;
      }
      const at = `${where(index)}[${JSON.stringify(field.name)}]`;
      const known = refused.get(name);
      if (known !== undefined) {
        if (!known.records.includes(index)) {
          known.records.push(index);
          known.places.push(at);
        }
        return name;
      }
      const error =
        matches.length === 0
          ? new ToolInputError(
              `${at}: no record of table ${JSON.stringify(linked.name)} has ${JSON.stringify(name)} as its ` +
                `${JSON.stringify(primary.name)}. ${didYouMean(suggestions.get(name))}${severalNamesHint(name)}`,
            )
          : new ToolInputError(
              `${at}: ${matches.length} records of table ${JSON.stringify(linked.name)} have ${JSON.stringify(name)} ` +
                `as their ${JSON.stringify(primary.name)} (${matches.map((m) => m.id).join(", ")}). Give the record ` +
                "id of the one you mean.",
            );
      if (collect === undefined) throw error;
      refused.set(name, { text: error.message, records: [index], places: [] });
      return name;
    };
    cells.forEach((record, index) => {
      const cell = record[field.id];
      const resolve = (v: unknown) => (isName(v) ? idOf(v, index) : v);
      const blank = (v: unknown) => typeof v === "string" && v.trim() === "";
      if (isName(cell)) {
        const id = idOf(cell, index);
        if (id !== cell) record[field.id] = [id];
      }
      // A blank name names no record: alone it clears the cell like "", in a list it is dropped.
      else if (blank(cell)) record[field.id] = "";
      else if (Array.isArray(cell)) record[field.id] = cell.filter((v) => !blank(v)).map(resolve);
    });
    for (const { text, records, places } of refused.values()) {
      collect?.push({ first: records[0]!, records, text: text + alsoGivenIn(places) });
    }
  }
}

/** Records read at most to find what names no record matches likely meant (one request). */
const CANDIDATES_READ = 100;
/** Records a "did you mean" names at most, per name. */
const MEANT_NAMED = 3;

/** A name's words, lowercased: its runs of letters and digits. */
const wordsOf = (text: string): string[] => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

/** Two words alike: equal, or one the start of the other when the shorter has 3 letters or more ("Corp", "Corporation"). */
const wordsAlike = (a: string, b: string): boolean =>
  a === b || (Math.min(a.length, b.length) >= 3 && (a.startsWith(b) || b.startsWith(a)));

/**
 * Whether record name `known` is likely what `wanted` meant: spelt within closestNames' reach ("Zeta Crop"), or every
 * word of the shorter of the two alike a word of the longer (wordsAlike): "Zeta Corporation" → "Zeta Corp", "Acme
 * Inc" → "Acme", "Stark" → "Stark Industries". Names of companies, people and products are given long or short, with
 * or without a legal form; a letter or two off is a typo.
 */
function likelyMeans(wanted: string, known: string): boolean {
  if (closestNames(wanted, [known], 1).length > 0) return true;
  const [a, b] = [wordsOf(wanted), wordsOf(known)];
  if (a.length === 0 || b.length === 0) return false;
  const [shorter, longer] = a.length <= b.length ? [a, b] : [b, a];
  return shorter.every((word) => longer.some((other) => wordsAlike(word, other)));
}

/**
 * For names no linked record has, the records they likely meant (likelyMeans), at most MEANT_NAMED per name, by name:
 * one read of the linked table's records whose primary value holds a word (3 letters or more) of any of the names,
 * or starts like one of those names' first 3 letters, at most CANDIDATES_READ of them. Only the refusal pays for it.
 * A read that fails answers nothing: the refusal is made all the same, without the guess.
 */
async function likelyMeant(
  airtable: AirtableClient,
  baseId: string,
  tableId: string,
  primary: AirtableField,
  ref: string,
  names: readonly string[],
): Promise<Map<string, { id: string; text: string }[]>> {
  const meant = new Map<string, { id: string; text: string }[]>();
  const words = [...new Set(names.flatMap(wordsOf).filter((w) => w.length >= 3))].slice(0, 20);
  const typos = [...new Set(names.map((n) => n.trim().toLowerCase().slice(0, 3)).filter((p) => p.length === 3))];
  if (words.length + typos.length === 0) return meant;
  const field = `LOWER(${ref} & "")`;
  const formula = `OR(${[
    ...words.map((w) => `FIND(${formulaString(w)}, ${field})`),
    ...typos.map((p) => `LEFT(${field}, 3) = ${formulaString(p)}`),
  ].join(", ")})`;
  const candidates: { id: string; text: string }[] = [];
  try {
    for await (const page of airtable.iterateRecords(baseId, tableId, {
      filterByFormula: formula,
      fields: [primary.id],
      returnFieldsByFieldId: true,
      maxRecords: CANDIDATES_READ,
    })) {
      for (const rec of page) candidates.push({ id: rec.id, text: primaryText(rec.fields[primary.id]) });
    }
  } catch {
    return meant;
  }
  for (const name of names) {
    const likely = candidates.filter((c) => c.text.trim() !== "" && likelyMeans(name, c.text));
    if (likely.length > 0) meant.set(name, likely.slice(0, MEANT_NAMED));
  }
  return meant;
}

/** "Did you mean "Zeta Corp" (rec…)? " for the records a name likely meant; "" when none. */
function didYouMean(likely: readonly { id: string; text: string }[] | undefined): string {
  if (likely === undefined || likely.length === 0) return "";
  return `Did you mean ${likely.map((c) => `${JSON.stringify(c.text)} (${c.id})`).join(" or ")}? `;
}

/** Whether a link cell names a linked record by its primary value (a name, alone or in a list). */
const namesIn = (cell: unknown): boolean => isName(cell) || (Array.isArray(cell) && cell.some(isName));

/** A link cell with expandLinks: each linked record's id and primary value (`name`, text as a formula shows it). */
export interface ExpandedLink {
  id: string;
  name: string;
}

/**
 * With expandLinks: replaces, in `records`, each link cell's ids by `{id, name}` pairs, `name` being the linked
 * record's primary value. One request per linked table per page of records (filterByFormula on RECORD_ID(),
 * only the primary field), through the limiter. A linked record not found (deleted meanwhile) keeps `name: ""`.
 * `records` are keyed by field name (the tools' default cell keys).
 */
export async function expandLinkCells(
  airtable: AirtableClient,
  baseId: string,
  schema: BaseSchema,
  table: AirtableTable,
  records: { fields: Record<string, unknown> }[],
): Promise<void> {
  const links = table.fields.filter((f) => f.type === "multipleRecordLinks");
  const byTable = new Map<string, { fields: AirtableField[]; ids: Set<string> }>();
  for (const field of links) {
    const linkedTableId = String(field.options?.linkedTableId ?? "");
    const entry = byTable.get(linkedTableId) ?? { fields: [], ids: new Set<string>() };
    entry.fields.push(field);
    for (const record of records) {
      const cell = record.fields[field.name];
      if (Array.isArray(cell)) for (const id of cell) if (typeof id === "string") entry.ids.add(id);
    }
    byTable.set(linkedTableId, entry);
  }
  for (const [linkedTableId, entry] of byTable) {
    if (entry.ids.size === 0) continue;
    const linked = schema.tables.find((t) => t.id === linkedTableId);
    const primaryId = linked?.primaryFieldId;
    if (linked === undefined || primaryId === undefined) continue;
    const names = new Map<string, string>();
    for (const [id, cells] of await readCellsById(airtable, baseId, linked.id, entry.ids, [primaryId])) {
      names.set(id, primaryText(cells[primaryId]));
    }
    for (const field of entry.fields) {
      for (const record of records) {
        const cell = record.fields[field.name];
        if (!Array.isArray(cell)) continue;
        record.fields[field.name] = cell.map((id): ExpandedLink | unknown =>
          typeof id === "string" ? { id, name: names.get(id) ?? "" } : id,
        );
      }
    }
  }
}

/**
 * About how many bytes expandLinkCells will add to this record's JSON: `{"id":…,"name":…}` around each linked id,
 * with a name of about 24 characters (an estimate: the names are not known before the extra request). Lets the
 * listing keep the expanded answer within its size budget.
 */
export function expandedLinkBytes(table: AirtableTable, record: Pick<AirtableRecord, "fields">): number {
  let bytes = 0;
  for (const field of table.fields) {
    if (field.type !== "multipleRecordLinks") continue;
    const cell = record.fields[field.name];
    if (Array.isArray(cell)) bytes += cell.length * 40;
  }
  return bytes;
}
