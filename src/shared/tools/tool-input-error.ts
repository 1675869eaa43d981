/** A call the agent can fix by changing its arguments; the message says how. Shown to the agent as is. */
export class ToolInputError extends Error {
  override name = "ToolInputError";
}

/** Whether a value the call gave is a JSON object (not null, not a list): a record, a sort item, the arguments. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A value as a refusal quotes what the call gave: its JSON, cut to `max` characters (an ellipsis ends a cut one). */
export function quotedValue(value: unknown, max = 60): string {
  const json = JSON.stringify(value) ?? String(value);
  return json.length > max ? `${json.slice(0, max - 3)}…` : json;
}
