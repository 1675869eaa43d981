/**
 * One sentence for an argument sent as JSON text where the schema takes the list or object itself — `fields:
 * "[\"Name\"]"` for `["Name"]`, `fields: "{\"Name\":\"x\"}"` for `{"Name": "x"}` — a mistake agents make when they
 * serialise an argument once too often. zod words it "expected array, received string" (or "expected record"), and
 * the list wording (list-argument.ts) would take the text for one name and advise `["[\"Name\"]"]`. Instead:
 * `fields was sent as a JSON string; send the array itself: ["Name"]`, quoting the parsed value so the fix is exact.
 *
 * Refused, not parsed and taken: the input schema in tools/list says "array" or "object", and a client that
 * validates against it must agree with the server (the stance list-argument.ts takes for a lone value); and a text
 * argument that happens to look like JSON is never reinterpreted elsewhere. Applies to every tool's arguments at any
 * depth (`records[0].fields`, `fields[1].options`), before the tool's own rewordIssues, which then see no issue for it.
 */
import { issuePathKeys, type InputIssue } from "./define-tool.ts";
import { isPlainObject, quotedValue } from "./tool-input-error.ts";

/** How much of the parsed value the sentence quotes (an ellipsis ends a cut one): enough for a few records. */
const QUOTED_CHARACTERS = 200;

/**
 * A rewordIssues for every tool: each zod `invalid_type` issue expecting an array (or a record/object) whose value
 * in `args` is a text that parses as JSON of that kind is replaced, with every other issue at or under that path, by
 * `<where> was sent as a JSON string; send the array itself: <parsed value>` (or "object"), with no path (the SDK
 * would put "where: " before it), ahead of the issues left. Other issues, and a text that is not such JSON, are left
 * as they were. Only rewords: the call is still refused.
 * @param args the arguments as the call sent them
 * @param issues zod's issues, as Standard Schema validation answered them
 */
export function jsonStringIssues(args: unknown, issues: readonly InputIssue[]): readonly InputIssue[] {
  // The paths sent as JSON text, with their sentences; zod may raise more than one issue at such a path (a length
  // check beside the type), all answered by the one sentence.
  const sent = new Map<string, { keys: PropertyKey[]; message: string }>();
  for (const issue of issues) {
    if (issue.code !== "invalid_type") continue;
    const wants =
      issue.expected === "array"
        ? "array"
        : issue.expected === "record" || issue.expected === "object"
          ? "object"
          : undefined;
    if (wants === undefined) continue;
    const keys = issuePathKeys(issue);
    const given = valueAt(args, keys);
    if (typeof given !== "string") continue;
    const parsed = parseJson(given);
    if (wants === "array" ? !Array.isArray(parsed) : !isPlainObject(parsed)) continue;
    const where = pathText(keys);
    const value = quotedValue(parsed, QUOTED_CHARACTERS);
    sent.set(where, { keys, message: `${where} was sent as a JSON string; send the ${wants} itself: ${value}` });
  }
  if (sent.size === 0) return issues;
  const within = (keys: readonly PropertyKey[], prefix: readonly PropertyKey[]) =>
    prefix.length <= keys.length && prefix.every((key, i) => key === keys[i]);
  const others = issues.filter((issue) => {
    const keys = issuePathKeys(issue);
    return ![...sent.values()].some((path) => within(keys, path.keys));
  });
  return [...[...sent.values()].map(({ message }) => ({ message, path: [] })), ...others];
}

/** The value at `keys` in `value`, or undefined where the path leaves it. */
function valueAt(value: unknown, keys: readonly PropertyKey[]): unknown {
  let at = value;
  for (const key of keys) {
    if (typeof at !== "object" || at === null || typeof key === "symbol") return undefined;
    at = (at as Record<string | number, unknown>)[key];
  }
  return at;
}

/** `text` parsed as JSON, or undefined when it is not JSON. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A path as the refusals write one: `records[0].fields`. */
function pathText(keys: readonly PropertyKey[]): string {
  return keys.map((key, i) => (typeof key === "number" ? `[${key}]` : `${i === 0 ? "" : "."}${String(key)}`)).join("");
}
