/**
 * The conformance judge (tests/support/conformance/scenarios.ts) fails what it must: a failing check of an
 * applicable scenario, a scenario the suite skipped or did not run, one the table does not know, an excluded
 * scenario whose messages broke the revision's JSON schema. Fed the suite's checks.json shapes directly.
 */
import { describe, expect, it } from "vitest";
import { applicableAt, judge, scenariosAt, type Check } from "../support/conformance/scenarios.ts";

const ok = (id: string): Check => ({ id, status: "SUCCESS" });
const bad = (id: string, errorMessage = "boom"): Check => ({ id, status: "FAILURE", errorMessage });

/** A run at 2025-11-25 where every scenario came out as on our server: applicable ones pass, others fail. */
function passingRun(): Map<string, Check[]> {
  const applicable = new Set(applicableAt("2025-11-25"));
  return new Map(
    scenariosAt("2025-11-25").map((s) => [
      s,
      applicable.has(s) ? [ok(s), ok("wire-schema-valid")] : [bad(s, "Tool not found"), ok("wire-schema-valid")],
    ]),
  );
}

describe("conformance judge", () => {
  it("passes a run where the applicable scenarios pass and only excluded ones fail", () => {
    const j = judge("2025-11-25", passingRun());
    expect(j.failures).toEqual([]);
    expect(j.passed).toEqual(["dns-rebinding-protection", "ping", "server-initialize", "tools-list"]);
    expect(j.excluded.map((e) => e.scenario)).toContain("prompts-list");
  });

  it("fails a failing check of an applicable scenario, naming scenario, check and message", () => {
    const run = passingRun();
    run.set("ping", [bad("ping", "no answer"), ok("wire-schema-valid")]);
    const j = judge("2025-11-25", run);
    expect(j.failures).toEqual([{ scenario: "ping", check: "ping", message: "no answer" }]);
    expect(j.passed).not.toContain("ping");
  });

  it("fails an applicable scenario the suite skipped (no check succeeded)", () => {
    const run = passingRun();
    run.set("tools-list", [{ id: "tools-list", status: "SKIPPED" }, ok("wire-schema-valid")]);
    expect(judge("2025-11-25", run).failures).toEqual([
      { scenario: "tools-list", check: "-", message: "no check succeeded (SKIPPED 1, SUCCESS 1)" },
    ]);
  });

  it("fails a scenario that did not run, and one that is not in the table", () => {
    const run = passingRun();
    run.delete("server-initialize");
    run.set("brand-new-scenario", [ok("x")]);
    const messages = judge("2025-11-25", run).failures.map((f) => `${f.scenario}: ${f.message}`);
    expect(messages).toEqual([
      "server-initialize: did not run (expected at this revision)",
      expect.stringMatching(/^brand-new-scenario: ran but is not in the table/),
    ]);
  });

  it("fails an excluded scenario whose messages broke the wire schema", () => {
    const run = passingRun();
    run.set("prompts-list", [bad("prompts-list"), bad("wire-schema-valid", "result.tools: required")]);
    expect(judge("2025-11-25", run).failures).toEqual([
      { scenario: "prompts-list", check: "wire-schema-valid", message: "result.tools: required" },
    ]);
  });

  it("does not count a listed check of an applicable scenario, but reports it", () => {
    const run = new Map([
      ["caching", [ok("sep-2549-tools-list-caching-hints"), bad("sep-2549-prompts-list-caching-hints")]],
    ]);
    const j = judge("2026-07-28", run);
    expect(j.failures.filter((f) => f.scenario === "caching")).toEqual([]);
    expect(j.passed).toEqual(["caching"]);
    expect(j.notes).toEqual([
      expect.objectContaining({ scenario: "caching", check: "sep-2549-prompts-list-caching-hints" }),
    ]);
  });
});
