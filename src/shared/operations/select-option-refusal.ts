/**
 * Airtable's refusal of a select value that is not one of the field's options, explained for the agent.
 *
 * Airtable answers 422 INVALID_MULTIPLE_CHOICE_OPTIONS with the message `Insufficient permissions to create new
 * select option ""Blocked""` (the option as JSON inside quotes; seen in real error bodies, e.g.
 * https://github.com/gtalarico/pyairtable/issues/137) in two cases: without typecast, any unknown option ("if the
 * choice string does not exactly match an existing option, the request will fail with an
 * INVALID_MULTIPLE_CHOICE_OPTIONS error unless the typecast parameter is enabled", field model, Single select); with
 * typecast, an unknown option written by a user below creator, since adding an option is configuring the field
 * (https://github.com/Airtable/airtable.js/issues/138, Airtable's answer there). The message names neither the
 * field nor why, so the agent is told both, and what to do. An option's id given without typecast (the checks before
 * queueing leave it to Airtable, which may resolve it) is told to give the option's name instead.
 */

/** Airtable's wording of this refusal (the option follows it). */
const CREATE_OPTION = /Insufficient permissions to create new select option\s*(.*)$/s;

/**
 * The option Airtable's message names: `""Blocked""` is `"` + the JSON string + `"`; a message quoting it once
 * (`"Blocked"`) or not at all is read as it stands. Undefined when the message is not this refusal.
 */
export function refusedOption(message: string): string | undefined {
  const match = CREATE_OPTION.exec(message);
  if (match === null) return undefined;
  let text = match[1]!.trim();
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) text = text.slice(1, -1);
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "string") return parsed;
  } catch {
    // Quoted once, or not at all: the text is the option.
  }
  return text;
}

/**
 * A select option's id (`sel` + 14 letters or digits). The field model's write format is the option's name; an id
 * refused as an unknown option is a copied id, and the fix is its name, never adding the id as an option.
 */
const OPTION_ID = /^sel[A-Za-z0-9]{14}$/;

/** Whether the cell `value` names `option`: a single select's name, a multiple select's list, typecast's "a, b". */
function names(value: unknown, option: string, typecast: boolean): boolean {
  if (value === option) return true;
  if (Array.isArray(value)) return value.includes(option);
  return typecast && typeof value === "string" && value.split(",").some((part) => part.trim() === option);
}

/**
 * The item error's message for Airtable's 422 INVALID_MULTIPLE_CHOICE_OPTIONS "Insufficient permissions to create
 * new select option" on a record write: the option, the field(s) of the refused records (`cells`, keyed by field id
 * as the operation sends them; `fieldNames` maps ids to the call's names) whose value names it, why Airtable refused
 * it given the call's `typecast`, and the fix; Airtable's own message at the end. Undefined for any other message
 * (it is then kept as Airtable wrote it).
 */
export function explainSelectOptionRefusal(
  message: string,
  typecast: boolean,
  cells: readonly Record<string, unknown>[],
  fieldNames: Readonly<Record<string, string>> | undefined,
): string | undefined {
  const option = refusedOption(message);
  if (option === undefined) return undefined;
  const fieldIds = new Set<string>();
  for (const record of cells) {
    for (const [id, value] of Object.entries(record)) if (names(value, option, typecast)) fieldIds.add(id);
  }
  const fields = [...fieldIds].map((id) => (fieldNames?.[id] === undefined ? id : JSON.stringify(fieldNames[id])));
  const of =
    fields.length === 0
      ? "a select field of this record"
      : fields.length === 1
        ? `the select field ${fields[0]!}`
        : `the select fields ${fields.join(", ")}`;
  const shown = JSON.stringify(option);
  const why = OPTION_ID.test(option)
    ? `${shown} looks like the id of an option (sel…): a select cell takes the option's name (the field model's ` +
      "cell format). Give the option's name instead (describe_table lists each option's id and name)."
    : typecast
      ? "Only a base creator can add an option: typecast: true adds one only for a creator (permissionLevel create) or " +
        "the base's owner, so your permission level on this base is below that (list_bases shows it). Give one of the " +
        `existing options (describe_table lists them), or ask the base's owner to add ${shown} or to make you a creator.`
      : "Without typecast Airtable adds no option. Give one of the existing options (describe_table lists them); to " +
        `add ${shown} as a new option, pass typecast: true, which Airtable allows only a base creator (permissionLevel ` +
        "create) or the base's owner.";
  return `${shown} is not an existing option of ${of}, so Airtable refused the record. ${why} (Airtable: ${message})`;
}
