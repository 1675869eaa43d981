/**
 * Attachment fields (https://airtable.com/developers/web/api/field-model#multipleattachment).
 *
 * Writes ("Cell format (write)": "array of any of the below objects"): a new attachment is `{url, filename?}` (url
 * "https:// or http://"), an existing one is kept by `{id}` ("be sure to include all existing attachment objects by
 * providing an id"); the array replaces the cell. Refused with 422 INVALID_ATTACHMENT_OBJECT, per item (badAttachment):
 * - an item that is not an object ("parameters must be objects, not strings": Airtable's answer to a string);
 * - a new attachment with a property other than `url` and `filename` (`type`, `size`, `id`…: clients report
 *   Airtable refusing such objects with INVALID_ATTACHMENT_OBJECT), without a `url`, or with a url that is not http(s)
 *   (a `data:` URL is refused the same way);
 * - an `{id}` that is not an attachment of this cell (on a create there is none), or a kept attachment with a
 *   property a read does not give: the field model asks for "the existing array of attachment objects", so the
 *   read's properties (`url`, `filename`, `size`, `type`, `width`, `height`, `thumbnails`) come with the id and are
 *   ignored.
 * A value that is not an array is INVALID_VALUE_FOR_COLUMN, as for other types.
 *
 * Airtable answers the write at once with `{id, url, filename}` and downloads the file asynchronously: "a moment
 * later" the entry carries `size`, `type`, the URL of Airtable's own copy and, for images, `width`/`height` and
 * `thumbnails` (small, large, full). A URL that cannot be fetched leaves the cell without that attachment ("the
 * attachment object … cleared from the cell"). The sandbox does the same: `fillInAttachments` runs after the write
 * was applied, serves its copy from /attachments/{id}/{filename}, and reads image sizes from PNG, GIF and JPEG
 * headers. Files the sandbox already holds (uploads, earlier copies) are resolved without a request.
 */
import { badAttachment, badValue } from "../errors.ts";
import { newId } from "../ids.ts";
import type { Base, Field } from "../store.ts";
import type { Attachment, Thumbnail } from "./cell-values.ts";
import { EMPTY, type CellResult } from "./empty.ts";
import type { WriteContext } from "./write-context.ts";

/** Bytes the sandbox holds, by attachment id, served back at /attachments/{id}/{filename}. */
export const uploadedFiles = new WeakMap<Base, Map<string, { bytes: Buffer; contentType: string }>>();

/** A download larger than this is treated as failed (Airtable's limit is 1 GB; the sandbox keeps files in memory). */
const MAX_FETCH_BYTES = 25 * 1024 * 1024;
const FETCH_TIMEOUT_MS = 10_000;

/** Properties a new attachment may have ("Cell format (write)", first object). */
const NEW_KEYS = new Set(["url", "filename"]);
/** Properties a kept attachment may carry besides its id: what a read gives ("Cell format (read)"). */
const READ_KEYS = new Set(["id", "url", "filename", "size", "type", "width", "height", "thumbnails"]);

/** "strings", "numbers", "arrays"… : what a non-object item is, in the plural of Airtable's message. */
function kindOf(item: unknown): string {
  if (item === null) return "null";
  if (Array.isArray(item)) return "arrays";
  return `${typeof item}s`;
}

/**
 * The stored attachments of a cell written with `value` (`existing`: the cell's current attachments, kept by id),
 * EMPTY to clear it; new ones are added to `ctx.newAttachments` to be filled in. Throws ApiError (module comment).
 */
export function writeAttachments(field: Field, value: unknown, existing: unknown, ctx: WriteContext): CellResult {
  if (!Array.isArray(value)) throw badValue(field.name);
  const current = Array.isArray(existing) ? (existing as Attachment[]) : [];
  const out: Attachment[] = [];
  for (const item of value) {
    if (item === null || typeof item !== "object" || Array.isArray(item)) {
      throw badAttachment(field.name, `parameters must be objects, not ${kindOf(item)}`);
    }
    const entry = item as Record<string, unknown>;
    if (entry.id !== undefined) {
      const kept = typeof entry.id === "string" ? current.find((a) => a.id === entry.id) : undefined;
      if (kept === undefined) {
        throw badAttachment(field.name, `${JSON.stringify(entry.id)} is not the id of an attachment in this cell`);
      }
      const unknown = Object.keys(entry).find((k) => !READ_KEYS.has(k));
      if (unknown !== undefined) throw badAttachment(field.name, `unknown property ${JSON.stringify(unknown)}`);
      out.push(kept);
      continue;
    }
    const unknown = Object.keys(entry).find((k) => !NEW_KEYS.has(k));
    if (unknown !== undefined) throw badAttachment(field.name, `unknown property ${JSON.stringify(unknown)}`);
    if (typeof entry.url !== "string") throw badAttachment(field.name, "a new attachment needs a url");
    const url = /^https?:\/\//i.test(entry.url) ? URL.parse(entry.url) : null;
    if (url === null) throw badAttachment(field.name, "the url must start with https:// or http://");
    if (entry.filename !== undefined && typeof entry.filename !== "string") {
      throw badAttachment(field.name, "filename must be a string");
    }
    let fromUrl = url.pathname.split("/").pop() ?? "";
    try {
      fromUrl = decodeURIComponent(fromUrl);
    } catch {
      // keep it encoded
    }
    const filename = (entry.filename as string | undefined) || fromUrl || "file";
    const attachment: Attachment = { id: newId("att"), url: entry.url, filename };
    ctx.newAttachments.push(attachment);
    out.push(attachment);
  }
  return out.length === 0 ? EMPTY : out;
}

