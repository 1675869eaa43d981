/**
 * The field types the sandbox models, by family, following Airtable's field model
 * (https://airtable.com/developers/web/api/field-model): which ones hold data a write may set, which ones are
 * computed (every write to them is refused, even null), and which ones the meta API may create.
 */

/** Text held as a plain string; no format check (Airtable checks none for email, url or phone numbers either). */
export const TEXT_TYPES: ReadonlySet<string> = new Set([
  "singleLineText",
  "multilineText",
  "richText",
  "email",
  "url",
  "phoneNumber",
]);

/** Numbers in the JSON cell format (percent is a fraction: 0.5 is 50 %; duration is in seconds). */
export const NUMBER_TYPES: ReadonlySet<string> = new Set(["number", "currency", "percent", "duration", "rating"]);

/** Computed from the record, the base or the clock: the field model marks their cell format "read only". */
export const COMPUTED_TYPES: ReadonlySet<string> = new Set([
  "createdTime",
  "lastModifiedTime",
  "autoNumber",
  "formula",
  "multipleLookupValues",
  "rollup",
  "count",
  "button",
]);

/** Every type the sandbox stores or computes. */
export const SUPPORTED_TYPES: ReadonlySet<string> = new Set([
  ...TEXT_TYPES,
  ...NUMBER_TYPES,
  "checkbox",
  "singleSelect",
  "multipleSelects",
  "date",
  "dateTime",
  "barcode",
  "multipleAttachments",
  "multipleRecordLinks",
  "singleCollaborator",
  "multipleCollaborators",
  ...COMPUTED_TYPES,
]);

/**
 * Computed types the Web API cannot create ("Field type and options (read only)" in the field model); the sandbox
 * creates them only in setup (createBase).
 */
export const SETUP_ONLY_TYPES: ReadonlySet<string> = COMPUTED_TYPES;

/** Types Airtable refuses as a table's primary field. */
export const NOT_PRIMARY_TYPES: ReadonlySet<string> = new Set([
  "checkbox",
  "multipleSelects",
  "multipleAttachments",
  "multipleRecordLinks",
  "multipleCollaborators",
  "button",
  ...COMPUTED_TYPES,
]);
