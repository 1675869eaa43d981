import { lookup } from "node:dns/promises";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { isLoopbackAddress, isPublicAddress } from "./ip-policy.ts";
import { isLoopbackHost } from "../../shared/loopback-host.ts";
import { timeoutSignal } from "../../shared/timeout-signal.ts";

/**
 * GET of a URL a stranger chose (a Client ID Metadata Document), safe against SSRF:
 * - https only (plain http only on loopback, and only when the development switch allows loopback);
 * - we resolve the name ourselves and refuse if ANY address is not public (loopback, private, link-local, …);
 * - the connection is pinned to the address we checked (a custom `lookup`), so a second DNS answer (rebinding)
 *   cannot redirect it; TLS still verifies the certificate against the hostname;
 * - no redirects, a byte limit enforced while reading, and one deadline for the whole exchange.
 */

/**
 * The URL was refused or the fetch failed safely. `message` is fit for whoever supplied the URL: it never says what
 * a host name resolved to (that would let a stranger map our network, or our resolver's view of internal names).
 * `detail`, for our log only, does. `transient`: the host may answer later (no answer in time, or its name did not
 * resolve), as opposed to a refusal that stands (a non-public address, a document too large).
 */
export class UnsafeUrlError extends Error {
  override name = "UnsafeUrlError";
  readonly detail: string | undefined;
  readonly transient: boolean;

  constructor(message: string, detail?: string, options: { transient?: boolean } = {}) {
    super(message);
    this.detail = detail;
    this.transient = options.transient ?? false;
  }
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
  // Cleared once the exchange settles (timeout-signal.ts: AbortSignal.timeout's timer would outlive it).
  const timeout = timeoutSignal(opts.timeoutMs);
  return new Promise<GuardedResponse>((resolve, reject) => {
    const req = request(
      url,
      {
        method: "GET",
        agent: false,
        lookup: pinned,
        headers: { accept: opts.accept, "user-agent": "airtable-oauth-mcp (client metadata fetch)" },
        signal: timeout.signal,
      },
      (res) => {
        // Too large is a refusal that stands for a document (a 2xx of the type asked for), but only a passing
        // failure for an error or challenge page (a big 503, or an HTML page sent as 200 by a proxy).
        const tooLarge = (): UnsafeUrlError => {
          const status = res.statusCode ?? 0;
          const type = String(res.headers["content-type"] ?? "").toLowerCase();
          return new UnsafeUrlError(`the document is larger than ${opts.maxBytes} bytes`, `HTTP ${status} ${type}`, {
            transient: status < 200 || status >= 300 || !type.includes("json"),
          });
        };
        const declared = Number(res.headers["content-length"] ?? "0");
        if (declared > opts.maxBytes) {
          res.destroy();
          reject(tooLarge());
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > opts.maxBytes) {
            res.destroy();
            reject(tooLarge());
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
          ? new UnsafeUrlError(`no answer within ${opts.timeoutMs} ms`, undefined, { transient: true })
          : error,
      ),
    );
    req.end();
  }).finally(timeout.clear);
}

async function checkedAddresses(
  hostname: string,
  allowLoopback: boolean,
): Promise<{ address: string; family: number }[]> {
  const literal = isIP(hostname);
  const allowed = (address: string): boolean =>
    isPublicAddress(address) || (allowLoopback && isLoopbackAddress(address));
  if (literal !== 0) {
    // The requester wrote this address: naming it reveals nothing.
    if (!allowed(hostname)) throw new UnsafeUrlError(`${hostname} is not a public address`);
    return [{ address: hostname, family: literal }];
  }
  // A name: one answer whether it does not resolve or resolves to a private address, so the requester cannot tell
  // which internal names exist; the log gets the truth.
  const refused = (detail: string, transient = false): UnsafeUrlError =>
    new UnsafeUrlError(`the host ${hostname} is not a public address (or does not resolve to one)`, detail, {
      transient,
    });
  const addresses = await lookup(hostname, { all: true, verbatim: true }).catch((error: unknown) => {
    throw refused(`${hostname} does not resolve: ${String(error)}`, true);
  });
  if (addresses.length === 0) throw refused(`${hostname} resolves to no address`);
  const bad = addresses.find(({ address }) => !allowed(address));
  if (bad !== undefined) throw refused(`${hostname} resolves to ${bad.address}, which is not a public address`);
  return addresses;
}