const TYPES_BY_EXTENSION: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  svg: "image/svg+xml",
  pdf: "application/pdf",
  txt: "text/plain",
  csv: "text/csv",
  json: "application/json",
  html: "text/html",
};

export function guessType(filename: string): string {
  const ext = filename.split(".").pop()?.toLowerCase() ?? "";
  return TYPES_BY_EXTENSION[ext] ?? "application/octet-stream";
}

/** Width and height of a PNG, GIF or JPEG image, from its header; undefined for anything else. */
export function imageSize(bytes: Buffer): { width: number; height: number } | undefined {
  if (bytes.length >= 24 && bytes.readUInt32BE(0) === 0x89504e47 && bytes.toString("latin1", 12, 16) === "IHDR") {
    return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
  }
  if (bytes.length >= 10 && bytes.toString("latin1", 0, 3) === "GIF") {
    return { width: bytes.readUInt16LE(6), height: bytes.readUInt16LE(8) };
  }
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) {
    let at = 2;
    while (at + 9 < bytes.length) {
      if (bytes[at] !== 0xff) return undefined;
      const marker = bytes[at + 1] as number;
      const length = bytes.readUInt16BE(at + 2);
      // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { width: bytes.readUInt16BE(at + 7), height: bytes.readUInt16BE(at + 5) };
      }
      at += 2 + length;
    }
  }
  return undefined;
}

/** Airtable's three thumbnail sizes: small is 36 px high, large fits 512 × 512, full fits 3,000 × 3,000. */
export function thumbnails(url: string, size: { width: number; height: number }): Attachment["thumbnails"] {
  const fit = (box: number): Thumbnail => {
    const scale = Math.min(1, box / Math.max(size.width, size.height));
    return { url, width: Math.round(size.width * scale), height: Math.round(size.height * scale) };
  };
  const smallScale = size.height === 0 ? 1 : 36 / size.height;
  return {
    small: { url, width: Math.max(1, Math.round(size.width * smallScale)), height: 36 },
    large: fit(512),
    full: fit(3000),
  };
}

/** Stores bytes for an attachment and describes them as Airtable does once it holds the file. */
export function storeFile(
  base: Base,
  origin: string,
  attachment: Attachment,
  bytes: Buffer,
  contentType: string,
): void {
  const files = uploadedFiles.get(base) ?? new Map<string, { bytes: Buffer; contentType: string }>();
  files.set(attachment.id, { bytes, contentType });
  uploadedFiles.set(base, files);
  attachment.url = `${origin}/attachments/${attachment.id}/${encodeURIComponent(attachment.filename)}`;
  attachment.size = bytes.length;
  attachment.type = contentType;
  const dims = contentType.startsWith("image/") ? imageSize(bytes) : undefined;
  if (dims !== undefined) {
    attachment.width = dims.width;
    attachment.height = dims.height;
    attachment.thumbnails = thumbnails(attachment.url, dims);
  }
}

export interface FillInOptions {
  /** The sandbox's origin: its own attachment URLs are resolved without a request. */
  origin: string;
  /** Wait before filling in (ms): the write's answer always shows the entry as written. */
  delayMs: number;
  /** Whether URLs outside the sandbox are downloaded; when false they fail, as unreachable ones do on Airtable. */
  fetchUrls: boolean;
}

async function download(url: string): Promise<{ bytes: Buffer; contentType?: string } | undefined> {
  try {
    const res = await fetch(url, { redirect: "follow", signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    if (!res.ok) return undefined;
    const bytes = Buffer.from(await res.arrayBuffer());
    if (bytes.length > MAX_FETCH_BYTES) return undefined;
    const type = res.headers.get("content-type")?.split(";")[0]?.trim();
    return type === undefined || type === "" ? { bytes } : { bytes, contentType: type };
  } catch {
    return undefined;
  }
}

function heldFile(base: Base, origin: string, url: string): { bytes: Buffer; contentType: string } | undefined {
  if (!url.startsWith(`${origin}/attachments/`)) return undefined;
  const id = url.slice(origin.length + "/attachments/".length).split("/")[0] ?? "";
  return uploadedFiles.get(base)?.get(id);
}

/** Removes a failed attachment from whichever cell holds it now. */
function dropAttachment(base: Base, attachment: Attachment): void {
  for (const table of base.tables) {
    for (const field of table.fields) {
      if (field.type !== "multipleAttachments") continue;
      for (const record of table.records) {
        const cell = record.cells.get(field.id);
        if (!Array.isArray(cell) || !cell.includes(attachment)) continue;
        const rest = (cell as Attachment[]).filter((a) => a !== attachment);
        if (rest.length === 0) record.cells.delete(field.id);
        else record.cells.set(field.id, rest);
      }
    }
  }
}

/** Fills in attachments written by URL, after the write was applied (see the module comment). */
export function fillInAttachments(base: Base, attachments: Attachment[], opts: FillInOptions): Promise<void> {
  if (attachments.length === 0) return Promise.resolve();
  return new Promise((resolve) => {
    setTimeout(() => {
      void Promise.all(
        attachments.map(async (attachment) => {
          const sourceUrl = attachment.url;
          const held = heldFile(base, opts.origin, sourceUrl);
          const got =
            held ?? (opts.fetchUrls && !sourceUrl.startsWith(opts.origin) ? await download(sourceUrl) : undefined);
          if (got === undefined) {
            dropAttachment(base, attachment);
            return;
          }
          storeFile(base, opts.origin, attachment, got.bytes, got.contentType ?? guessType(attachment.filename));
        }),
      ).then(() => resolve());
    }, opts.delayMs).unref();
  });
}
