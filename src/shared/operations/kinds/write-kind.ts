/**
 * What a write kind is: everything the operation machinery knows about one kind of write (`create_records`,
 * `create_table`, …), in one module per kind: the exact shape of its input items, how its items are batched and
 * whether a request may be sent twice (ARCHITECTURE.md invariant 3), and the one Airtable request that writes a
 * batch of them. The registry (index.ts) lists the kinds; events.ts (the kind names), plan.ts (the item schemas),
 * fold.ts (what may be re-sent) and processor.ts (sending) read them from there and name no kind themselves.
 */
import { z } from "zod";
import type { AirtableClient } from "../../airtable/client.ts";
import type { AirtableWriteScope } from "../../base-permissions.ts";
import type { OperationOptions } from "../options.ts";

/** One request's worth of items for `send`, parsed with the kind's item schema, in input order. */
export interface KindBatch<Item> {
  baseId: string;
  /** The operation's table id; "" for a kind that addresses no table (create_table). */
  tableId: string;
  /** 1 to 10 items (exactly 1 for a single-item kind). */
  items: Item[];
  options: OperationOptions;
  /** Send as an upsert on `options.fieldsToMergeOn`: only for a kind with `resendAsUpsert` (see fold.ts). */
  asUpsert: boolean;
}

/** What Airtable answered for a batch. */
export interface KindSent {
  /** The Airtable id written for each item (record, table, field, comment, attachment), in the order sent. */
  ids: string[];
  /** Upserts: which of `ids` Airtable created and which it updated. */
  created?: string[];
  updated?: string[];
}

/** One kind of write operation. `Schema` parses one input item as stored in the operation's `input`. */
export interface WriteKind<Name extends string = string, Schema extends z.ZodType = z.ZodType> {
  /** The operation's `kind`, as stored in logs and shown by get_operation: never rename one that exists. */
  readonly name: Name;
  /** One input item. Tools build items that parse here; the processor parses them again before sending. */
  readonly item: Schema;
  /**
   * true: an operation takes exactly one item and sends it alone (a table, a field, a comment, an attachment).
   * false: a list of records, sent in batches of up to 10, and a batch Airtable refuses for one bad record is
   * split to write the others (processor.ts).
   */
  readonly singleItem: boolean;
  /**
   * The Airtable scope its request needs (https://airtable.com/developers/web/api/scopes): `data.records:write`,
   * `data.recordComments:write` or `schema.bases:write`. A token without it is answered 403
   * INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND, like a missing table: the failure names it as one of the two causes.
   * It also sets the least permission level on the base the kind needs (`levelNeededFor`, base-permissions.ts):
   * below it Airtable answers 403 INVALID_PERMISSIONS for every request of the operation, so a refusal explained by
   * it ends the operation (processor.ts), and a write known to need more than list_bases showed is refused before
   * it is queued.
   */
  readonly scope: AirtableWriteScope;
  /** A sent batch changes the base's tables or fields: the cached schema is dropped after it (schema-cache.ts). */
  readonly changesSchema: boolean;
  /**
   * Sending the same request twice has the effect of sending it once (update, upsert, delete), so a request
   * whose answer was lost is re-sent. false: it is reported `in_doubt` instead, never re-sent blindly.
   */
  readonly safeToResend: boolean;
  /**
   * Not safe to re-send as such, but safe as an upsert when the operation has `options.fieldsToMergeOn`: a
   * request whose answer was lost is re-sent as one (`KindBatch.asUpsert`). Only create_records.
   */
  readonly resendAsUpsert?: boolean;
  /**
   * A request of this kind whose answer was lost is settled by reading the table back for the records it would
   * have created (reconcile.ts): found → written, confirmed absent → sent again, unclear → in doubt. Only
   * create_records (its items are `{ fields }` on the operation's table).
   */
  readonly reconcileByReadBack?: boolean;
  /** Options an operation of this kind cannot run without (refused when the operation is accepted). */
  readonly requiredOptions?: readonly (keyof OperationOptions)[];
  /**
   * When a re-send of this one item is refused as "not found", the earlier request applied it: the id to report
   * as written. Only delete_records (a record deleted twice is gone the second time).
   */
  appliedIdWhenGone?(item: z.output<Schema>): string;
  /**
   * The id of the existing record of the operation's table that this item names (update_records,
   * delete_records, and upsert_records' items given an id: Airtable updates that record and ignores
   * fieldsToMergeOn for it), or undefined when the item names none (an upsert item matched on fieldsToMergeOn). A
   * request Airtable refuses for a record it does not find (missing-records.ts isMissingRecordRefusal) is then
   * settled with one read of which of its ids the table has (processor.ts) instead of being split in halves until
   * the missing records stand alone, and the missing record's error names its id (missing-records.ts).
   */
  recordIdOf?(item: z.output<Schema>): string | undefined;
  /**
   * The one Airtable request for `batch`. Throws the client's errors (errors.ts) unchanged: the processor
   * decides what they mean for the operation. Must answer one id per item (the processor checks).
   */
  send(airtable: AirtableClient, batch: KindBatch<z.output<Schema>>): Promise<KindSent>;
}

/** Declares a write kind, keeping its name and item schema exact for the registry's derived types. */
export function defineWriteKind<const Name extends string, Schema extends z.ZodType>(
  kind: WriteKind<Name, Schema>,
): WriteKind<Name, Schema> {
  return kind;
}

/** A record's cells by field id (tools resolve names to ids before an item is stored). */
export const recordFieldsSchema = z.record(z.string(), z.unknown());

/** A field definition, as create_table and create_field take it (Airtable's field model). */
export const fieldSpecSchema = z.object({
  name: z.string().min(1),
  type: z.string().min(1),
  description: z.string().optional(),
  options: z.record(z.string(), z.unknown()).optional(),
});
