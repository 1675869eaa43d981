/**
 * Copies of well-known clients' Client ID Metadata Documents, pinned here because their hosts refuse some servers'
 * fetches: claude.ai's edge (Cloudflare) answers server-side fetches from some cloud egress addresses (Cloud Run's
 * among the kind) with a bot challenge, 403 `cf-mitigated: challenge`, instead of the document
 * (anthropics/claude-ai-mcp#650, anthropics/claude-code#84263), and chatgpt.com has answered servers' fetches of
 * Codex's document with 403 too (getsentry/sentry-mcp#1312, which registers it locally for the same reason). Claude
 * and Codex choose the document over DCR whenever a server supports both, so without these copies Claude.ai, Claude
 * Desktop, Claude Code and Codex could not sign in at all from such an address. ChatGPT's own document is on the same
 * host and pinned for the same reason. A copy stands in only when the
 * fetch fails for a passing reason (cimd.ts: no answer, 403, 408, 425, 429, 5xx, or not JSON); a document the host
 * does serve always wins, and a 404 or 410 (withdrawn) is obeyed. Each copy holds what the host publishes, reduced
 * to the fields cimd.ts reads, and passes the same checks as a fetched document (checked when the server starts).
 * When a client changes its document, update its copy here.
 */
export type KnownClientDocument = Readonly<Record<string, unknown>>;

export const KNOWN_CLIENT_DOCUMENTS: Readonly<Record<string, KnownClientDocument>> = {
  // Claude.ai, Claude Desktop and the mobile apps (they all complete the sign-in on claude.ai).
  "https://claude.ai/oauth/mcp-oauth-client-metadata": {
    client_id: "https://claude.ai/oauth/mcp-oauth-client-metadata",
    client_name: "Claude",
    // claude.com's callback too: Claude's apps moved to claude.com, and both are Anthropic's own.
    redirect_uris: ["https://claude.ai/api/mcp/auth_callback", "https://claude.com/api/mcp/auth_callback"],
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    token_endpoint_auth_method: "none",
  },
  // Claude Code: loopback callbacks without a port (any port matches a loopback redirect URI, RFC 8252 §7.3).
  "https://claude.ai/oauth/claude-code-client-metadata": {
    client_id: "https://claude.ai/oauth/claude-code-client-metadata",
    client_name: "Claude Code",
    redirect_uris: ["http://localhost/callback", "http://127.0.0.1/callback"],
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    token_endpoint_auth_method: "none",
  },
  // Codex (CLI, IDE extension, ChatGPT desktop app): its stable document, which it uses with a server whose metadata
  // says `authorization_response_iss_parameter_supported` and whose authorization responses carry `iss`, as ours do
  // (Codex docs, "MCP" → OAuth; Codex 0.153 signs in with it). Loopback callbacks at /callback, without a port: it
  // listens on an OS-chosen one. Older Codex builds, and any server without `iss`, use a per-server document
  // (`…/oauth/codex/<callback_id>/client.json`, redirect `…/callback/<callback_id>`), which cannot be pinned.
  "https://chatgpt.com/oauth/codex/client.json": {
    client_id: "https://chatgpt.com/oauth/codex/client.json",
    client_name: "Codex",
    redirect_uris: ["http://127.0.0.1/callback", "http://localhost/callback"],
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    token_endpoint_auth_method: "none",
    token_endpoint_auth_methods_supported: ["none"],
  },
  // ChatGPT's connectors (web, desktop, mobile), when the connector's page says it signs in as the stable client:
  // one callback. It names private_key_jwt and offers none (cimd.ts serves it as a public client with PKCE). The
  // same document is quoted byte for byte by several servers' tests and setup guides (2026-08/09); its jwks_uri
  // (https://chatgpt.com/oauth/jwks.json) is left out: cimd.ts does not verify assertions.
  "https://chatgpt.com/oauth/client.json": {
    client_id: "https://chatgpt.com/oauth/client.json",
    client_name: "ChatGPT",
    redirect_uris: ["https://chatgpt.com/connector_platform_oauth_redirect"],
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    token_endpoint_auth_method: "private_key_jwt",
    token_endpoint_auth_methods_supported: ["none", "private_key_jwt"],
  },
};
