/**
 * The registry of write kinds: every kind of write operation, one module each (write-kind.ts says what a kind
 * holds). The order here is the order of `OPERATION_KINDS` (tool output schemas list the kinds in it).
 *
 * Adding a kind: write its module beside these and add it to `WRITE_KINDS`; its tool (src/shared/tools/write/,
 * listed in tools/catalog.ts) and, when Airtable's endpoint is new, the client method (src/shared/airtable/client.ts)
 * are the only other files (README, "Adding a write kind").
 */
import { createCommentKind } from "./create-comment.ts";
import { createFieldKind } from "./create-field.ts";
import { createRecordsKind } from "./create-records.ts";
import { createTableKind } from "./create-table.ts";
import { deleteRecordsKind } from "./delete-records.ts";
import { updateFieldKind } from "./update-field.ts";
import { updateRecordsKind } from "./update-records.ts";
import { updateTableKind } from "./update-table.ts";
import { uploadAttachmentKind } from "./upload-attachment.ts";
import { upsertRecordsKind } from "./upsert-records.ts";
import type { WriteKind } from "./write-kind.ts";

export type { KindBatch, KindSent, WriteKind } from "./write-kind.ts";

export const WRITE_KINDS = [
  createRecordsKind,
  updateRecordsKind,
  upsertRecordsKind,
  deleteRecordsKind,
  createTableKind,
  updateTableKind,
  createFieldKind,
  updateFieldKind,
  createCommentKind,
  uploadAttachmentKind,
] as const;

type RegisteredKind = (typeof WRITE_KINDS)[number];

/** The name of a registered kind: an operation's `kind`. */
export type WriteKindName = RegisteredKind["name"];

/** The registered kind called `K`, with its exact item schema. */
export type WriteKindNamed<K extends WriteKindName> = Extract<RegisteredKind, { name: K }>;

type NamesOf<T extends readonly WriteKind[]> = { readonly [I in keyof T]: T[I]["name"] };

/** Every kind's name, in registry order, as a tuple of literals (for `z.enum`). */
export const WRITE_KIND_NAMES = WRITE_KINDS.map((kind) => kind.name) as unknown as NamesOf<typeof WRITE_KINDS>;

const byName: ReadonlyMap<string, WriteKind> = new Map(WRITE_KINDS.map((kind) => [kind.name, kind as WriteKind]));

/** The kind called `name`, or undefined when no kind has that name. */
export function findWriteKind(name: string): WriteKind | undefined {
  return byName.get(name);
}

/** The kind of a stored operation. Throws for a name the registry lacks (an operation's kind was validated). */
export function writeKind(name: WriteKindName): WriteKind {
  const kind = byName.get(name);
  if (kind === undefined) throw new Error(`unknown write kind ${JSON.stringify(name)}`);
  return kind;
}
