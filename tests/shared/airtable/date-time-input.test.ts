/**
 * What instant a value written to a dateTime field names, as Airtable's field model says it reads "ambiguous"
 * inputs (a date alone, a time without a zone): in the field's time zone unless that is utc or client. Two readings
 * are held side by side on one table of cases: the worker's (dateTimeInputInstants, which the read-back of a lost
 * create compares with: every instant Airtable may have stored) and the sandbox's (dateTimeInstant, the one it
 * stores), under several time zones of this process, which neither may depend on.
 */
import { afterEach, describe, expect, it } from "vitest";
import { dateTimeInputInstants } from "../../../src/shared/airtable/date-time-input.ts";
import { dateTimeInstant } from "../../../src/sandbox/fields/scalars.ts";
import type { Field } from "../../../src/sandbox/store.ts";

const iso = (t: number) => (Number.isNaN(t) ? "NaN" : new Date(t).toISOString());

interface Case {
  value: string;
  zone: string | undefined;
  /** Every instant Airtable may have stored (the worker accepts any). */
  worker: string[];
  /** The one the sandbox stores; omitted where the sandbox falls back to Date.parse (typecast text). */
  sandbox?: string;
}

const CASES: Case[] = [
  { value: "2030-09-08", zone: "America/Los_Angeles", worker: ["2030-09-08T07:00:00.000Z"] },
  { value: "2030-12-08", zone: "America/Los_Angeles", worker: ["2030-12-08T08:00:00.000Z"] },
  { value: "2030-09-05T07:00", zone: "Europe/Paris", worker: ["2030-09-05T05:00:00.000Z"] },
  { value: "2030-09-05T07:00:00.25", zone: "Asia/Kolkata", worker: ["2030-09-05T01:30:00.250Z"] },
  // Clocks go back: 02:30 happens twice in Paris. The sandbox stores the first.
  {
    value: "2024-10-27T02:30",
    zone: "Europe/Paris",
    worker: ["2024-10-27T00:30:00.000Z", "2024-10-27T01:30:00.000Z"],
    sandbox: "2024-10-27T00:30:00.000Z",
  },
  {
    value: "2024-11-03T01:30:00",
    zone: "America/New_York",
    worker: ["2024-11-03T05:30:00.000Z", "2024-11-03T06:30:00.000Z"],
    sandbox: "2024-11-03T05:30:00.000Z",
  },
  // Clocks go forward: 02:30 never happens in Paris. The sandbox moves it forward (03:30 CEST).
  {
    value: "2024-03-31T02:30",
    zone: "Europe/Paris",
    worker: ["2024-03-31T00:30:00.000Z", "2024-03-31T01:30:00.000Z"],
    sandbox: "2024-03-31T01:30:00.000Z",
  },
  { value: "2030-09-05T07:00:00", zone: "utc", worker: ["2030-09-05T07:00:00.000Z"] },
  { value: "2030-09-08", zone: "client", worker: ["2030-09-08T00:00:00.000Z"] },
  { value: "2030-09-08", zone: undefined, worker: ["2030-09-08T00:00:00.000Z"] },
  { value: "0099-01-01", zone: "utc", worker: ["0099-01-01T00:00:00.000Z"] },
  { value: "2030-09-05T07:00:00+02:00", zone: "America/Los_Angeles", worker: ["2030-09-05T05:00:00.000Z"] },
  { value: "2030-09-05T07:00:00.000Z", zone: "Asia/Tokyo", worker: ["2030-09-05T07:00:00.000Z"] },
  // Nothing: an impossible date or time, an unknown time zone.
  { value: "2030-02-31", zone: "utc", worker: [], sandbox: "NaN" },
  { value: "2030-09-05T25:00", zone: "Europe/Paris", worker: [], sandbox: "NaN" },
  { value: "2030-09-05T07:61", zone: "utc", worker: [], sandbox: "NaN" },
  { value: "2030-09-08", zone: "Mars/Olympus", worker: [], sandbox: "NaN" },
  // Monrovia kept a local mean time of -0:44:30 until 1972: no whole minutes, not read.
  { value: "1960-06-01T12:00", zone: "Africa/Monrovia", worker: [], sandbox: "NaN" },
  // Text typecast may parse names no certain instant for the worker: it leaves the field out of its comparison.
  { value: "2030-09-05 07:00", zone: "Europe/Paris", worker: [] },
  { value: "9/5/2030 7:00", zone: "utc", worker: [] },
];

const PROCESS_ZONES = ["UTC", "Asia/Kolkata", "America/Los_Angeles", "Europe/Paris", "Pacific/Chatham"];
const originalTz = process.env.TZ;
afterEach(() => {
  if (originalTz === undefined) delete process.env.TZ;
  else process.env.TZ = originalTz;
});

const field = (zone: string | undefined): Field =>
  ({
    id: "fldAt",
    name: "At",
    type: "dateTime",
    options: zone === undefined ? {} : { timeZone: zone },
  }) as unknown as Field;

describe("a dateTime input's instant, the worker's reading and the sandbox's", () => {
  it.each(PROCESS_ZONES)("agree with the field model and each other with this process in %s", (processZone) => {
    process.env.TZ = processZone;
    for (const c of CASES) {
      const worker = dateTimeInputInstants(c.value, c.zone).map(iso);
      expect(worker, `${c.value} in ${String(c.zone)}`).toEqual(c.worker);
      if (c.worker.length === 0 && c.sandbox === undefined) continue;
      const stored = iso(dateTimeInstant(field(c.zone), c.value));
      expect(stored, `sandbox: ${c.value} in ${String(c.zone)}`).toBe(c.sandbox ?? c.worker[0]);
      // Whatever the sandbox stores, the worker's read-back recognises.
      if (stored !== "NaN") expect(worker).toContain(stored);
    }
  });
});
