/**
 * The state of one write request while its records are validated: whether `typecast` is on, what it would create
 * (select options, linked records) and which attachments were written by URL. Nothing here touches the base until
 * the whole request passed validation (Airtable applies a request entirely or not at all); then record-ops commits
 * it.
 */
import type { Choice, Field, Table } from "../store.ts";
import type { CellSource } from "./cell-source.ts";
import type { Attachment } from "./cell-values.ts";

/** A record `typecast` creates in a linked table because no record's primary value matched the text written. */
export interface PendingLinkedRecord {
  id: string;
  table: Table;
  primaryText: string;
}

export interface WriteContextOptions {
  typecast: boolean;
  source: CellSource;
  /** Whether the user may add select options (Airtable: creators only, even with typecast). */
  canCreateChoices: boolean;
  /** Throws (403) when the user may not create records in the table (typecast creating a linked record). */
  checkCanCreateIn(table: Table): void;
}

export class WriteContext {
  readonly typecast: boolean;
  readonly source: CellSource;
  readonly canCreateChoices: boolean;
  readonly checkCanCreateIn: (table: Table) => void;
  readonly newChoices = new Map<Field, Choice[]>();
  /** By linked table, then by primary text: created once per request however many cells name it. */
  readonly pendingRecords = new Map<Table, Map<string, PendingLinkedRecord>>();
  /** Attachments written by URL, filled in (size, type, thumbnails) after the request is applied. */
  readonly newAttachments: Attachment[] = [];

  constructor(opts: WriteContextOptions) {
    this.typecast = opts.typecast;
    this.source = opts.source;
    this.canCreateChoices = opts.canCreateChoices;
    this.checkCanCreateIn = opts.checkCanCreateIn;
  }

  choicesOf(field: Field): Choice[] {
    return [...((field.options?.choices as Choice[] | undefined) ?? []), ...(this.newChoices.get(field) ?? [])];
  }

  /** Commits the typecast-created select options to the schema. */
  commitChoices(): void {
    for (const [field, added] of this.newChoices) {
      field.options = { ...field.options, choices: [...((field.options?.choices as Choice[]) ?? []), ...added] };
    }
  }
}
