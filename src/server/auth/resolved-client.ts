import type { Scope } from "../../shared/auth/scopes.ts";

export type ClientAuthMethod = "none" | "client_secret_post" | "client_secret_basic";

/** A client as the endpoints need it, whether it registered (DCR) or presented a metadata document (CIMD). */
export interface ResolvedClient {
  clientId: string;
  source: "registration" | "metadata-document";
  name?: string;
  redirectUris: string[];
  authMethod: ClientAuthMethod;
  /** `sha256:<hex>` of the client secret, for confidential DCR clients. */
  secretHash?: string;
  /** Scopes the client registered for; undefined means any of ours. */
  scopes?: Scope[];
}

export class UnknownClientError extends Error {
  override name = "UnknownClientError";
}
