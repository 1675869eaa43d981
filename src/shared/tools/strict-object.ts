/**
 * A nested tool argument object that refuses keys it does not know, with a message naming them and the keys it
 * takes: `sort: [{ field, order }]` is answered "a sort item does not take the key "order"; its keys are field,
 * direction", so an agent can call again right (zod's own message, `Unrecognized key: "order"`, does not say what
 * the right key is). The top level of a tool's arguments gets the same treatment in compile-tools.ts.
 *
 * @param what how the message names the object, e.g. "a sort item"
 * @param shape the object's zod shape (its keys are the ones listed)
 */
import { z } from "zod";

export function strictArgumentObject<Shape extends z.ZodRawShape>(what: string, shape: Shape) {
  const known = Object.keys(shape).join(", ");
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code !== "unrecognized_keys") return undefined;
      const names = issue.keys.map((k) => `"${k}"`).join(", ");
      return `${what} does not take the ${issue.keys.length === 1 ? "key" : "keys"} ${names}; its keys are ${known}`;
    },
  });
}
