/**
 * The MCP `instructions` (sent to the agent at initialization: MCP spec, lifecycle, InitializeResult.instructions),
 * generated from the tools the server offers, so they can never promise a tool that is not there or miss one that
 * is: reads, writes as operations, following operations, the limits (records per call, batches of 10, 5 requests
 * per second per base) and cursors. tests/shared/tools/instructions.test.ts checks every catalog tool is named.
 */
import { configSchema } from "../config.ts";
import { MAX_BATCH_SIZE } from "../operations/events.ts";
import { operationTools } from "./catalog.ts";
import type { AnyToolDefinition } from "./define-tool.ts";
import { formatCount } from "../format-count.ts";

/** The settings the instructions quote. */
export interface InstructionSettings {
  /** MAX_RECORDS_PER_OPERATION: the most records one write call may carry. */
  maxRecordsPerOperation: number;
  /** WRITE_WAIT_MS: how long a write call waits for its operation before answering with its id. */
  writeWaitMs: number;
}

const defaults = configSchema.parse({});
export const DEFAULT_INSTRUCTION_SETTINGS: InstructionSettings = {
  maxRecordsPerOperation: defaults.MAX_RECORDS_PER_OPERATION,
  writeWaitMs: defaults.WRITE_WAIT_MS,
};

const operationToolNames = new Set(operationTools.map((t) => t.name));
const number = formatCount;
/** `list_bases (list bases), list_tables (list tables)`: each tool with its title, as the agent sees them. */
const named = (tools: readonly AnyToolDefinition[]) =>
  tools.map((t) => `${t.name} (${t.title.charAt(0).toLowerCase()}${t.title.slice(1)})`).join(", ");
const names = (tools: readonly AnyToolDefinition[]) => tools.map((t) => t.name).join(", ");
const takes = (tool: AnyToolDefinition, input: string) => Object.hasOwn(tool.inputSchema, input);

