import { createHash } from "node:crypto";
import { z } from "zod";
import { RECORD_ID_PATTERN } from "../airtable/ids.ts";
import { ToolInputError } from "./tool-input-error.ts";

/** The cursor was made for another query (its fingerprint differs): ToolInputError, so the agent reads why. */
export class CursorQueryMismatchError extends ToolInputError {
  override name = "CursorQueryMismatchError";
}

/**
 * Where a listing stopped. Airtable's `offset` starts a whole page, and Airtable documents neither a way to start
 * inside one nor that an offset may be asked twice (only that an iteration times out), so stopping in the middle of
 * an Airtable page is not resumed by asking for that page again. Instead the cursor carries the
 * offset of the NEXT page plus the ids of the records of the current page not yet returned (`carry`); resuming
 * fetches those by id, in order, then goes on with the offset. Nothing is lost or repeated.
 */
export interface RecordCursor {
  /** Fingerprint of the query: a cursor only continues the listing it came from. */
  q: string;
  /** Airtable offset of the next page; absent when Airtable had no more pages. */
  o?: string;
  /** Records already fetched but not yet returned, in order. */
  c: string[];
  /** Records returned so far (for maxRecords). */
  n: number;
}

const cursorSchema = z.object({
  v: z.literal(1),
  q: z.string(),
  o: z.string().optional(),
  c: z.array(z.string().regex(RECORD_ID_PATTERN)).max(100),
  n: z.number().int().min(0),
});

export function encodeCursor(cursor: RecordCursor): string {
  const body: z.infer<typeof cursorSchema> = { v: 1, q: cursor.q, c: cursor.c, n: cursor.n };
  if (cursor.o !== undefined) body.o = cursor.o;
  return Buffer.from(JSON.stringify(body)).toString("base64url");
}

/** Reads a cursor for the query with `fingerprint`; anything else is an error the agent can act on. */
export function decodeCursor(text: string, fingerprint: string): RecordCursor {
  let parsed: z.infer<typeof cursorSchema>;
  try {
    parsed = cursorSchema.parse(JSON.parse(Buffer.from(text, "base64url").toString("utf8")));
  } catch {
    throw new ToolInputError(
      "The cursor is not valid. Pass nextCursor from the previous answer unchanged, or leave cursor out to start from the first record.",
    );
  }
  if (parsed.q !== fingerprint) {
    throw new CursorQueryMismatchError(
      // The list names every argument the fingerprint holds (listing.ts: the query, with cellFormat, timeZone and
      // userLocale, and the search): an agent that changed only the locale must find it here.
      "The cursor belongs to a different query. Repeat the previous call's arguments (table, view, fields, sort, " +
        "filter, search, cellFormat, timeZone, userLocale) with the cursor, or leave cursor out to start over.",
    );
  }
  const cursor: RecordCursor = { q: parsed.q, c: parsed.c, n: parsed.n };
  if (parsed.o !== undefined) cursor.o = parsed.o;
  return cursor;
}

/** A short stable hash of everything that decides which records a listing yields and in what order. */
export function queryFingerprint(query: unknown): string {
  return createHash("sha256").update(JSON.stringify(query)).digest("base64url").slice(0, 16);
}
