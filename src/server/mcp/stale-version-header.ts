import type { IncomingMessage } from "node:http";
import {
  CLIENT_INFO_META_KEY,
  PROTOCOL_VERSION_META_KEY,
  SUPPORTED_PROTOCOL_VERSIONS,
} from "@modelcontextprotocol/server";
import { presentHeaderToSdk } from "./present-header.ts";

/**
 * The per-request revisions the SDK serves on /mcp (its `server/discover` `supportedVersions`). The SDK does not
 * export its list; a revision it adds is served without this module's tolerance until it is added here.
 */
const MODERN_REVISIONS: ReadonlySet<string> = new Set(["2026-07-28"]);

/** The 2025-era revisions the SDK's Streamable HTTP transport accepts in `MCP-Protocol-Version`. */
const LEGACY_REVISIONS: ReadonlySet<string> = new Set(SUPPORTED_PROTOCOL_VERSIONS);

/**
 * The revision a 2026-07-28 request's body claims when its `MCP-Protocol-Version` header still names a 2025-era
 * one, else undefined: the body is a single JSON-RPC message whose `params._meta` carries
 * `io.modelcontextprotocol/protocolVersion` naming a revision in MODERN_REVISIONS, and the request has exactly one
 * `MCP-Protocol-Version` header, naming a revision of SUPPORTED_PROTOCOL_VERSIONS (2025-11-25 … 2024-10-07).
 *
 * Why (anthropics/claude-code#93290, open since 2026-09-10): Claude's custom connectors (claude.ai, Claude
 * Desktop, Claude Code through them) negotiate 2026-07-28 with `server/discover`, then send every request with a
 * 2026-07-28 body and `MCP-Protocol-Version: 2025-11-25`. MCP 2026-07-28 basic/transports/streamable-http,
 * "Protocol Version Header", has the server reject a header that does not match the body with 400 HeaderMismatch
 * (-32020), which the SDK does: the connector showed as connected and every tool call failed. The rule protects
 * intermediaries that route on the mirrored headers; the same section has them trust those headers only when
 * `MCP-Protocol-Version` names a revision that requires header–body validation, and reject the request otherwise,
 * so a 2025-era value in it misleads none of them. `Mcp-Method` and `Mcp-Name` are still checked against the body
 * by the SDK, and a header naming another 2026 revision, an unknown one, or none is still refused as before.
 */
export function staleLegacyVersionHeader(req: IncomingMessage, body: unknown): string | undefined {
  if (!isObject(body) || !isObject(body.params) || !isObject(body.params._meta)) return undefined;
  const claimed = body.params._meta[PROTOCOL_VERSION_META_KEY];
  if (typeof claimed !== "string" || !MODERN_REVISIONS.has(claimed)) return undefined;
  // Node joins repeated lines of this header with ", ", which names no revision: one line only.
  const header = req.headers["mcp-protocol-version"];
  return typeof header === "string" && LEGACY_REVISIONS.has(header) ? claimed : undefined;
}

/**
 * Shows the SDK `MCP-Protocol-Version: <revision>` instead of the request's own (see staleLegacyVersionHeader;
 * present-header.ts).
 */
export function presentVersionToSdk(req: IncomingMessage, revision: string): void {
  presentHeaderToSdk(req, "MCP-Protocol-Version", revision);
}

/** How many distinct clients StaleHeaderClients names, per process, unless told otherwise. */
export const STALE_HEADER_CLIENTS_NAMED = 32;

/** Longest client name or version (and User-Agent) kept, in characters: the rest is cut. */
const MAX_CLIENT_TEXT = 100;

/** Who sent a request served under the exception (staleLegacyVersionHeader), as the request says. */
export interface StaleHeaderClient {
  /**
   * `name version` of the envelope's `io.modelcontextprotocol/clientInfo` (MCP 2026-07-28 basic, "_meta": clients
   * SHOULD send it on every request), else the User-Agent, else "unknown"; each part cut to 100 characters.
   */
  client: string;
  clientName?: string;
  clientVersion?: string;
  userAgent?: string;
}

/** The client `body` (a request staleLegacyVersionHeader accepted) and its User-Agent name. */
export function staleHeaderClient(req: IncomingMessage, body: unknown): StaleHeaderClient {
  const meta = isObject(body) && isObject(body.params) && isObject(body.params._meta) ? body.params._meta : {};
  const info = meta[CLIENT_INFO_META_KEY];
  const clientName = isObject(info) ? cut(info.name) : undefined;
  const clientVersion = isObject(info) ? cut(info.version) : undefined;
  const userAgent = cut(req.headers["user-agent"]);
  const named = clientName === undefined ? undefined : [clientName, clientVersion].filter(Boolean).join(" ");
  return {
    client: named ?? userAgent ?? "unknown",
    ...(clientName !== undefined && { clientName }),
    ...(clientVersion !== undefined && { clientVersion }),
    ...(userAgent !== undefined && { userAgent }),
  };
}

/**
 * The clients served under the header exception in this process, so that each is logged once (the exception goes
 * when the clients that need it are fixed, anthropics/claude-code#93290: the operator watches for them) and counted
 * by a label that cannot grow without bound. The client text comes from the request (any caller can send a new
 * name on every request), so at most `limit` distinct clients are kept; later ones are all "other".
 */
export class StaleHeaderClients {
  readonly #named = new Set<string>();
  readonly #limit: number;
  #full = false;

  constructor(limit = STALE_HEADER_CLIENTS_NAMED) {
    this.#limit = limit;
  }

  /**
   * The label `client` is counted by (itself, or "other" once `limit` clients are named), and what to log: "first"
   * for a client not seen before, "full" once, for the first client past the limit, else undefined.
   */
  note(client: string): { label: string; log?: "first" | "full" } {
    if (this.#named.has(client)) return { label: client };
    if (this.#named.size < this.#limit) {
      this.#named.add(client);
      return { label: client, log: "first" };
    }
    if (this.#full) return { label: "other" };
    this.#full = true;
    return { label: "other", log: "full" };
  }
}

function cut(value: unknown): string | undefined {
  if (typeof value !== "string" || value.trim() === "") return undefined;
  const trimmed = value.trim();
  return trimmed.length > MAX_CLIENT_TEXT ? trimmed.slice(0, MAX_CLIENT_TEXT) : trimmed;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
