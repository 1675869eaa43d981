import { describe, expect, it } from "vitest";
import { z } from "zod";
import { allTools } from "../../../src/shared/tools/catalog.ts";
import { compileTools, toolCompilationCount } from "../../../src/shared/tools/compile-tools.ts";

type Standard = {
  validate(value: unknown): { value?: unknown; issues?: { message: string }[] };
  jsonSchema: { input(o: { target: string }): unknown; output(o: { target: string }): unknown };
};
const standard = (schema: unknown) => (schema as { "~standard": Standard })["~standard"];

describe("compileTools", () => {
  it("compiles a catalog once: the same array gives the same compiled tools", () => {
    const tools = [...allTools];
    const before = toolCompilationCount();
    const first = compileTools(tools);
    expect(compileTools(tools)).toBe(first);
    expect(toolCompilationCount()).toBe(before + 1);
    expect(first.map((t) => t.definition.name)).toEqual(allTools.map((t) => t.name));
  });

  it("validates with the tool's own zod schema (parsed values, same messages) and answers zod's JSON Schema from a cache", () => {
    for (const { definition, config } of compileTools(allTools)) {
      const zodInput = z.object(definition.inputSchema);
      const input = standard(config.inputSchema);
      // Same verdict and messages as zod for a wrong argument object.
      const wrong = { baseId: 42, recordIds: "x", records: 1 };
      const zodVerdict = zodInput["~standard"].validate(wrong) as { issues?: { message: string }[] };
      expect((input.validate(wrong) as { issues?: { message: string }[] }).issues?.map((i) => i.message)).toEqual(
        zodVerdict.issues?.map((i) => i.message),
      );
      for (const target of ["draft-2020-12", "draft-07"]) {
        const json = input.jsonSchema.input({ target });
        expect(json).toEqual(zodInput["~standard"].jsonSchema.input({ target }));
        expect(input.jsonSchema.input({ target })).toBe(json);
        const output = standard(config.outputSchema).jsonSchema.output({ target });
        expect(output).toEqual(z.object(definition.outputSchema)["~standard"].jsonSchema.output({ target }));
      }
    }
  });

  it("hands the handler the value zod parses", () => {
    const tool = compileTools(allTools).find((t) => t.definition.name === "list_records");
    const parsed = standard(tool?.config.inputSchema).validate({ baseId: "appAAAAAAAAAAAAAA", tableId: "Tasks" });
    expect(parsed.issues).toBeUndefined();
    expect(parsed.value).toEqual(
      z.object(tool!.definition.inputSchema).parse({ baseId: "appAAAAAAAAAAAAAA", tableId: "Tasks" }) as Record<
        string,
        unknown
      >,
    );
  });
});
