import { randomBytes } from "node:crypto";
import { operationIdSchema } from "./events.ts";

/**
 * A new operation id: `op_` + 128 random bits, base64url. Unguessable on purpose — the id is what an agent
 * polls with, and ownership is checked too, but an id must not hint at other operations.
 */
export function newOperationId(): string {
  return `op_${randomBytes(16).toString("base64url")}`;
}

export function isOperationId(value: string): boolean {
  return operationIdSchema.safeParse(value).success;
}
