import type { RequestHandler } from "express";
import { allScopes } from "../../shared/auth/scopes.ts";
import type { AuthUrls } from "./urls.ts";

/**
 * RFC 9728 protected resource metadata, served at the root well-known path and at the path-inserted one for
 * /mcp (the SDK serves only the latter; clients try both). `resource` is the audience of our tokens, except in the
 * document for `/mcp/` (`resource` = `withTrailingSlash(urls.resource)`, served at the path-inserted URL of that
 * form): RFC 9728 §3.3 has a client refuse metadata whose `resource` differs from the URL it was given, and Gemini
 * CLI does, so a user who typed `…/mcp/` could not sign in. `…/mcp/` is accepted as `…/mcp` wherever a `resource`
 * is read (resource-param.ts), so tokens are still issued for `…/mcp`.
 */
export function protectedResourceMetadata(urls: AuthUrls, resource: string = urls.resource) {
  return {
    resource,
    authorization_servers: [urls.issuer],
    scopes_supported: [...allScopes],
    bearer_methods_supported: ["header"],
    resource_name: "Airtable (MCP)",
  };
}

/**
 * RFC 8414 authorization server metadata. `issuer` is PUBLIC_URL exactly (no trailing slash: clients compare it
 * as a string with the `iss` we put on every authorization response, RFC 9207).
 * No /.well-known/openid-configuration: we issue no ID tokens, and the SDK client finds this document first.
 */
export function authorizationServerMetadata(urls: AuthUrls) {
  return {
    issuer: urls.issuer,
    authorization_endpoint: urls.authorize,
    token_endpoint: urls.token,
    registration_endpoint: urls.register,
    revocation_endpoint: urls.revoke,
    scopes_supported: [...allScopes],
    response_types_supported: ["code"],
    response_modes_supported: ["query"],
    grant_types_supported: ["authorization_code", "refresh_token"],
    code_challenge_methods_supported: ["S256"],
    token_endpoint_auth_methods_supported: ["none", "client_secret_post", "client_secret_basic"],
    revocation_endpoint_auth_methods_supported: ["none", "client_secret_post", "client_secret_basic"],
    client_id_metadata_document_supported: true,
    authorization_response_iss_parameter_supported: true,
  };
}

/** `url` with one `/` at the end: the resource, or its metadata URL, as a client typing `…/mcp/` names it. */
export function withTrailingSlash(url: string): string {
  return url.endsWith("/") ? url : `${url}/`;
}

export function jsonDocument(body: unknown): RequestHandler {
  const text = JSON.stringify(body);
  return (_req, res) => {
    res.setHeader("Cache-Control", "public, max-age=300");
    res.type("application/json").send(text);
  };
}
