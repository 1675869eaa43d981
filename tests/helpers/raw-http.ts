/**
 * One HTTP request with exactly the headers given, over node:http: unlike fetch it adds no Accept, lets a test
 * set Host, and sends OPTIONS the way a browser's preflight does. For checking what a client that sends such a
 * request would see.
 */
import { request, type IncomingHttpHeaders } from "node:http";

export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export function rawRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? "GET", headers: opts.headers ?? {} }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

/** A header's values as a lower-cased list (`Vary: Origin, Accept` → ["origin", "accept"]). */
export function headerList(headers: IncomingHttpHeaders, name: string): string[] {
  const value = headers[name.toLowerCase()];
  const joined = Array.isArray(value) ? value.join(",") : (value ?? "");
  return joined
    .split(",")
    .map((v) => v.trim().toLowerCase())
    .filter(Boolean);
}
