/**
 * A nested tool argument object that refuses keys it does not know, with a message naming them and the keys it
 * takes: `sort: [{ field, order }]` is answered "a sort item does not take the key "order"; its keys are field,
 * direction", so an agent can call again right (zod's own message, `Unrecognized key: "order"`, does not say what
 * the right key is). The top level of a tool's arguments is built here too, with its own wording (compile-tools.ts).
 */
import { z } from "zod";

/**
 * A strict zod object over `shape` whose unknown-key issue names the keys it takes (zod's own message for its
 * other issues).
 * @param what how the message names the object, e.g. "a sort item"
 * @param shape the object's zod shape (its keys are the ones listed)
 * @param message the unknown-key message, given the keys; by default "<what> does not take the key … its keys are …"
 */
export function strictArgumentObject<Shape extends z.ZodRawShape>(
  what: string,
  shape: Shape,
  message: (keys: readonly string[]) => string = (keys) =>
    unknownKeysMessage(what, ["key", "keys"], keys, Object.keys(shape)),
) {
  return z.strictObject(shape, {
    error: (issue) => (issue.code === "unrecognized_keys" ? message(issue.keys) : undefined),
  });
}

/**
 * "`subject` does not take the key "x"; its keys are a, b": the one wording for keys an argument object does not
 * take, at the top level (`nouns` argument/arguments, parameters) and inside (key/keys).
 */
export function unknownKeysMessage(
  subject: string,
  nouns: readonly [singular: string, plural: string],
  keys: readonly string[],
  known: readonly string[],
  knownNoun = "keys",
): string {
  const names = keys.map((k) => `"${k}"`).join(", ");
  return `${subject} does not take the ${keys.length === 1 ? nouns[0] : nouns[1]} ${names}; its ${knownNoun} are ${known.join(", ")}`;
}
