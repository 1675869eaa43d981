/**
 * Whether the Airtable URLs the server is configured with (AIRTABLE_AUTH_URL, AIRTABLE_API_URL,
 * AIRTABLE_CONTENT_URL) answer at all: a connection and any HTTP status. Pointed at the sandbox (README's
 * "sandbox" block) while it is not running, the server used to start without a word, and a user's sign-in ended
 * in the browser on "127.0.0.1 refused to connect" after they pressed Allow, with nothing naming AIRTABLE_AUTH_URL.
 *
 * Never a reason to refuse to start (Airtable may be briefly unreachable in production too): a warning at start,
 * and an error page at the one moment a browser is about to be sent to an AIRTABLE_AUTH_URL known to be dead.
 * A worker started alone (src/worker/main.ts, `npm start` with ROLE=worker) warns at start too: its writes call
 * AIRTABLE_API_URL and refresh tokens at AIRTABLE_AUTH_URL, and failed only later, one operation at a time.
 * Airtable's own hosts (the defaults) are never checked: the server would then need the internet to start quietly,
 * and CI and the tests have none. Nothing here runs on the /mcp path.
 */
import type { Config } from "../config.ts";
import type { Logger } from "../logger.ts";
import { isLoopbackHost } from "../loopback-host.ts";
import { timeoutSignal } from "../timeout-signal.ts";

/** Longest a check waits for a connection and an answer, in ms (bounded: a sign-in never waits longer). */
export const REACHABILITY_TIMEOUT_MS = 2_000;
/** How long a check's result stands for the sign-in check, in ms: a few seconds, so a sandbox just started counts. */
export const REACHABILITY_FRESH_MS = 5_000;

type UrlSetting = "AIRTABLE_AUTH_URL" | "AIRTABLE_API_URL" | "AIRTABLE_CONTENT_URL";
const URL_SETTINGS: readonly UrlSetting[] = ["AIRTABLE_AUTH_URL", "AIRTABLE_API_URL", "AIRTABLE_CONTENT_URL"];

/** A check's result: answered (any status), refused/unresolved (`down`), or no answer within the timeout. */
export type ProbeResult = { state: "up" } | { state: "down"; error: string } | { state: "timeout"; error: string };

/**
 * One HEAD request to `url` (its base: the server appends its own paths), bounded by `timeoutMs`. Any HTTP status
 * is "up": only whether something answers matters here. Never rejects. `error` is the connection error as Node
 * words it ("connect ECONNREFUSED 127.0.0.1:4010", "getaddrinfo ENOTFOUND sandbox").
 */
export async function probeUrl(url: string, timeoutMs = REACHABILITY_TIMEOUT_MS): Promise<ProbeResult> {
  // Cleared when the probe ends (timeout-signal.ts: an uncleared timer keeps the async context it was armed in).
  const timeout = timeoutSignal(timeoutMs);
  try {
    const res = await fetch(url, { method: "HEAD", redirect: "manual", signal: timeout.signal });
    await res.body?.cancel().catch(() => undefined);
    return { state: "up" };
  } catch (error) {
    if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
      return { state: "timeout", error: `no answer within ${timeoutMs} ms` };
    }
    return { state: "down", error: connectionError(error) };
  } finally {
    timeout.clear();
  }
}

/** fetch's "fetch failed" hides the cause: the code and message of the socket error (an AggregateError's first). */
function connectionError(error: unknown): string {
  const cause = (error as { cause?: unknown } | undefined)?.cause ?? error;
  const c = cause as { code?: unknown; message?: unknown; errors?: unknown[] };
  const inner = Array.isArray(c.errors) ? (c.errors[0] as { message?: unknown } | undefined) : undefined;
  const message = typeof c.message === "string" && c.message !== "" ? c.message : inner?.message;
  if (typeof message === "string" && message !== "") return message;
  return typeof c.code === "string" ? c.code : String(cause);
}

/** Whether `url` is Airtable's own (airtable.com or a subdomain): never checked (see the module's comment). */
function isAirtables(url: string): boolean {
  const host = new URL(url).hostname;
  return host === "airtable.com" || host.endsWith(".airtable.com");
}

