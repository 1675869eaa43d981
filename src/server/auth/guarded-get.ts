import { lookup } from "node:dns/promises";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { isLoopbackAddress, isPublicAddress } from "./ip-policy.ts";
import { isLoopbackHost } from "./redirect-uris.ts";

/**
 * GET of a URL a stranger chose (a Client ID Metadata Document), safe against SSRF:
 * - https only (plain http only on loopback, and only when the development switch allows loopback);
 * - we resolve the name ourselves and refuse if ANY address is not public (loopback, private, link-local, …);
 * - the connection is pinned to the address we checked (a custom `lookup`), so a second DNS answer (rebinding)
 *   cannot redirect it; TLS still verifies the certificate against the hostname;
 * - no redirects, a byte limit enforced while reading, and one deadline for the whole exchange.
 */
export class UnsafeUrlError extends Error {
  override name = "UnsafeUrlError";
}

export interface GuardedGetOptions {
  maxBytes: number;
  timeoutMs: number;
  /** Development and tests only: allow http:// and loopback addresses (never other private ones). */
  allowLoopback: boolean;
  accept: string;
}

export interface GuardedResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export async function guardedGet(url: URL, opts: GuardedGetOptions): Promise<GuardedResponse> {
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const loopbackHost = isLoopbackHost(url.hostname) || isLoopbackAddress(hostname);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && opts.allowLoopback && loopbackHost)) {
    throw new UnsafeUrlError(`${url.origin} is not https`);
  }
  const addresses = await checkedAddresses(hostname, opts.allowLoopback);
  const first = addresses[0] as { address: string; family: number };
  // Only addresses we checked: all of them when Node races families (happy eyeballs), else the first.
  const pinned: LookupFunction = (_host, options, callback) => {
    if (options.all) callback(null, addresses);
    else callback(null, first.address, first.family);
  };
  const request = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise<GuardedResponse>((resolve, reject) => {
    const req = request(
      url,
      {
        method: "GET",
        agent: false,
        lookup: pinned,
        headers: { accept: opts.accept, "user-agent": "airtable-oauth-mcp (client metadata fetch)" },
        signal: AbortSignal.timeout(opts.timeoutMs),
      },
      (res) => {
        const declared = Number(res.headers["content-length"] ?? "0");
        if (declared > opts.maxBytes) {
          res.destroy();
          reject(new UnsafeUrlError(`the document is larger than ${opts.maxBytes} bytes`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > opts.maxBytes) {
            res.destroy();
            reject(new UnsafeUrlError(`the document is larger than ${opts.maxBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", (error) =>
      reject(
        error.name === "TimeoutError" || error.name === "AbortError"
          ? new UnsafeUrlError(`no answer within ${opts.timeoutMs} ms`)
          : error,
      ),
    );
    req.end();
  });
}

async function checkedAddresses(
  hostname: string,
  allowLoopback: boolean,
): Promise<{ address: string; family: number }[]> {
  const literal = isIP(hostname);
  const addresses =
    literal !== 0
      ? [{ address: hostname, family: literal }]
      : await lookup(hostname, { all: true, verbatim: true }).catch(() => {
          throw new UnsafeUrlError(`${hostname} does not resolve`);
        });
  if (addresses.length === 0) throw new UnsafeUrlError(`${hostname} does not resolve`);
  for (const { address } of addresses) {
    const allowed = isPublicAddress(address) || (allowLoopback && isLoopbackAddress(address));
    if (!allowed) throw new UnsafeUrlError(`${hostname} resolves to ${address}, which is not a public address`);
  }
  return addresses;
}
