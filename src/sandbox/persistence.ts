/**
 * The sandbox's data in a JSON file, for the embedded demo (`npm start` without Airtable settings): users,
 * tokens (personal and OAuth), bases with their tables, fields, views, records, comments and uploaded files,
 * and the OAuth refresh tokens. Without it a restart would forget the demo user's Airtable tokens (the MCP
 * server's stored sign-in would stop working) and every record written. Authorization codes and list
 * iterators live minutes and are not kept.
 *
 * The file is rewritten whole (to a temporary file, flushed to the disk, then renamed: a crash leaves the old or the
 * new file, never half of one), mode 0600: it holds the fake Airtable's tokens. The sandbox saves it before it
 * answers a request that may change data (SnapshotWriter): a write it acknowledged is on disk, as Airtable never
 * loses a write it answered, so the MCP server's operation log (durable at once) never names records a crash lost.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { open, rename } from "node:fs/promises";
import path from "node:path";
import type { Attachment } from "./field-values.ts";
import type { RefreshGrant } from "./oauth.ts";
import { uploadedFiles } from "./fields/attachments.ts";
import type { Base, PermissionLevel, StoredRecord, Store, Table, Token, User } from "./store.ts";

interface RecordSnapshot extends Omit<StoredRecord, "cells" | "modified" | "modifiedBy"> {
  cells: [string, unknown][];
  /** Field id → last modified time (lastModifiedTime fields). */
  modified: [string, string][];
  /** Field id → user who last changed it (lastModifiedBy fields); absent in files saved before it was kept. */
  modifiedBy?: [string, string][];
}

/** `byId` is an index of `records`, rebuilt on load. */
interface TableSnapshot extends Omit<Table, "records" | "byId"> {
  records: RecordSnapshot[];
}

interface BaseSnapshot {
  id: string;
  name: string;
  access: [string, PermissionLevel][];
  tables: TableSnapshot[];
  /** Uploaded attachments: id → bytes (base64) and content type. */
  files: [string, { bytes: string; contentType: string }][];
}

export interface SandboxSnapshot {
  version: 1;
  /** The sandbox's origin when saved: attachment URLs carry it and are moved to the new one on load. */
  origin: string;
  users: User[];
  tokens: Token[];
  bases: BaseSnapshot[];
  refreshGrants: [string, RefreshGrant][];
}

export function snapshotOf(store: Store, refreshGrants: [string, RefreshGrant][], origin: string): SandboxSnapshot {
  return {
    version: 1,
    origin,
    users: [...store.users.values()],
    tokens: [...store.tokens.values()],
    bases: [...store.bases.values()].map((base) => ({
      id: base.id,
      name: base.name,
      access: [...base.access.entries()],
      tables: base.tables.map(({ byId: _byId, ...table }) => ({
        ...table,
        records: table.records.map((record) => ({
          ...record,
          cells: [...record.cells.entries()],
          modified: [...record.modified.entries()],
          modifiedBy: [...record.modifiedBy.entries()],
        })),
      })),
      files: [...(uploadedFiles.get(base)?.entries() ?? [])].map(([id, file]) => [
        id,
        { bytes: file.bytes.toString("base64"), contentType: file.contentType },
      ]),
    })),
    refreshGrants,
  };
}