/** Whether `url`'s host is this machine: then the sandbox is what should be answering there. */
function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname;
  return isLoopbackHost(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * The port `npm run sandbox` listens on without PORT (src/sandbox/main.ts; src/shared may not import the sandbox,
 * so the number is repeated here).
 */
const SANDBOX_DEFAULT_PORT = 8787;

/** The port `url` connects to: its explicit port, else its scheme's default (80, 443). */
function portOf(url: URL): number {
  return url.port !== "" ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
}

/**
 * What to do about `url` not answering: start the sandbox (loopback), else check the URL and the network. A
 * loopback URL on another port than the sandbox's default gets the command that starts it there: `npm run sandbox`
 * alone would listen on 8787 and leave this URL as dead as before (README, "Two things newcomers met"). A loopback
 * https:// URL gets the scheme to change instead: the sandbox serves plain HTTP.
 */
function fixFor(url: string, names: readonly string[]): string {
  if (!isLoopbackUrl(url)) return `check ${names.join(" and ")} and this machine's network (DNS, firewall, proxy)`;
  const parsed = new URL(url);
  if (parsed.protocol === "https:") {
    // The sandbox serves plain HTTP only: no port of it answers an https:// URL, so the scheme is the fix.
    return (
      `point ${names.join(" and ")} at the sandbox over http:// (it serves no HTTPS), such as ` +
      `http://127.0.0.1:${SANDBOX_DEFAULT_PORT} once npm run sandbox runs (in another terminal)`
    );
  }
  const port = portOf(parsed);
  const how =
    port === SANDBOX_DEFAULT_PORT
      ? "(in another terminal)"
      : `(in another terminal, as PORT=${port} npm run sandbox: it listens on ${SANDBOX_DEFAULT_PORT} unless PORT ` +
        "says otherwise)";
  return `start the sandbox: npm run sandbox ${how}, or point ${names.join(" and ")} at a running one`;
}

/** What fails while a URL does not answer, by the process that checks (the warning says it). */
const WHAT_FAILS = {
  server: "Sign-ins and tool calls",
  worker: "The writes this worker runs",
} as const;

/**
 * The reachability of one process's Airtable URLs. `warnAtStart` checks them once (in parallel, ≤ timeoutMs);
 * `signInProblem` is the sign-in's lazy re-check of AIRTABLE_AUTH_URL (a server's only). One instance per server
 * app or worker process.
 */
export class AirtableReachability {
  readonly #urls: ReadonlyMap<string, UrlSetting[]>;
  readonly #authUrl: string;
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  readonly #freshMs: number;
  readonly #now: () => number;
  readonly #whatFails: string;
  #auth: { at: number; result: ProbeResult } | undefined;
  #authInFlight: Promise<ProbeResult> | undefined;

  /**
   * `config`: the three Airtable URL settings. `role`: the process checking, for the warning's "what fails"
   * (default "server"). `timeoutMs` (default REACHABILITY_TIMEOUT_MS, at most 2 s), `freshMs` (default
   * REACHABILITY_FRESH_MS), `now` (epoch ms; tests move it).
   */
  constructor(
    config: Pick<Config, UrlSetting>,
    opts: { logger: Logger; role?: "server" | "worker"; timeoutMs?: number; freshMs?: number; now?: () => number },
  ) {
    const urls = new Map<string, UrlSetting[]>();
    for (const name of URL_SETTINGS) {
      const url = config[name];
      if (isAirtables(url)) continue;
      urls.set(url, [...(urls.get(url) ?? []), name]);
    }
    this.#urls = urls;
    this.#authUrl = config.AIRTABLE_AUTH_URL;
    this.#logger = opts.logger;
    this.#timeoutMs = Math.min(opts.timeoutMs ?? REACHABILITY_TIMEOUT_MS, REACHABILITY_TIMEOUT_MS);
    this.#freshMs = opts.freshMs ?? REACHABILITY_FRESH_MS;
    this.#now = opts.now ?? Date.now;
    this.#whatFails = WHAT_FAILS[opts.role ?? "server"];
  }

  /**
   * Checks each distinct configured URL (not Airtable's own) and logs one warning line per URL that does not
   * answer, naming the settings that point there, the URL, the error and the fix. Never rejects, never throws:
   * the server starts regardless. Resolves within the timeout.
   */
  async warnAtStart(): Promise<void> {
    await Promise.all(
      [...this.#urls].map(async ([url, names]) => {
        const result = await probeUrl(url, this.#timeoutMs);
        if (url === this.#authUrl) this.#auth = { at: this.#now(), result };
        if (result.state === "up") return;
        this.#logger.warn(
          `${names.join(" and ")} (${url}) did not answer: ${result.error}. ${this.#whatFails} will fail ` +
            `until it does; ${fixFor(url, names)}.`,
        );
      }),
    );
  }

  /**
   * Before a browser is sent to AIRTABLE_AUTH_URL: a sentence for the person when that URL refused the connection
   * (or its host does not resolve) at a check at most `freshMs` old, else undefined. A stale result is checked
   * again first (≤ timeoutMs; concurrent sign-ins share one check). A check that times out is not held against the
   * URL: the browser may still get there, and a sign-in is never stopped on a guess. Airtable's own URL: undefined.
   * The server's view stands for the browser's: the callback exchanges the code at the same URL, so a sign-in
   * through a URL the server cannot reach cannot finish either. Logs the cause (warn) each time it answers a
   * sentence; the sentence names the connection error and the fix only for a URL on this machine (see below).
   */
  async signInProblem(): Promise<string | undefined> {
    if (isAirtables(this.#authUrl)) return undefined;
    let checked = this.#auth;
    if (checked === undefined || this.#now() - checked.at >= this.#freshMs) {
      this.#authInFlight ??= probeUrl(this.#authUrl, this.#timeoutMs).finally(() => {
        this.#authInFlight = undefined;
      });
      const result = await this.#authInFlight;
      checked = { at: this.#now(), result };
      this.#auth = checked;
    }
    if (checked.result.state !== "down") return undefined;
    const names = this.#urls.get(this.#authUrl) ?? ["AIRTABLE_AUTH_URL"];
    const fix = fixFor(this.#authUrl, names);
    this.#logger.warn(
      `A sign-in was stopped: ${names.join(" and ")} (${this.#authUrl}) does not answer: ${checked.result.error}; ${fix}.`,
    );
    // The connection error and the fix on the page only for a URL on this machine (the person at the browser runs
    // the server: the sandbox case); anywhere else anyone may open the page, and a resolver's or socket's error can
    // name internal addresses: it stays in the log.
    if (!isLoopbackUrl(this.#authUrl)) {
      return (
        "This server sends you to Airtable's sign-in (AIRTABLE_AUTH_URL), which does not answer right now. Try " +
        "again in a minute (go back and press Allow again), or start again from your app; whoever runs this server " +
        "finds the cause in its log."
      );
    }
    return (
      `This server sends you to Airtable's sign-in at ${this.#authUrl} (AIRTABLE_AUTH_URL), which does not answer ` +
      `(${checked.result.error}). For whoever runs this server: ${fix}. ` +
      "Then press Allow again (go back and resubmit), or start again from your app."
    );
  }
}
