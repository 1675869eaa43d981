/**
 * Airtable's 422 INVALID_MULTIPLE_CHOICE_OPTIONS message names the option as JSON inside quotes (`option
 * ""Blocked""`, as real error bodies show it: https://github.com/gtalarico/pyairtable/issues/137); the explanation
 * finds the option, the field of the refused records naming it, and says what to do.
 */
import { describe, expect, it } from "vitest";
import { explainSelectOptionRefusal, refusedOption } from "../../../src/shared/operations/select-option-refusal.ts";

describe("refusedOption", () => {
  it("reads the option Airtable's message names, however it is quoted", () => {
    expect(refusedOption('Insufficient permissions to create new select option ""Blocked""')).toBe("Blocked");
    expect(refusedOption('Insufficient permissions to create new select option ""say \\"hi\\"""')).toBe('say "hi"');
    expect(refusedOption('Insufficient permissions to create new select option "ready"')).toBe("ready");
    expect(refusedOption("Insufficient permissions to create new select option later")).toBe("later");
    expect(refusedOption("Field Status cannot accept the provided value")).toBeUndefined();
  });
});

describe("explainSelectOptionRefusal", () => {
  const message = 'Insufficient permissions to create new select option ""Blocked""';
  const names = { fldStatus0000000: "Status", fldTags000000000: "Tags" };

  it("names the field whose value is the option, in the call's words", () => {
    const text = explainSelectOptionRefusal(message, true, [{ fldStatus0000000: "Blocked" }], names);
    expect(text).toMatch(/^"Blocked" is not an existing option of the select field "Status", so Airtable refused/);
    expect(text).toContain("Only a base creator can add an option");
    expect(text).toContain(`(Airtable: ${message})`);
  });

  it("finds it in a multiple select's list or typecast's comma-separated text", () => {
    expect(explainSelectOptionRefusal(message, true, [{ fldTags000000000: ["x", "Blocked"] }], names)).toContain(
      'the select field "Tags"',
    );
    expect(explainSelectOptionRefusal(message, true, [{ fldTags000000000: "x, Blocked" }], names)).toContain(
      'the select field "Tags"',
    );
  });

  it("without typecast: says Airtable adds no option then, and that typecast adds one for a creator only", () => {
    const text = explainSelectOptionRefusal(message, false, [{ fldStatus0000000: "Blocked" }], names);
    expect(text).toContain("Without typecast Airtable adds no option");
    expect(text).toContain("pass typecast: true, which Airtable allows only a base creator");
  });

  it("no field found: a select field of this record; another message: undefined", () => {
    expect(explainSelectOptionRefusal(message, true, [{}], undefined)).toContain("of a select field of this record");
    expect(explainSelectOptionRefusal("Something else", true, [{}], undefined)).toBeUndefined();
  });
});
