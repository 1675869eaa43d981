/** Thrown by compileFormula for anything Airtable would reject as an invalid formula, or that the sandbox refuses to emulate. */
export class FormulaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FormulaError";
  }
}
