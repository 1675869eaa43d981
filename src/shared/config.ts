import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { DEFAULT_REDIRECT_URI_SCHEMES, privateUseSchemeProblem } from "./auth/redirect-schemes.ts";
import { closestNames } from "./closest-name.ts";
import { DEFAULT_KEEP_ALIVE_TIMEOUT_MS } from "./http/keep-alive.ts";

/**
 * The whole environment of every process, as one schema. Names here are a public interface
 * (users' .env files and deploy configs rely on them): rename nothing.
 */
// The scheme is what a newcomer leaves out ("localhost:8080"): the message shows it written out.
const url = z.url({ protocol: /^https?$/, error: "must be an http(s) URL, scheme included (http://… or https://…)" });

/** Each Airtable URL setting: Airtable's own value (the default) and what Airtable serves there. */
const AIRTABLE_URLS = {
  AIRTABLE_API_URL: { airtable: "https://api.airtable.com", serves: "the Web API" },
  AIRTABLE_AUTH_URL: { airtable: "https://airtable.com", serves: "the OAuth endpoints" },
  AIRTABLE_CONTENT_URL: { airtable: "https://content.airtable.com", serves: "attachment uploads" },
} as const;

/** Whether `hostname` (as URL parses it: lower case) is Airtable's: airtable.com or one of its subdomains. */
const isAirtableHost = (hostname: string): boolean => hostname === "airtable.com" || hostname.endsWith(".airtable.com");

/**
 * Why `value` cannot be the Airtable URL setting `name`, or undefined when it can. The server appends its own
 * paths to these URLs: `/v0/…` (API and uploads; client.ts) and `/oauth2/v1/authorize`, `/oauth2/v1/token`
 * (oauth.ts). Airtable's docs write the full URLs (https://api.airtable.com/v0/{baseId}/{table},
 * https://airtable.com/oauth2/v1/authorize), so a value copied from them carries a path the server adds again
 * (…/v0/v0/…: every call then answers 404, which each tool explains as a missing base). Refused rather than
 * stripped: what to write is then said once, at start, and a copy with more than the version (…/v0/appXXX) is
 * not guessed at. A path prefix stays allowed for a proxy (https://proxy.example.com/airtable), a `v0` or `oauth2`
 * segment of its own included when Airtable's path does not follow it; Airtable's own hosts take no path.
 */