/** Puts a snapshot's data into an empty store; returns the refresh grants for the OAuth server. */
export function restoreSnapshot(store: Store, snapshot: SandboxSnapshot, origin: string): [string, RefreshGrant][] {
  const moveUrl = (url: string): string =>
    url.startsWith(snapshot.origin) ? origin + url.slice(snapshot.origin.length) : url;
  for (const user of snapshot.users) store.users.set(user.id, user);
  for (const token of snapshot.tokens) store.tokens.set(token.value, token);
  for (const saved of snapshot.bases) {
    const base: Base = {
      id: saved.id,
      name: saved.name,
      access: new Map(saved.access),
      // Test-only edit restrictions (permissions.ts) are not part of the saved data.
      restrictions: [],
      tables: saved.tables.map((table) => {
        const attachmentFields = new Set(table.fields.filter((f) => f.type === "multipleAttachments").map((f) => f.id));
        const records: StoredRecord[] = table.records.map((record) => ({
          ...record,
          modified: new Map(record.modified ?? []),
          modifiedBy: new Map(record.modifiedBy ?? []),
          cells: new Map(
            record.cells.map(([fieldId, value]) => [
              fieldId,
              attachmentFields.has(fieldId) && Array.isArray(value)
                ? (value as Attachment[]).map((a) => ({ ...a, url: moveUrl(a.url) }))
                : value,
            ]),
          ),
        }));
        return { ...table, records, byId: new Map(records.map((r) => [r.id, r])) };
      }),
    };
    store.bases.set(base.id, base);
    if (saved.files.length > 0) {
      uploadedFiles.set(
        base,
        new Map(
          saved.files.map(([id, f]) => [id, { bytes: Buffer.from(f.bytes, "base64"), contentType: f.contentType }]),
        ),
      );
    }
  }
  return snapshot.refreshGrants;
}

/** The snapshot in `file`, or undefined when there is none. Throws, naming the file, when it cannot be read. */
export function readSnapshot(file: string): SandboxSnapshot | undefined {
  if (!existsSync(file)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(
      `The fake Airtable's data file ${file} cannot be read (${error instanceof Error ? error.message : String(error)}); ` +
        "move it away to start again from the demo data",
      { cause: error },
    );
  }
  if ((parsed as { version?: unknown }).version !== 1) {
    throw new Error(`The fake Airtable's data file ${file} has an unknown format; move it away to start again`);
  }
  return parsed as SandboxSnapshot;
}

/**
 * Writes `text` to `file` so that it survives a crash of the process or of the machine once the promise resolves:
 * a temporary file beside it (mode 0600), fsync, rename over `file`, then fsync of the directory (the rename is
 * durable only once the directory entry is; POSIX rename(2) and fsync(2)). Rejects with the file system's error.
 */
async function writeDurably(file: string, text: string): Promise<void> {
  // Unique per write: two sandboxes of one process may share a file (a test's restart).
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const handle = await open(temporary, "w", 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
  let directory;
  try {
    directory = await open(path.dirname(file), "r");
    await directory.sync();
  } catch {
    // Windows cannot open or sync a directory; its rename is as durable as the platform makes it.
  } finally {
    await directory?.close();
  }
}

/**
 * Keeps `file` up to date with `take()` (the whole snapshot), one write at a time. `save()` resolves once a
 * snapshot taken after the call is on disk; calls made while a write is in progress share the next one, and calls
 * in the same event-loop turn share one (the writes coalesce: a burst of changes costs two writes at most, not
 * one each). Its cost is one JSON serialisation and two fsyncs per write, a few milliseconds for the demo's data;
 * the sandbox lets a base take 5 requests a second.
 */
export class SnapshotWriter {
  readonly #file: string;
  readonly #take: () => SandboxSnapshot;
  /** The newest write started or queued; the next one waits for it. */
  #last: Promise<void> = Promise.resolve();
  /** The queued write that has not taken its snapshot yet: a change made now is in it. */
  #pending: Promise<void> | undefined;

  constructor(file: string, take: () => SandboxSnapshot) {
    this.#file = file;
    this.#take = take;
  }

  /** Resolves once everything changed before this call is on disk; rejects with the file system's error. */
  save(): Promise<void> {
    if (this.#pending !== undefined) return this.#pending;
    const previous = this.#last;
    const write = (async () => {
      await previous.catch(() => undefined);
      // Changes made in the same turn (several answers, a seed's many setup calls) share this write.
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.#pending = undefined;
      const text = JSON.stringify(this.#take());
      await writeDurably(this.#file, text);
    })();
    this.#pending = write;
    this.#last = write;
    return write;
  }
}
