import { describe, expect, it } from "vitest";
import {
  AirtableAuthError,
  AirtableNetworkError,
  AirtablePermissionError,
  type AirtableErrorInit,
} from "../../../src/shared/airtable/errors.ts";
import { airtableAccessLost } from "../../../src/shared/tokens/access-lost.ts";
import {
  AirtableReauthRequiredError,
  AirtableTokenUnavailableError,
} from "../../../src/shared/tokens/airtable-token-provider.ts";

const init = (status: number, type: string): AirtableErrorInit => ({
  status,
  type,
  message: "x",
  request: { operation: "listRecords", method: "GET", path: "/v0/appX/Tasks" },
});

describe("airtableAccessLost", () => {
  it("a sign-in that ended (refresh refused or none stored) is lost, and ends the grants", () => {
    expect(airtableAccessLost(new AirtableReauthRequiredError("usr1", "gone"))).toEqual({
      kind: "sign_in_ended",
      errorType: "AUTHENTICATION_REQUIRED",
    });
  });

  it("a 401 to a freshly refreshed token is lost too, with Airtable's error type", () => {
    expect(airtableAccessLost(new AirtableAuthError(init(401, "INVALID_TOKEN")))).toEqual({
      kind: "token_refused",
      errorType: "INVALID_TOKEN",
    });
  });

  it("a refresh that failed for now, a 403 on one base, a network failure or any other error is not", () => {
    for (const error of [
      new AirtableTokenUnavailableError("usr1", "Airtable did not answer"),
      new AirtablePermissionError(init(403, "INVALID_PERMISSIONS")),
      new AirtableNetworkError(init(0, "NETWORK_ERROR")),
      new Error("boom"),
      "not even an error",
    ]) {
      expect(airtableAccessLost(error)).toBeUndefined();
    }
  });
});