function airtableUrlProblem(name: keyof typeof AIRTABLE_URLS, value: string): string | undefined {
  const parsed = new URL(value);
  const { airtable, serves } = AIRTABLE_URLS[name];
  if (/[?#]/.test(value) || parsed.username !== "" || parsed.password !== "") {
    return "must be scheme, host and port (and, for a proxy, a path prefix) only: no query, fragment or user info";
  }
  const segments = parsed.pathname.split("/").filter(Boolean);
  const atAirtable = isAirtableHost(parsed.hostname);
  const prefixBefore = (index: number): string => `${parsed.origin}${["", ...segments.slice(0, index)].join("/")}`;
  // At a proxy, only where Airtable's own path begins: `v0` last or before a base (app…) or meta/bases, `oauth2` last
  // or before v1. A proxy whose own route has such a segment elsewhere (https://gw.example.com/v0/airtable) is kept.
  const airtablePathAt = (index: number, next: RegExp): boolean =>
    atAirtable || index === segments.length - 1 || next.test(segments[index + 1] ?? "");
  // Each setting is checked for the path the server appends to it: /v0 to the API's and uploads', /oauth2/v1 to the
  // OAuth endpoints' (a proxy's prefix that happens to be the other one is its own).
  const oauth = name === "AIRTABLE_AUTH_URL";
  const v0 = oauth
    ? -1
    : segments.findIndex((s, i) => s.toLowerCase() === "v0" && airtablePathAt(i, /^(app[A-Za-z0-9]+|meta|bases)$/i));
  if (v0 >= 0) {
    return (
      `drop the /${segments.slice(v0).join("/")}: the server adds /v0/… to every request itself (this URL would ` +
      `send them to …/v0/v0/…); use ${atAirtable ? airtable : prefixBefore(v0)}`
    );
  }
  const oauth2 = !oauth ? -1 : segments.findIndex((s, i) => s.toLowerCase() === "oauth2" && airtablePathAt(i, /^v1$/i));
  if (oauth2 >= 0) {
    return (
      `drop the /${segments.slice(oauth2).join("/")}: the server adds /oauth2/v1/authorize and /oauth2/v1/token ` +
      `itself; use ${atAirtable ? airtable : prefixBefore(oauth2)}`
    );
  }
  const given = `${parsed.origin}${["", ...segments].join("/")}`;
  if (atAirtable && given !== airtable) {
    return `Airtable serves ${serves} at ${airtable} exactly: use that (or leave ${name} unset, it is the default)`;
  }
  return undefined;
}

/**
 * An Airtable URL setting: an http(s) URL that airtableUrlProblem accepts, without trailing slashes; at Airtable's
 * host, written as Airtable's own value (https://API.airtable.com:443 is https://api.airtable.com), so code that
 * compares with it (run-stdio.ts refusedTokenMessage) knows it is Airtable.
 */
const airtableUrl = (name: keyof typeof AIRTABLE_URLS) =>
  url.transform((u, ctx) => {
    const problem = airtableUrlProblem(name, u);
    if (problem !== undefined) {
      ctx.addIssue({ code: "custom", message: problem });
      return z.NEVER;
    }
    if (isAirtableHost(new URL(u).hostname)) return AIRTABLE_URLS[name].airtable;
    return u.replace(/\/+$/, "");
  });

/**
 * What is wrong with how AIRTABLE_TOKEN was written, one sentence each (empty when nothing is). Only mistakes of
 * form are refused: Airtable does not document its tokens' shape (personal access tokens look like `pat`, 14
 * letters or digits, a dot and 64 hex digits; OAuth access tokens, and the sandbox's, look otherwise), so a token
 * that is merely unusual goes to Airtable, and a 401 is explained then (src/stdio/run-stdio.ts). The value goes
 * into `Authorization: Bearer <token>` (Airtable, Authentication), so a "Bearer " of its own, spaces, quotes or a
 * line break make a header Airtable answers 401 (or one fetch cannot send). Whitespace around the token (a line end
 * copied along, a file read with its final newline) is not refused: the schema trims it, as it trims the URL
 * settings, and a token so written worked before these checks existed (fetch strips a header value's trailing
 * whitespace). API keys (`key` and 14 characters) stopped working on 1 February 2024 (Airtable's API key
 * deprecation notice): named as such, not sent. `token` is the trimmed value.
 */
function tokenProblems(token: string): string[] {
  const problems: string[] = [];
  const core = token.replace(/^["'`]+|["'`]+$/g, "");
  if (/^bearer(\s|$)/i.test(core)) {
    problems.push('starts with "Bearer": give the token alone (pat…); the server sends "Authorization: Bearer" itself');
  }
  if (/^["'`]|["'`]$/.test(token)) {
    problems.push(
      'is wrapped in quotes that became part of the value (docker --env-file, systemd and a JSON "env" keep ' +
        "quotes as written): remove them",
    );
  }
  const word = core.replace(/^bearer\s+/i, "");
  if (/\s/.test(word)) problems.push("has a space or line break inside: a token is one word; copy it again");
  else if (/[^\x21-\x7e]/.test(word)) {
    problems.push(
      "has characters no token has (a non-ASCII or control character, such as a typographic quote or an invisible " +
        "space from a document or chat): copy it again from where it was created",
    );
  }
  if (problems.length === 0 && /^key[A-Za-z0-9]{14}$/.test(token)) {
    problems.push(
      "is an Airtable API key (key…), which Airtable retired on 1 February 2024: create a personal access token " +
        "at https://airtable.com/create/tokens",
    );
  }
  return problems;
}

/**
 * PUBLIC_URL is an origin: the OAuth issuer and every endpoint (RFC 8414 §2, RFC 9728) hang off it, and /mcp is
 * added to it (authUrls); a path, query or fragment would name endpoints that do not exist.
 */
const origin = url.transform((u, ctx) => {
  const normalized = asOrigin(u);
  if (normalized === undefined) {
    ctx.addIssue({
      code: "custom",
      message:
        "must be an origin such as https://mcp.example.com (no path, query, fragment or user info; /mcp is added by the server)",
    });
    return z.NEVER;
  }
  return normalized;
});
const positiveInt = z.coerce.number().int().positive();
const commaList = z.string().transform((v) =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
);
/** A comma list of private-use URI schemes, lowercased, each checked against the never-allowed rules. */
const redirectSchemes = commaList.transform((schemes, ctx) => {
  const lower = schemes.map((s) => s.toLowerCase().replace(/:$/, ""));
  for (const scheme of lower) {
    const problem = privateUseSchemeProblem(scheme);
    if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
  }
  return [...new Set(lower)];
});
/** An origin as browsers send it in `Origin` (lower case, no path, no trailing slash), or undefined when `v` is none. */
function asOrigin(v: string): string | undefined {
  const parsed = URL.canParse(v) ? new URL(v) : undefined;
  // An empty query or fragment ("https://x.com/?") parses to "" too: refused from the text.
  if (parsed === undefined || !/^https?:$/.test(parsed.protocol) || /[?#]/.test(v)) return undefined;
  const bare = parsed.pathname === "/" && parsed.search === "" && parsed.hash === "";
  return bare && parsed.username === "" && parsed.password === "" ? parsed.origin : undefined;
}
/** ALLOWED_ORIGINS: `*`, or origins (normalized); every entry that is neither is named in one error. */
const originList = commaList.transform((entries, ctx) => {
  const origins: string[] = [];
  for (const entry of entries) {
    const origin = entry === "*" ? "*" : asOrigin(entry);
    if (origin !== undefined) origins.push(origin);
    else {
      ctx.addIssue({
        code: "custom",
        message: `${JSON.stringify(entry)} is not an origin: give scheme, host and port only (https://app.example.com, http://localhost:6274), or * for any origin`,
      });
    }
  }
  return origins;
});
/** 32 bytes, given as base64 (44 chars) or hex (64 chars). */
const secretKey = z.string().transform((v, ctx) => {
  const bytes = /^[0-9a-fA-F]{64}$/.test(v) ? Buffer.from(v, "hex") : Buffer.from(v, "base64");
  if (bytes.length !== 32) {
    ctx.addIssue({ code: "custom", message: "must be 32 random bytes as base64 or hex (openssl rand -base64 32)" });
    return z.NEVER;
  }
  return bytes;
});

export const configSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /**
   * How long (ms) an idle HTTP connection stays open for its next request (src/shared/http/keep-alive.ts). Longer than
   * any proxy in front keeps its idle connections to this server (Cloudflare 900 s, Google's load balancers 600 s,
   * nginx and AWS ALB 60 s by default), or that proxy may reuse one as Node closes it and answer a client's MCP POST
   * with 502.
   */
  HTTP_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(DEFAULT_KEEP_ALIVE_TIMEOUT_MS),
  /** The origin clients reach the server at. `npm start` without REDIS_URL defaults it to http://localhost:PORT. */
  PUBLIC_URL: origin.optional(),
  /** Set: distributed mode (any number of server and worker processes share it). Unset: the embedded mode. */
  // An example, because "127.0.0.1:6379" (no scheme) and a port out of range get this same message.
  REDIS_URL: z
    .url({
      protocol: /^rediss?$/,
      error:
        "must be a redis:// or rediss:// URL such as redis://127.0.0.1:6379 (Redis on this machine, its default port)",
    })
    // Its path is the database number (ioredis sends SELECT with it): anything else fails only once connected. Zod
    // runs this check after a failed URL check too ("127.0.0.1:6379"): text that is no URL is that check's to name.
    .refine((v) => !URL.canParse(v) || /^\/?(\d+)?$/.test(new URL(v).pathname), {
      error: (issue) =>
        `its path ${JSON.stringify(new URL(String(issue.input)).pathname)} is not a database number: end REDIS_URL ` +
        "with /<number> for a database other than 0 (redis://127.0.0.1:6379/1), or with the port for database 0",
    })
    .optional(),
  /** Prefix for every Redis key this project writes, so several deployments (or test files) can share one Redis. */
  REDIS_KEY_PREFIX: z.string().min(1).default("atmcp"),
  /**
   * Distributed mode: keep the revocation list, the stored Airtable accounts and the base schemas in each
   * process's memory, kept fresh by Redis's client-side caching (CLIENT TRACKING, two more connections per
   * process; src/shared/kv/client-side-cache.ts). off: read them from Redis on every call.
   */
  REDIS_CLIENT_CACHE: z.stringbool().default(true),
  /**
   * Server, and stdio's tool calls with REDIS_URL: the longest a Redis command waits for an answer, ms
   * (src/shared/redis-connection.ts). A Redis that stalls or refuses connections is then answered "temporarily
   * unavailable" within about this long instead of hanging.
   */
  REDIS_COMMAND_TIMEOUT_MS: positiveInt.min(100).max(30_000).default(2_000),
  AIRTABLE_CLIENT_ID: z.string().min(1).optional(),
  AIRTABLE_CLIENT_SECRET: z.string().min(1).optional(),
  /** Airtable's hosts, or the sandbox's or a proxy's URL: no /v0 or /oauth2/v1 (the server adds them). */
  AIRTABLE_API_URL: airtableUrl("AIRTABLE_API_URL").default(AIRTABLE_URLS.AIRTABLE_API_URL.airtable),
  AIRTABLE_AUTH_URL: airtableUrl("AIRTABLE_AUTH_URL").default(AIRTABLE_URLS.AIRTABLE_AUTH_URL.airtable),
  AIRTABLE_CONTENT_URL: airtableUrl("AIRTABLE_CONTENT_URL").default(AIRTABLE_URLS.AIRTABLE_CONTENT_URL.airtable),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  LOG_PRETTY: z.stringbool().default(false),
  /** Airtable's own limits. Lower them if you share the token with other software; never raise them. */
  AIRTABLE_BASE_RPS: positiveInt.max(5).default(5),
  AIRTABLE_USER_RPS: positiveInt.max(50).default(50),
  /** How long a base is paused for every process after Airtable answered 429 (Airtable says 30 s). */
  AIRTABLE_RATE_LIMIT_PENALTY_MS: positiveInt.default(30_000),
  /**
   * Cap (ms) of the jitter margin each limiter entry carries beyond Airtable's 1 s window; the margin used is measured
   * per process from its send jitter (src/shared/limiter/send-jitter.ts), this is its upper bound and its start value.
   */
  AIRTABLE_LIMITER_JITTER_MARGIN_MS: z.coerce.number().int().min(0).max(500).default(40),
  /**
   * The most a read tool call (list_records, get_record, search_records, list_bases, describe_table…) may take, in
   * ms, its retries and rate-limit waits included (src/shared/tools/read-call.ts); also a write tool call's checks
   * before its write is queued (schema, linked records' names). When it passes, the call stops sending and answers
   * a tool error saying what Airtable did (a write: that it was not queued). Below the 60 s after which the MCP TypeScript SDK's
   * clients give up on a request (DEFAULT_REQUEST_TIMEOUT_MSEC), so the agent gets that answer instead of a bare
   * client timeout; lower it for clients that give up sooner. Also the most a tool call that asks Airtable waits for
   * its context (a refresh of the user's Airtable token); those that read only this server's records (get_operation,
   * list_operations, cancel_operation) never wait for it (src/shared/tools/read-call.ts readsOwnRecordsOnly).
   */
  READ_CALL_DEADLINE_MS: z.coerce.number().int().min(1_000).max(600_000).default(45_000),

  /** 32 random bytes, base64 or hex: encrypts Airtable tokens at rest (AES-256-GCM) and derives signing keys. */
  TOKEN_ENCRYPTION_KEY: secretKey.optional(),
  /** The key before the last rotation: still decrypts, never encrypts. */
  TOKEN_ENCRYPTION_KEY_PREVIOUS: secretKey.optional(),
  /**
   * Where grants, registered clients and encrypted Airtable tokens live. Default: sqlite (a file in DATA_DIR)
   * without REDIS_URL, redis with it. firestore works in both modes; sqlite only without REDIS_URL.
   */
  TOKEN_STORE: z.enum(["redis", "firestore", "sqlite"]).optional(),
  FIRESTORE_PROJECT_ID: z.string().min(1).optional(),
  FIRESTORE_DATABASE: z.string().min(1).default("(default)"),
  /** Lifetime of the access tokens we issue to MCP clients (at most 1 h). */
  ACCESS_TOKEN_TTL_SEC: positiveInt.max(3600).default(3600),
  /**
   * Absolute lifetime of a sign-in (a grant's refresh token chain), days from the sign-in: however often it is
   * used, the user signs in again after this long.
   */
  REFRESH_TOKEN_TTL_DAYS: positiveInt.max(365).default(90),
  /**
   * Idle lifetime of a refresh token, days: a grant not refreshed for this long ends; every refresh renews it
   * (never past REFRESH_TOKEN_TTL_DAYS).
   */
  REFRESH_TOKEN_IDLE_DAYS: positiveInt.max(365).default(30),
  /**
   * Seconds after its first use during which a replaced refresh token, presented again by the same client, is
   * answered with the same grant's tokens (clients refreshing from several nodes or sessions, or retrying) instead
   * of counting as a replay that revokes the grant (RFC 9700 §4.14.2). 0: strict rotation. 120 by default: hosts'
   * retries were seen 33–76 s after the first use (comet-ml/opik#8287).
   */
  REFRESH_REUSE_GRACE_SECONDS: z.coerce.number().int().min(0).max(300).default(120),
  /**
   * Hours a client registered by DCR (RFC 7591) may take to complete its first sign-in before its registration
   * is deleted; registering the same public client again renews it. Bounds storage under registration floods.
   */
  PENDING_REGISTRATION_TTL_HOURS: positiveInt.max(24 * 30).default(24),
  /**
   * Comma-separated browser origins (scheme://host[:port], e.g. https://inspector.example.com) allowed to call /mcp
   * cross-origin (CORS, src/server/cors.ts), besides PUBLIC_URL's own origin, which is always allowed. `*` allows
   * every origin: an explicit operator choice that is safe because /mcp takes bearer tokens, never cookies (the Host
   * check still stops DNS rebinding). Any other Origin is refused with 403 on /mcp; requests without Origin
   * (non-browser clients) are not affected. The public OAuth endpoints answer every origin regardless.
   */
  ALLOWED_ORIGINS: originList.default([]),
  /** Comma-separated Host header values accepted; defaults to PUBLIC_URL's host. */
  ALLOWED_HOSTS: commaList.default([]),
  /** Express `trust proxy`: how many proxy hops to trust (Cloud Run: 1). */
  TRUST_PROXY: z.coerce.number().int().min(0).max(10).default(0),
  /** Development and tests only: let Client ID Metadata Documents and redirect URIs use http on loopback. */
  CIMD_ALLOW_LOOPBACK_HTTP: z.stringbool().default(false),
  /**
   * Comma-separated private-use URI schemes (RFC 8252 §7.1, e.g. `cursor`, `com.example.app`) that public clients
   * (token_endpoint_auth_method none, PKCE always) may use for redirect URIs, beside https and loopback http.
   * Default `cursor,warp,vscode,vscode-insiders,windsurf`. An empty value (REDIRECT_URI_SCHEMES=) is strict MCP
   * mode: https and loopback http only.
   * javascript, data, file, vbscript, http(s) look-alikes and the like are refused here, whatever is listed.
   */
  REDIRECT_URI_SCHEMES: redirectSchemes.default([...DEFAULT_REDIRECT_URI_SCHEMES]),
  /**
   * The embedded mode's state: the SQLite database (sign-ins, encrypted Airtable tokens, operation logs), the
   * generated TOKEN_ENCRYPTION_KEY and the fake Airtable's data. Relative paths start at the working directory.
   * stdio without REDIS_URL keeps its operations under `DATA_DIR/stdio/<user id>/` when DATA_DIR is set, and in the
   * platform's per-user data directory otherwise (it reads the raw variable: src/stdio/state-dir.ts; this default
   * is the embedded mode's).
   */
  DATA_DIR: z.string().min(1).default("./data"),
  /**
   * What `npm start` runs. all: the server and the write worker in one process (the only choice without
   * REDIS_URL); server / worker: one of them (distributed mode). The Docker images run their entrypoints and
   * ignore it.
   */
  ROLE: z.enum(["all", "server", "worker"], { error: "must be all, server or worker" }).default("all"),
  /** production: never start the fake Airtable (a missing AIRTABLE_CLIENT_ID is then a start-up error). */
  NODE_ENV: z.string().optional(),
  /**
   * A personal access token for stdio mode (no OAuth), as Airtable shows it: no "Bearer ", quotes or inner spaces;
   * whitespace around it is trimmed.
   */
  AIRTABLE_TOKEN: z
    .string()
    .trim()
    .min(1)
    .superRefine((token, ctx) => {
      for (const message of tokenProblems(token)) ctx.addIssue({ code: "custom", message });
    })
    .optional(),

  // --- Write pipeline (operations, queue, worker) ---
  /** How long a write tool call waits for its operation before answering with its id and progress. */
  WRITE_WAIT_MS: z.coerce.number().int().min(0).max(120_000).default(25_000),
  /** How long an operation's events and results are kept after its last event. */
  OPERATION_RETENTION_HOURS: positiveInt.max(24 * 30).default(72),
  /** The most records one write tool call may carry. */
  MAX_RECORDS_PER_OPERATION: positiveInt.max(100_000).default(5_000),
  /** Operations one worker process runs at once. */
  WORKER_CONCURRENCY: positiveInt.max(256).default(8),
  /**
   * Operations running at once on one base, across all workers. A base takes 5 req/s whatever the number, so more
   * only shares the base; the cap keeps imports on one base from taking every worker slot (fairness).
   */
  WORKER_MAX_ACTIVE_PER_BASE: positiveInt.max(50).default(3),
  /**
   * BullMQ lock (ms): renewed every quarter of it while a job runs; a worker that stops renewing it (crashed) loses
   * the job to another within about 1.5 × this (the lock expires, then the stalled-job check, every half of it,
   * hands the job on). The default resumes a killed worker's operation within about 12 s.
   */
  WORKER_LOCK_MS: z.coerce.number().int().min(1_000).max(600_000).default(8_000),
  /**
   * How long after a create's answer was lost (503, timeout, connection cut) the worker reads the table back to
   * settle it (ms): Airtable may still be applying the request. Confirmed-absent records are sent again only after it.
   */
  RECONCILE_SETTLE_MS: z.coerce.number().int().min(0).max(600_000).default(3_000),
  /** Runs of an operation ending in a retryable error (5xx, network) before it is failed. */
  WORKER_ATTEMPTS: positiveInt.max(100).default(8),
  /** The worker's HTTP port for /healthz and /readyz (Cloud Run probes need one). */
  HEALTH_PORT: z.coerce.number().int().min(0).max(65535).default(8081),

  // --- Operating (Bull Board, /metrics) ---
  /**
   * Opens /admin/queues (Bull Board) and /metrics on the server, and /metrics on the worker's HEALTH_PORT, to
   * whoever presents it (Bearer, or Basic with any user name). Unset: those routes do not exist.
   */
  ADMIN_TOKEN: z.string().min(16, { error: "must be at least 16 characters (openssl rand -base64 24)" }).optional(),
  /** Bull Board shows jobs but refuses every change (retry, remove, pause, clean…). */
  ADMIN_READ_ONLY: z.stringbool().default(false),
});

export type Config = z.infer<typeof configSchema>;

/** Where a newcomer gets a required value that no setting of ours can make up (said when it is missing). */
const WHERE_TO_GET = {
  AIRTABLE_TOKEN:
    "a personal access token, created at https://airtable.com/create/tokens with the scopes of the tools you use " +
    "(data.records:read, data.records:write, schema.bases:read…) and access to your bases; or, to try it without an " +
    "Airtable account, the token `npm run sandbox` prints (README, Try it with the sandbox)",
} as const;

/** What each process cannot start without, beyond the schema's own rules. */
const requiredByRole = {
  server: ["PUBLIC_URL", "REDIS_URL", "AIRTABLE_CLIENT_ID", "TOKEN_ENCRYPTION_KEY"],
  worker: ["REDIS_URL", "AIRTABLE_CLIENT_ID", "TOKEN_ENCRYPTION_KEY"],
  stdio: ["AIRTABLE_TOKEN"],
  /** `npm start`: what it needs depends on the mode; see startProblems. */
  start: [],
  any: [],
} as const satisfies Record<string, readonly (keyof Config)[]>;

export type ProcessRole = keyof typeof requiredByRole;

/**
 * Where a person reads what every variable means, as a path they can open: `.env.example` in a checkout of the
 * repository (`npm start`, docker compose), else the README of the installed package (`npx airtable-oauth-mcp`: the
 * npm package ships README.md but no `.env` file of any kind). Found by walking up from this module to the folder
 * holding package.json (src/shared/ in a checkout, dist/src/shared/ in the package).
 */
export function configReference(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 4 && !existsSync(join(dir, "package.json")); depth++) dir = dirname(dir);
  const example = join(dir, ".env.example");
  if (existsSync(example)) return `.env.example (${example})`;
  const readme = join(dir, "README.md");
  if (existsSync(readme)) return `"Configuration" in ${readme}`;
  return `"Configuration" in the project's README`;
}

export class ConfigError extends Error {
  override name = "ConfigError";
  readonly problems: string[];
  constructor(problems: string[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n  - ${problems.join("\n  - ")}\nSee ${configReference()} for every variable and its meaning.`,
    );
    this.problems = problems;
  }
}

/** Variables whose empty value means "none" rather than "unset" (REDIRECT_URI_SCHEMES= is strict MCP mode). */
const emptyIsAValue: ReadonlySet<string> = new Set(["REDIRECT_URI_SCHEMES"]);

/** Parses the environment; throws one ConfigError listing every problem at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, role: ProcessRole = "any"): Config {
  // Empty strings in .env files mean "unset", not "set to nothing" (except for the few listed above).
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([k, v]) => v !== undefined && (v !== "" || emptyIsAValue.has(k))),
  );
  const result = configSchema.safeParse(cleaned);
  const problems: string[] = [];
  if (!result.success) {
    for (const issue of result.error.issues) {
      const name = issue.path.join(".");
      const value = cleaned[name];
      // zod's "expected number, received NaN" says how it parsed, not what to write.
      const expected = issue.code === "invalid_type" && value !== undefined ? issue.expected : undefined;
      const message =
        expected === "number" ? "must be a number" : expected === "int" ? "must be a whole number" : issue.message;
      problems.push(
        `${name}: ${message}${value === undefined ? "" : ` (got ${JSON.stringify(redactIfSecret(name, value))})`}`,
      );
    }
  }
  for (const name of requiredByRole[role]) {
    if (cleaned[name] !== undefined) continue;
    const where = WHERE_TO_GET[name as keyof typeof WHERE_TO_GET];
    problems.push(`${name}: required for the ${role} process but not set${where === undefined ? "" : `: ${where}`}`);
  }
  if (result.success && result.data.TOKEN_STORE === "firestore" && !result.data.FIRESTORE_PROJECT_ID) {
    problems.push("FIRESTORE_PROJECT_ID: required when TOKEN_STORE=firestore");
  }
  if (result.success && (role === "server" || role === "worker") && result.data.TOKEN_STORE === "sqlite") {
    problems.push(
      "TOKEN_STORE: sqlite is for the embedded mode (npm start without REDIS_URL); the separate server and worker " +
        "processes need a shared store: redis or firestore",
    );
  }
  if (result.success && role === "start") problems.push(...startProblems(result.data, problems));
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  return result.data;
}

/** How `npm start` runs, read from the configuration (see startPlanOf). */
export interface StartPlan {
  /** distributed: REDIS_URL is set (queue, limiter and state shared in Redis); embedded: one process, no Redis. */
  mode: "embedded" | "distributed";
  role: Config["ROLE"];
  /**
   * Whether this process starts the fake Airtable (src/sandbox) with its demo data: no AIRTABLE_CLIENT_ID and
   * not production. Only in the embedded mode; distributed processes need a real (or separately run) Airtable.
   */
  sandbox: boolean;
}

export function startPlanOf(config: Config): StartPlan {
  const mode = config.REDIS_URL === undefined ? "embedded" : "distributed";
  return {
    mode,
    role: config.ROLE,
    sandbox: mode === "embedded" && config.AIRTABLE_CLIENT_ID === undefined && config.NODE_ENV !== "production",
  };
}

const AIRTABLE_INTEGRATION_HINT =
  "register an OAuth integration at https://airtable.com/create/oauth (redirect URL: PUBLIC_URL/oauth/callback)";

/**
 * `npm start`'s own rules, beyond the schema: the embedded mode (no REDIS_URL) needs nothing (PUBLIC_URL and
 * TOKEN_ENCRYPTION_KEY get defaults, the fake Airtable stands in for AIRTABLE_CLIENT_ID), the distributed mode
 * needs what the separate server and worker need today; production never falls back to the fake Airtable.
 * `already`: problems found so far (a variable is named once).
 */
function startProblems(config: Config, already: readonly string[]): string[] {
  const problems: string[] = [];
  const add = (name: keyof Config, text: string): void => {
    if (![...already, ...problems].some((p) => p.startsWith(`${name}:`))) problems.push(`${name}: ${text}`);
  };
  if (config.NODE_ENV === "production" && config.AIRTABLE_CLIENT_ID === undefined) {
    add(
      "AIRTABLE_CLIENT_ID",
      `required when NODE_ENV=production: the fake Airtable (sandbox) never runs in production; ${AIRTABLE_INTEGRATION_HINT}`,
    );
  }
  if (config.REDIS_URL === undefined) {
    if (config.ROLE !== "all") {
      add(
        "ROLE",
        `${config.ROLE} needs REDIS_URL (the processes share work through Redis); without it one process runs everything (ROLE=all, the default)`,
      );
    }
    if (config.TOKEN_STORE === "redis") add("TOKEN_STORE", "redis needs REDIS_URL; without it the default is sqlite");
    return problems;
  }
  const distributed = " with REDIS_URL (distributed mode); unset REDIS_URL to run everything in one process instead";
  if (config.ROLE !== "worker" && config.PUBLIC_URL === undefined) {
    add("PUBLIC_URL", `required${distributed}`);
  }
  if (config.AIRTABLE_CLIENT_ID === undefined)
    add("AIRTABLE_CLIENT_ID", `required${distributed}; ${AIRTABLE_INTEGRATION_HINT}`);
  if (config.TOKEN_ENCRYPTION_KEY === undefined) {
    add("TOKEN_ENCRYPTION_KEY", `required${distributed}: give every process the same one (openssl rand -base64 32)`);
  }
  if (config.TOKEN_STORE === "sqlite") {
    add("TOKEN_STORE", "sqlite is for the embedded mode (no REDIS_URL); with REDIS_URL use redis or firestore");
  }
  return problems;
}

function redactIfSecret(name: string, value: string | undefined): string | undefined {
  return /SECRET|KEY|TOKEN|PASSWORD/.test(name) ? "<redacted>" : value;
}

/**
 * For a process's composition root: the config, or — when the environment is wrong — the ConfigError's message
 * (every problem, no stack trace) on stderr and exit code 1. `environment`: the variables the process was given
 * before .env was read; a name there that misspells a setting is named after the problems (environmentTypos).
 */
export function loadConfigOrExit(
  role: ProcessRole,
  env: NodeJS.ProcessEnv = process.env,
  settingsFile?: SettingsFile,
  environment?: NodeJS.ProcessEnv,
): Config {
  try {
    return loadConfig(env, role);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const typos = [...environmentTypos(environment ?? {}), ...settingsFileTypos(settingsFile)].map(
      (line) => `\n${line}`,
    );
    process.stderr.write(`${error.message}${settingsFileHint(error, settingsFile)}${typos.join("")}\n`);
    process.exit(1);
  }
}

/** Variables a process took from a settings file (`npm start`'s .env) rather than from its environment. */
export interface SettingsFile {
  /** The file as a person would name it, e.g. ".env". */
  path: string;
  /** The variables whose value came from the file and counts as set (an empty value is unset: see loadConfig). */
  names: ReadonlySet<string>;
}

/**
 * The SettingsFile of `parsed` (the file's variables, as `util.parseEnv` reads them) given `env`, the environment
 * before the file was loaded: a variable the environment already had keeps its value (process.loadEnvFile does
 * not override), and an empty one is unset like any empty variable (emptyIsAValue aside), so neither is the file's.
 */
export function settingsFileOf(
  path: string,
  parsed: Readonly<Record<string, string | undefined>>,
  env: NodeJS.ProcessEnv,
): SettingsFile {
  const names = Object.entries(parsed)
    .filter(
      ([name, value]) => env[name] === undefined && value !== undefined && (value !== "" || emptyIsAValue.has(name)),
    )
    .map(([name]) => name);
  return { path, names: new Set(names) };
}

/**
 * The line that says which variables the problems name came from the settings file: a person who copied
 * .env.example and then "unsets" one in the shell changes nothing, because the value lives in the file. Returns ""
 * when none did, else the line with a leading newline (it follows ConfigError's message).
 */
export function settingsFileHint(error: ConfigError, file: SettingsFile | undefined): string {
  if (file === undefined) return "";
  // Compared as words, not as patterns: a .env may hold any name (`C++_FLAGS=`), and a name is never a regex.
  const words = new Set(error.problems.join("\n").match(/[A-Za-z0-9_]+/g) ?? []);
  const line = settingsFileLine(
    file,
    [...file.names].filter((name) => words.has(name)),
  );
  return line === undefined ? "" : `\n${line}`;
}

/**
 * The sentence saying that `names` (in that order) were read from `file`, for any message about them — a
 * configuration problem (settingsFileHint) or the banner's note on a PUBLIC_URL and PORT that disagree
 * (src/start/banner.ts). Names the file did not set are left out; undefined when none is left or there is no file.
 */
export function settingsFileLine(file: SettingsFile | undefined, names: readonly string[]): string | undefined {
  const named = names.filter((name) => file?.names.has(name) === true);
  if (file === undefined || named.length === 0) return undefined;
  return (
    `${named.join(", ")} ${named.length === 1 ? "was" : "were"} read from ${file.path} (variables set in the ` +
    `environment win over it): change or remove ${named.length === 1 ? "it" : "them"} there.`
  );
}

/**
 * One sentence per variable of the environment `npm start` was given (before .env is read) that is no setting of ours
 * but is one or two keystrokes from one: `AIRTABLE_CLIENTID=… npm start` silently started the fake Airtable, as the
 * same line in .env did before settingsFileTypos. The environment holds every program's variables, so only names
 * that look like ours are considered: a setting's name in another case (`port`, `redis_url`), or one that begins with
 * the same word as a setting (`AIRTABLE_`, `REDIS_`, `LOG_`, `TOKEN_`…). Empty when nothing is that close.
 */
export function environmentTypos(env: NodeJS.ProcessEnv): string[] {
  const known = Object.keys(configSchema.shape);
  const firstWords = new Set(known.filter((name) => name.includes("_")).map((name) => name.split("_")[0]));
  const looksOurs = (name: string) => {
    const upper = name.toUpperCase();
    return Object.hasOwn(configSchema.shape, upper) || (upper.includes("_") && firstWords.has(upper.split("_")[0]));
  };
  const names = Object.entries(env).flatMap(([name, value]) => (value !== undefined && looksOurs(name) ? [name] : []));
  return misspeltSettings(names, "The environment");
}

/**
 * One sentence per name of `names` that is no setting of ours but is one or two keystrokes from one
 * (closest-name.ts), saying that `source` ("The environment", ".env") sets it, that it is ignored and which setting
 * it most likely means. Names that are settings, or near none, say nothing.
 */
function misspeltSettings(names: Iterable<string>, source: string): string[] {
  const known = Object.keys(configSchema.shape);
  const lines: string[] = [];
  for (const name of names) {
    if (Object.hasOwn(configSchema.shape, name)) continue;
    const meant = closestNames(name, known, 1)[0];
    if (meant !== undefined) {
      lines.push(
        `${source} sets ${name}, which is not a setting of airtable-oauth-mcp (ignored): did you mean ${meant}?`,
      );
    }
  }
  return lines;
}

/**
 * One sentence per variable `file` sets that is no setting of ours but is one or two keystrokes from one
 * (AIRTABLE_CLIENTID, LOG_LEVLE, port): such a line is silently ignored — a misspelt AIRTABLE_CLIENT_ID starts the
 * fake Airtable — so the person is told which setting it likely meant. Names far from every setting are left alone:
 * a .env may hold other programs' variables. Empty when there is no file or nothing is close
 * (closest-name.ts: the same rule says "did you mean" for table, field and view names).
 */
export function settingsFileTypos(file: SettingsFile | undefined): string[] {
  return file === undefined ? [] : misspeltSettings(file.names, file.path);
}
