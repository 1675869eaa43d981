/**
 * How a refused filterByFormula is answered over HTTP, as Airtable answers it: 422 INVALID_FILTER_BY_FORMULA with
 * "The formula for filtering records is invalid: " and then `Unknown field names: …` for fields the table lacks, or
 * the one sentence "Invalid formula. Please check your formula text." for anything else — Airtable says neither
 * what nor where (reported verbatim:
 * https://community.make.com/t/airtable-error-422-the-formula-for-filtering-records-is-invalid-invalid-formula-please-check-your-formula-text/16998).
 * The sandbox's own diagnosis (positions, the unexpected token) stays out of the answer, so that nothing tested here
 * leans on detail production never sends.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture, type Fixture } from "./test-helpers.ts";

let f: Fixture;
let tasks: string;
beforeAll(async () => {
  f = await fixture({ perBaseRps: 10_000, perTokenRps: 10_000 });
  tasks = `/v0/${f.base.id}/Tasks`;
});
afterAll(() => f.sandbox.close());

const GENERIC = "The formula for filtering records is invalid: Invalid formula. Please check your formula text.";

async function refusal(formula: string, method: "GET" | "POST" = "GET") {
  const r =
    method === "GET"
      ? await f.call("GET", `${tasks}?filterByFormula=${encodeURIComponent(formula)}`)
      : await f.call("POST", `${tasks}/listRecords`, { filterByFormula: formula });
  return { status: r.status, type: r.body?.error?.type, message: r.body?.error?.message };
}

describe("a filterByFormula Airtable cannot read", () => {
  it.each([
    ["an operator Airtable does not have (==)", '{Name} == "x"'],
    ["<> for not equal", '{Name} <> "x"'],
    ["&& for AND", "{Count} > 1 && {Done}"],
    ["a curly (smart) quote", "{Name} = \u201cx\u201d"],
    ["an unclosed parenthesis", 'AND({Name} = "x"'],
    ["an unterminated string", '{Name} = "x'],
    ["an unterminated field reference", "{Name = 1"],
    ["a function Airtable does not have", 'CONTAINS({Name}, "x")'],
    ["a function given the wrong number of arguments", 'FIND("x")'],
  ])("%s: Airtable's one sentence, no position or token", async (_what, formula) => {
    for (const method of ["GET", "POST"] as const) {
      expect(await refusal(formula, method)).toEqual({
        status: 422,
        type: "INVALID_FILTER_BY_FORMULA",
        message: GENERIC,
      });
    }
  });
});