/** The instructions for a server offering `tools`. */
export function buildInstructions(
  tools: readonly AnyToolDefinition[],
  settings: InstructionSettings = DEFAULT_INSTRUCTION_SETTINGS,
): string {
  const writes = tools.filter((t) => t.kind === "write");
  const following = tools.filter((t) => t.kind === "read" && operationToolNames.has(t.name));
  const reads = tools.filter((t) => t.kind === "read" && !operationToolNames.has(t.name));
  const bulk = writes.filter((t) => takes(t, "records") || takes(t, "recordIds"));
  const paged = tools.filter((t) => takes(t, "cursor"));
  const has = (name: string) => tools.some((t) => t.name === name);
  const waitSec = Math.round(settings.writeWaitMs / 1000);
  const others = following.filter((t) => t.name !== "get_operation");

  const sections: string[] = [
    `This server ${writes.length > 0 ? "reads and writes" : "reads"} the signed-in user's Airtable bases.`,
  ];
  if (reads.length > 0) {
    sections.push(
      [
        `Reading — each call answers directly: ${named(reads)}.`,
        ...(has("list_bases")
          ? [
              '- Start with list_bases to get base ids (app…). Then list_tables (use detailLevel "tableIdentifiersOnly" on big bases) and describe_table for the fields of the table you need.',
            ]
          : []),
        "- Tables, fields and views are accepted by id (tbl…, fld…, viw…) or name (exact, or ignoring case and surrounding spaces when only one matches). Ids keep working after a rename; prefer them once you know them. An unknown name gets an error listing the real ones.",
        ...(has("list_records") || has("search_records")
          ? [
              "- list_records and search_records answer at most pageSize records and about 40 kB. Ask only for the fields you need.",
              '- filterByFormula takes an Airtable formula: field names in {braces}, text in "double quotes", e.g. AND({Status} = "Done", {Score} > 3). A link field reads there as its linked records\' primary values joined with ", " (names, not record ids): {Company} = "Acme" or FIND("Acme", {Company}); a record id never matches. To find text, prefer search_records: its term is matched literally.',
              "- Attachment urls in cells are temporary (Airtable lets them expire after about 2 hours): read the record again for a fresh url instead of keeping one.",
              "- Cells come in Airtable's API format by default, not as Airtable shows them: a date and time is UTC (\"2026-03-04T09:00:00.000Z\"; the field's own time zone is options.timeZone in describe_table: convert before telling a person the time), a percent a fraction (0.25 is 25 %), a duration seconds, a currency a plain number (its symbol is options.symbol).",
              '- To show a person cells as Airtable shows them, pass cellFormat "string" with timeZone and userLocale (list_records, search_records, get_record), e.g. {"cellFormat": "string", "timeZone": "Europe/Berlin", "userLocale": "en-gb"}: dates in the field\'s format and zone, currencies with their symbol, links as primary values, people by name. Those strings are for showing, not for computing or writing back.',
            ]
          : []),
      ].join("\n"),
    );
  }
  if (writes.length > 0) {
    sections.push(
      [
        `Writing — each call becomes an operation: ${named(writes)}.`,
        `- A write call is queued as an operation with an operationId and written in batches of ${MAX_BATCH_SIZE} records per Airtable request. The call waits up to about ${waitSec} s: if the operation ends in time, the answer has one result per input item, by index (its id, or its error); otherwise it has operationId, status and progress.`,
        `- Follow an operation with get_operation: status, progress and one result per item, by index.${others.length > 0 ? ` Also: ${named(others)}.` : ""} Never repeat a write because its answer said queued or running: poll get_operation with its operationId (pass the previous answer's sinceToken as since to get only the results that changed).`,
        ...(has("list_operations")
          ? [
              "- A write call that got no answer at all (the connection was lost, the call timed out, the server restarted) may still be running: a lost answer does not stop its operation. Before sending it again, call list_operations (newest first) and look for it: same kind, baseId, tableId, progress.recordsTotal (its record count) and a createdAt from when you sent it. If it is there, follow it with get_operation instead of calling again, or the records are written twice.",
            ]
          : []),
        "- A result marked inDoubt reached Airtable but its answer was lost: look the item up (e.g. search_records) before writing it again; it is never re-sent automatically.",
        '- typecast (default true) lets Airtable convert values: text to numbers and dates, new select options it then creates. Values the table\'s schema rules out (text that is no number in a number field, with typecast false a select option that does not exist…) are refused before anything is queued, with the reason and an accepted example. A select value that is an existing option but for case or spaces ("customer" for "Customer") is refused with or without typecast, naming the option to send; a new option typecast creates is named in the write\'s answer (and in get_operation), with the existing option it is close to, if any. With typecast left out, a new option close to an existing one ("Custmer" for "Customer") is refused before anything is queued, naming the option to send, since Airtable\'s API cannot delete a select option: to create it on purpose, send the call again with typecast: true given explicitly. Send numbers, currencies and percents as JSON numbers (1200.5, 0.12 for 12 %): with typecast left out, text with a currency symbol, grouping commas or a percent sign ("$1,200.50", "12%") is refused before anything is queued, naming the number to send. Computed fields (formula, rollup, lookup…) cannot be written.',
        `- onError "continue" (default) writes the good records and reports each failed one; "stop" writes nothing after the first failing batch.`,
        ...(has("update_records")
          ? [
              "- update_records sets a list cell (links, multiple selects, attachments, collaborators) to exactly the list given, it does not add to it: to add a tag or a linked record without reading the record first, pass addToLists: true. A call that would remove items a cell holds is refused, naming them, unless addToLists is given (false: replace). upsert_records replaces such a cell with the list given (an import's source holds the lists) unless given addToLists: true.",
            ]
          : []),
      ].join("\n"),
    );
  }
  const limits = [
    "Limits:",
    ...(bulk.length > 0
      ? [
          `- At most ${number(settings.maxRecordsPerOperation)} records per call of ${names(bulk)}: split bigger jobs into several calls. Each is written ${MAX_BATCH_SIZE} records per request.`,
        ]
      : []),
    "- Airtable allows 5 requests per second per base (and 50 per user). Every request, read or write, from every agent on this server, waits its turn: many calls on one base get slower rather than fail, and a write to another base does not wait behind them. If Airtable still rate-limits, wait about 30 seconds.",
  ];
  sections.push(limits.join("\n"));
  if (paged.length > 0) {
    sections.push(
      `Cursors: when an answer of ${names(paged)} has nextCursor, call again with the same arguments plus cursor to get the next part; nothing is skipped or repeated.` +
        (has("list_records") || has("search_records")
          ? " A list_records or search_records cursor expires when Airtable ends the listing after a while without use: call again without cursor to start over."
          : ""),
    );
  }
  sections.push(
    'A tool error says what to change. "No access" means the base or table is not visible to this Airtable sign-in: check the ids with list_bases and list_tables. "This server is misconfigured" is for the server\'s operator to fix: tell the person you are working for.',
  );
  return sections.join("\n\n");
}
