/** A call the agent can fix by changing its arguments; the message says how. Shown to the agent as is. */
export class ToolInputError extends Error {
  override name = "ToolInputError";
}
