import { describe, expect, it } from "vitest";
import { z } from "zod";
import { portableJsonSchema } from "../../../src/shared/tools/portable-json-schema.ts";

describe("portableJsonSchema", () => {
  it("rewrites zod's spellings clients refuse into equivalent ones, and leaves the rest as zod made it", () => {
    const zodJson = z
      .object({
        fields: z.record(z.string(), z.unknown()).describe("Cells"),
        done: z.literal(true).optional(),
        tags: z.array(z.string().min(1)).max(3),
      })
      .toJSONSchema({ target: "draft-2020-12", io: "input" }) as Record<string, unknown>;
    expect(zodJson).toMatchObject({
      $schema: "https://json-schema.org/draft/2020-12/schema",
      properties: { fields: { propertyNames: { type: "string" }, additionalProperties: {} }, done: { const: true } },
    });
    expect(portableJsonSchema(zodJson)).toEqual({
      type: "object",
      properties: {
        fields: { type: "object", additionalProperties: true, description: "Cells" },
        done: { type: "boolean", enum: [true] },
        tags: { type: "array", maxItems: 3, items: { type: "string", minLength: 1 } },
      },
      required: ["fields", "tags"],
    });
    // A copy: what zod gave is not changed.
    expect(zodJson).toHaveProperty("$schema");
  });

  it("rewrites schema positions only: properties named like keywords stay, and constraints it cannot restate stay", () => {
    const json = {
      type: "object",
      properties: {
        const: { type: "string" },
        $schema: { type: "string" },
        propertyNames: {
          type: "object",
          propertyNames: { pattern: "^[a-z]+$" },
          additionalProperties: { type: "number" },
        },
      },
    };
    expect(portableJsonSchema(json)).toEqual(json);
  });
});
