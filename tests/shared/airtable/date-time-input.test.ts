/**
 * dateTimeInputInstant: what instant a value written to a dateTime field names, as Airtable's field model says it
 * reads "ambiguous" inputs (a date alone, a time without a zone): in the field's time zone, unless that is utc or
 * client; never in this process's own time zone.
 */
import { describe, expect, it } from "vitest";
import { dateTimeInputInstant } from "../../../src/shared/airtable/date-time-input.ts";

const iso = (t: number) => (Number.isNaN(t) ? "NaN" : new Date(t).toISOString());

describe("dateTimeInputInstant", () => {
  it("reads a date alone or a time without a zone in the field's time zone, across daylight saving time", () => {
    expect(iso(dateTimeInputInstant("2030-09-08", "America/Los_Angeles"))).toBe("2030-09-08T07:00:00.000Z");
    expect(iso(dateTimeInputInstant("2030-12-08", "America/Los_Angeles"))).toBe("2030-12-08T08:00:00.000Z");
    expect(iso(dateTimeInputInstant("2030-09-05T07:00", "Europe/Paris"))).toBe("2030-09-05T05:00:00.000Z");
    expect(iso(dateTimeInputInstant("2030-09-05T07:00:00.25", "Asia/Kolkata"))).toBe("2030-09-05T01:30:00.250Z");
  });

  it("reads them as UTC for a utc or client field, or one without a time zone", () => {
    for (const zone of ["utc", "client", undefined]) {
      expect(iso(dateTimeInputInstant("2030-09-05T07:00:00", zone))).toBe("2030-09-05T07:00:00.000Z");
      expect(iso(dateTimeInputInstant("2030-09-08", zone))).toBe("2030-09-08T00:00:00.000Z");
    }
  });

  it("keeps a timestamp's own zone, and names nothing for an impossible date or an unknown time zone", () => {
    expect(iso(dateTimeInputInstant("2030-09-05T07:00:00+02:00", "America/Los_Angeles"))).toBe(
      "2030-09-05T05:00:00.000Z",
    );
    expect(iso(dateTimeInputInstant("2030-09-05T07:00:00.000Z", "Asia/Tokyo"))).toBe("2030-09-05T07:00:00.000Z");
    expect(iso(dateTimeInputInstant("2030-02-31", "utc"))).toBe("NaN");
    expect(iso(dateTimeInputInstant("2030-09-08", "Mars/Olympus"))).toBe("NaN");
  });
});
