import { describe, expect, it } from "vitest";
import {
  AirtableAuthError,
  AirtableError,
  AirtableNotFoundError,
  AirtableOutcomeUnknownError,
  AirtablePermissionError,
  AirtableProtocolError,
  AirtableRateLimitError,
  AirtableServerError,
  AirtableValidationError,
  errorForStatus,
  parseAirtableErrorBody,
  type RequestSummary,
} from "../../../src/shared/airtable/errors.ts";

const request: RequestSummary = { operation: "createRecords", method: "POST", path: "/v0/appX/Tasks", baseId: "appX" };

describe("parseAirtableErrorBody", () => {
  it("reads {error: {type, message}}", () => {
    const body = JSON.stringify({ error: { type: "UNKNOWN_FIELD_NAME", message: 'Unknown field name: "Nope"' } });
    expect(parseAirtableErrorBody(422, body)).toEqual({
      type: "UNKNOWN_FIELD_NAME",
      message: 'Unknown field name: "Nope"',
    });
  });
  it('reads {error: "NOT_FOUND"} (a bare string)', () => {
    expect(parseAirtableErrorBody(404, '{"error":"NOT_FOUND"}')).toEqual({
      type: "NOT_FOUND",
      message: "Airtable answered HTTP 404",
    });
    expect(parseAirtableErrorBody(404, '{"error":"NOT_FOUND","message":"Could not find it"}')).toEqual({
      type: "NOT_FOUND",
      message: "Could not find it",
    });
  });
  it("reads {errors: [{error, message}]} (429)", () => {
    const body = JSON.stringify({
      errors: [{ error: "RATE_LIMIT_REACHED", message: "Rate limit exceeded. Please try again later" }],
    });
    expect(parseAirtableErrorBody(429, body)).toEqual({
      type: "RATE_LIMIT_REACHED",
      message: "Rate limit exceeded. Please try again later",
    });
  });
  it("fills in a missing message or type", () => {
    expect(parseAirtableErrorBody(422, '{"error":{"type":"INVALID_VALUE_FOR_COLUMN"}}')).toEqual({
      type: "INVALID_VALUE_FOR_COLUMN",
      message: "Airtable answered HTTP 422",
    });
    expect(parseAirtableErrorBody(403, '{"error":{"message":"nope"}}')).toEqual({
      type: "INVALID_PERMISSIONS",
      message: "nope",
    });
    expect(parseAirtableErrorBody(429, '{"errors":[]}')).toMatchObject({ type: "RATE_LIMIT_REACHED" });
  });
  it("falls back gracefully on non-JSON, empty and unexpected bodies", () => {
    expect(parseAirtableErrorBody(502, "<html><body>\n  Bad   gateway\n</body></html>")).toEqual({
      type: "BAD_GATEWAY",
      message: "Airtable answered HTTP 502: <html><body> Bad gateway </body></html>",
    });
    expect(parseAirtableErrorBody(503, "")).toEqual({
      type: "SERVICE_UNAVAILABLE",
      message: "Airtable answered HTTP 503",
    });
    expect(parseAirtableErrorBody(500, "null")).toMatchObject({ type: "SERVER_ERROR" });
    expect(parseAirtableErrorBody(418, "[1,2]")).toMatchObject({ type: "HTTP_418" });
    expect(parseAirtableErrorBody(599, "x".repeat(1000)).message.length).toBeLessThan(260);
  });
});

describe("errorForStatus", () => {
  const parsed = { type: "T", message: "m" };
  it.each([
    [401, AirtableAuthError],
    [403, AirtablePermissionError],
    [404, AirtableNotFoundError],
    [400, AirtableValidationError],
    [413, AirtableValidationError],
    [422, AirtableValidationError],
    [429, AirtableRateLimitError],
    [500, AirtableServerError],
    [503, AirtableServerError],
    [302, AirtableProtocolError],
  ])("%i → %o", (status, cls) => {
    const error = errorForStatus(status, parsed, request, { attempts: 2 });
    expect(error).toBeInstanceOf(cls);
    expect(error).toBeInstanceOf(AirtableError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe(cls.name);
    expect(error).toMatchObject({
      status,
      type: "T",
      method: "POST",
      path: "/v0/appX/Tasks",
      operation: "createRecords",
      attempts: 2,
    });
  });
  it("keeps Airtable's message as the message and describes itself in one line", () => {
    const error = errorForStatus(422, { type: "UNKNOWN_FIELD_NAME", message: 'Unknown field name: "Nope"' }, request);
    expect(error.message).toBe('Unknown field name: "Nope"');
    expect(error.describe()).toBe(
      'createRecords POST /v0/appX/Tasks → 422 UNKNOWN_FIELD_NAME: Unknown field name: "Nope"',
    );
  });
  it("outcome-unknown errors carry their reason and request", () => {
    const error = new AirtableOutcomeUnknownError({
      status: 0,
      type: "TIMEOUT",
      message: "m",
      request: { ...request, recordCount: 10 },
      reason: "timeout",
    });
    expect(error).toBeInstanceOf(AirtableError);
    expect(error.name).toBe("AirtableOutcomeUnknownError");
    expect(error.reason).toBe("timeout");
    expect(error.request.recordCount).toBe(10);
  });
});
