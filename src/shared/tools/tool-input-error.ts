/** A call the agent can fix by changing its arguments; the message says how. Shown to the agent as is. */
export class ToolInputError extends Error {
  override name = "ToolInputError";
}

/** A value as a refusal quotes what the call gave: its JSON, cut to `max` characters (an ellipsis ends a cut one). */
export function quotedValue(value: unknown, max = 60): string {
  const json = JSON.stringify(value) ?? String(value);
  return json.length > max ? `${json.slice(0, max - 3)}…` : json;
}
