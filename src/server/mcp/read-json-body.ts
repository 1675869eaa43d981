import type { Request } from "express";

export type JsonBodyResult = { kind: "ok"; body: unknown } | { kind: "too_large" } | { kind: "invalid_json" };

/**
 * Reads and parses the request body, refusing more than `maxBytes` (by Content-Length up front, or while
 * reading). An app-level body parser may have read it already: then its result is used.
 */
export async function readJsonBody(req: Request, maxBytes: number): Promise<JsonBodyResult> {
  if (req.body !== undefined && req.readableEnded) return { kind: "ok", body: req.body as unknown };
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) return { kind: "too_large" };
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    // Keep reading (and dropping) so the client can read our answer instead of a reset connection; past a
    // few times the limit, stop and let the connection go (leaving the loop destroys the stream).
    if (size > maxBytes * 4) return { kind: "too_large" };
    if (size > maxBytes) tooLarge = true;
    else chunks.push(chunk);
  }
  if (tooLarge) return { kind: "too_large" };
  try {
    return { kind: "ok", body: JSON.parse(Buffer.concat(chunks).toString("utf8")) };
  } catch {
    return { kind: "invalid_json" };
  }
}
