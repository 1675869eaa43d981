/**
 * What a FormulaError is about, so that the list endpoint can answer as Airtable does: `syntax` (the text does not
 * parse), `unknownFunction`, `arity` (a function given too few or too many arguments), `unknownField`, and
 * `unsupported` (a real Airtable function the sandbox does not emulate).
 */
export type FormulaErrorKind = "syntax" | "unknownFunction" | "arity" | "unknownField" | "unsupported";

/** Thrown by compileFormula for anything Airtable would reject as an invalid formula, or that the sandbox refuses to emulate. */
export class FormulaError extends Error {
  readonly kind: FormulaErrorKind;
  constructor(message: string, kind: FormulaErrorKind = "syntax") {
    super(message);
    this.name = "FormulaError";
    this.kind = kind;
  }
}
