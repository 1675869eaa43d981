import { describe, expect, it } from "vitest";
import {
  AirtableAuthError,
  AirtableNotFoundError,
  AirtablePermissionError,
  AirtableRateLimitError,
  AirtableServerError,
  AirtableValidationError,
  type AirtableErrorInit,
} from "../../../src/shared/airtable/errors.ts";
import { listRecords } from "../../../src/shared/tools/read/list-records.ts";
import { describeToolError, toolErrorResult } from "../../../src/shared/tools/tool-errors.ts";
import type { AnyToolDefinition } from "../../../src/shared/tools/define-tool.ts";
import { createLogger } from "../../../src/shared/logger.ts";
import { TokenCipher } from "../../../src/shared/tokens/cipher.ts";
import { randomBytes } from "node:crypto";

const tool: AnyToolDefinition = listRecords;
const init = (status: number, type: string, message: string): AirtableErrorInit => ({
  status,
  type,
  message,
  request: { operation: "listRecords", method: "GET", path: "/v0/appX/tblY" },
});

describe("describeToolError", () => {
  it("a stored sign-in this server cannot decrypt: the server is misconfigured, which setting, the operator fixes it", () => {
    const blob = TokenCipher.create(randomBytes(32)).encrypt("token", "airtable-account:usr1");
    const error = (() => {
      try {
        TokenCipher.create(randomBytes(32)).decrypt(blob, "airtable-account:usr1");
      } catch (e) {
        return e;
      }
    })();
    const lines: string[] = [];
    const logger = createLogger({ level: "info" }, { write: (l: string) => lines.push(l) });
    const text = describeToolError(error, tool, logger);
    expect(text).toMatch(/^This server is misconfigured: the stored Airtable sign-in cannot be decrypted/);
    expect(text).toContain("The server's operator must fix TOKEN_ENCRYPTION_KEY");
    expect(text).toContain("Nothing was changed");
    expect(text).not.toMatch(/internal error|reference/i);
    // The operator sees it in the logs, at error level, with the setting.
    const logged = lines.map((l) => JSON.parse(l) as { severity: string; setting?: string; message: string });
    expect(logged).toContainEqual(expect.objectContaining({ severity: "ERROR", setting: "TOKEN_ENCRYPTION_KEY" }));
  });

  it("403: names the missing access and how to check it", () => {
    const text = describeToolError(
      new AirtablePermissionError(init(403, "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND", "no")),
      tool,
    );
    expect(text).toMatch(/does not exist, or your Airtable sign-in has no access/);
    expect(text).toMatch(/list_bases/);
    expect(text).toContain("records:read (Airtable data.records:read)");
  });

  it("404 on a record: the record is gone; on a table: no access", () => {
    expect(
      describeToolError(new AirtableNotFoundError(init(404, "MODEL_ID_NOT_FOUND", "Record not found")), tool),
    ).toMatch(/no such record/);
    expect(describeToolError(new AirtableNotFoundError(init(404, "NOT_FOUND", "Could not find")), tool)).toMatch(
      /no access/,
    );
  });

  it("422: Airtable's message plus a hint", () => {
    const text = describeToolError(
      new AirtableValidationError(init(422, "UNKNOWN_FIELD_NAME", 'Unknown field name: "Foo"')),
      tool,
    );
    expect(text).toBe(
      'Airtable refused the request: Unknown field name: "Foo" (UNKNOWN_FIELD_NAME). Check the field names with describe_table.',
    );
  });

  it("429, 401 and 5xx say what to do next", () => {
    expect(describeToolError(new AirtableRateLimitError(init(429, "RATE_LIMIT_REACHED", "x")), tool)).toMatch(
      /try again in about 30 seconds/,
    );
    expect(describeToolError(new AirtableAuthError(init(401, "AUTHENTICATION_REQUIRED", "x")), tool)).toMatch(
      /Sign in to Airtable again/,
    );
    expect(describeToolError(new AirtableServerError(init(503, "SERVICE_UNAVAILABLE", "x")), tool)).toMatch(
      /Try again in a minute/,
    );
  });

  it("is an isError tool result", () => {
    expect(toolErrorResult(new AirtableRateLimitError(init(429, "RATE_LIMIT_REACHED", "x")), tool)).toMatchObject({
      isError: true,
      content: [{ type: "text" }],
    });
  });
});
