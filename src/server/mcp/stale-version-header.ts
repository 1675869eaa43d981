import type { IncomingMessage } from "node:http";
import { PROTOCOL_VERSION_META_KEY, SUPPORTED_PROTOCOL_VERSIONS } from "@modelcontextprotocol/server";
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

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
