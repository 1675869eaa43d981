/**
 * The sandbox's data in a JSON file, for the embedded demo (`npm start` without Airtable settings): users,
 * tokens (personal and OAuth), bases with their tables, fields, views, records, comments and uploaded files,
 * and the OAuth refresh tokens. Without it a restart would forget the demo user's Airtable tokens (the MCP
 * server's stored sign-in would stop working) and every record written. Authorization codes and list
 * iterators live minutes and are not kept.
 *
 * The file is rewritten whole (to a temporary file, then renamed: a crash leaves the old or the new file, never
 * half of one), mode 0600: it holds the fake Airtable's tokens.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
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

export function writeSnapshot(file: string, snapshot: SandboxSnapshot): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(snapshot), { mode: 0o600 });
  renameSync(temporary, file);
}
