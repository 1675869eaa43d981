/**
 * One sentence for every way a list argument can fail its schema — given as one value instead of a list, as an
 * empty list, with too many items or with an item of the wrong kind — saying what the argument takes, an example
 * built from what the call gave, and what was wrong: `fields takes a list of field names or ids, e.g. ["Name"] (a
 * list even for one field; it was given the text "Name")`, instead of zod's "fields: Invalid input: expected array,
 * received string", which names the type but not the fix. First written for fieldsToMergeOn (write-inputs.ts), now
 * the wording of every list argument of the record tools: fields, fieldIds and sort of the listings (listing.ts),
 * records, recordIds and fieldsToMergeOn of the writes.
 *
 * A lone value is refused, not taken as a one-item list: the input schema listed in tools/list says "array", and a
 * client that validates arguments against it agrees with this server only if the server does too; Airtable's own
 * parameters are arrays (https://airtable.com/developers/web/api/list-records: fields[], sort[]), as are the
 * reference MCP server's; and a lone text is not always one item (`fields: "Name, Email"` would be one unknown field,
 * `sort: "Name"` says no direction). The project's stance is the same for unknown keys: a call that does not match
 * the schema is told how, not guessed at (README, "Tools").
 */
import { issuePathKeys, type InputIssue } from "./define-tool.ts";
import { isPlainObject, quotedValue } from "./tool-input-error.ts";

/** How one list argument is worded (see listArgumentIssues). */
export interface ListArgumentWording {
  /** What the list holds, after "takes a list of": "1 to 3 field names or ids", "record ids", "sort items". */
  holds: string;
  /** One item as "a list even for one …" says it: "field", "record". */
  one: string;
  /** An item as "fields[2] is 5, not …" says it: "a field name", "a record id", "a sort item". */
  item: string;
  /** Items counted, as "it was given 4 …" says it: "names", "items". */
  items: string;
  /** Whether a value is an item of the right kind (a non-empty text for a name list). */
  isItem(value: unknown): boolean;
  /** The example list, as JSON text, made with what the call gave when it gave something usable. */
  example(given: unknown): string;
  /** The schema's least and most items, named only to a call outside them. */
  min?: number;
  max?: number;
  /** After "it was given N <items>;": why that is too many. Default "at most <max>". */
  tooMany?: string;
  /** After "it was given an empty list": what to do instead ("leave fields out to get every field"). */
  empty?: string;
  /**
   * Whether a text of several comma-separated names (`"Name, Email"`) is answered as those names: the example lists
   * them one item each and the parenthesis says "one item per field" (nameListWording's lists).
   */
  splitsCommas?: boolean;
}

/**
 * A rewordIssues for the list argument `name`: every issue zod raised about the list itself or about one of its items
 * being of the wrong kind (paths `[name]` and `[name, i]`) is replaced by one sentence, `<name> takes a list of
 * <holds>, e.g. <example> (<what was wrong>)`, with no path (the SDK would put "name: " before a sentence that
 * starts with the name). Issues inside an item (`sort.0.field`, a sort item's unknown key) are left to their own
 * wording. The call is still refused.
 */
export function listArgumentIssues(name: string, wording: ListArgumentWording) {
  return (args: unknown, issues: readonly InputIssue[]): readonly InputIssue[] => {
    const given = typeof args === "object" && args !== null ? (args as Record<string, unknown>)[name] : undefined;
    if (given === undefined) return issues;
    const others = issues.filter((issue) => {
      const keys = issuePathKeys(issue);
      if (keys[0] !== name || keys.length > 2) return true;
      return keys.length === 2 && issue.code === "unrecognized_keys";
    });
    if (others.length === issues.length) return issues;
    return [
      {
        message: `${name} takes a list of ${wording.holds}, e.g. ${wording.example(given)} (${whatWasWrong(name, given, wording)})`,
        path: [],
      },
      ...others,
    ];
  };
}

/** The part in parentheses: what the call gave that the list does not take. */
function whatWasWrong(name: string, given: unknown, wording: ListArgumentWording): string {
  if (!Array.isArray(given)) {
    const value = typeof given === "string" ? `the text ${quotedValue(given)}` : quotedValue(given);
    if (wording.splitsCommas === true && commaParts(given) !== undefined) {
      return `one item per ${wording.one}; it was given ${value}`;
    }
    return typeof given === "string" || wording.isItem(given)
      ? `a list even for one ${wording.one}; it was given ${value}`
      : `it was given ${value}`;
  }
  if (given.length === 0) {
    return wording.empty === undefined ? "it was given an empty list" : `it was given an empty list; ${wording.empty}`;
  }
  if (wording.max !== undefined && given.length > wording.max) {
    return `it was given ${given.length} ${wording.items}; ${wording.tooMany ?? `at most ${wording.max}`}`;
  }
  if (wording.min !== undefined && given.length < wording.min) {
    return `it was given ${given.length} ${wording.items}; at least ${wording.min}`;
  }
  const bad = given.findIndex((item) => !wording.isItem(item));
  return bad < 0
    ? `it was given ${quotedValue(given)}`
    : `${name}[${bad}] is ${quotedValue(given[bad])}, not ${wording.item}`;
}

/**
 * The first name a call gave for a list of names, to build its example from: the text itself, the list's first
 * non-blank text, or the `id` of its first item that is an object with one (a record or field as a read answered
 * it: `[{ "id": "rec…", … }]`). Undefined when it gave none.
 */
export function givenName(given: unknown): string | undefined {
  const texts = (Array.isArray(given) ? given : [given]).map((item: unknown) => (isPlainObject(item) ? item.id : item));
  return texts.find((text): text is string => typeof text === "string" && text.trim() !== "");
}

/**
 * The names of a text that lists several, comma-separated (`"Name, Email"` → `["Name", "Email"]`), or undefined for
 * any other value. Only for the example: the call is still refused (a field's name may hold a comma).
 */
function commaParts(given: unknown): string[] | undefined {
  if (typeof given !== "string") return undefined;
  const parts = given
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "");
  return parts.length > 1 ? parts : undefined;
}

/**
 * The wording of a list of names (field names or ids, record ids): an item is a non-empty text, and the example is
 * `[<the name given>]`, or `[<fallback>]`; a text naming several, comma-separated, is shown as those names, one item
 * each (`fields: "Name, Email"` → `e.g. ["Name", "Email"] (one item per field; …)`: `["Name, Email"]`, the example
 * it got before, names one field that the table does not have).
 * @param fallback the example name when the call gave none, e.g. "Name"
 */
export function nameListWording(
  fallback: string,
  wording: Omit<ListArgumentWording, "isItem" | "example" | "items"> & { items?: string },
): ListArgumentWording {
  return {
    items: "names",
    ...wording,
    splitsCommas: true,
    isItem: (value) => typeof value === "string" && value !== "",
    example: (given) => {
      const parts = commaParts(given);
      return parts === undefined
        ? JSON.stringify([givenName(given) ?? fallback])
        : `[${parts.map((part) => JSON.stringify(part)).join(", ")}]`;
    },
  };
}
