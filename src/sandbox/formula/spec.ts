/** How a formula function is declared: its argument counts and how it is evaluated. */
import type { FormulaRecord } from "./fields.ts";
import type { Node } from "./parser.ts";
import type { ErrorValue, Value } from "./values.ts";

export interface CallContext {
  record: FormulaRecord;
  evaluate(node: Node): Value;
}

export interface FunctionSpec {
  min: number;
  max: number;
  /** Receives the evaluated arguments; an error in any argument is returned before this is called. */
  call?: (args: Exclude<Value, ErrorValue>[], ctx: CallContext) => Value;
  /** Receives the unevaluated arguments (IF evaluates only the branch it takes, ISERROR inspects errors). */
  lazy?: (args: Node[], ctx: CallContext) => Value;
}
