import { describe, expect, it } from "vitest";
import { z } from "zod";
import { allTools } from "../../../src/shared/tools/catalog.ts";
import { compileTools, toolCompilationCount } from "../../../src/shared/tools/compile-tools.ts";
import { portableJsonSchema } from "../../../src/shared/tools/portable-json-schema.ts";

type Issue = { message: string; code?: string; path?: PropertyKey[] };
type Standard = {
  validate(value: unknown): { value?: unknown; issues?: Issue[] };
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

  it("validates with the tool's own strict zod schema (parsed values, same messages) and answers zod's JSON Schema from a cache (the listed dialect in its portable form)", () => {
    for (const { definition, config } of compileTools(allTools)) {
      const params = Object.keys(definition.inputSchema).length;
      const zodInput = params === 0 ? z.object(definition.inputSchema) : z.strictObject(definition.inputSchema);
      const input = standard(config.inputSchema);
      // Same verdict and messages as zod for a wrong argument object, but for arguments the tool does not take and
      // required ones left out (their own wordings, tested below). Arguments of types no tool rewords: the list
      // arguments (records, recordIds, fields, sort, …) have one sentence of their own since session 20
      // (list-argument.ts, tested in the wording tests), as maxRecords and pageSize have (listing.ts).
      const wrong = { baseId: 42, typecast: "x", expandLinks: 1, detailLevel: 5, filterByFormula: 7 };
      const isMissing = (i: Issue) => i.path?.length === 1 && !(String(i.path[0]) in wrong);
      const known = (issues: Issue[] | undefined) =>
        issues
          ?.filter((i) => i.code !== "unrecognized_keys" && !isMissing(i) && i.path?.length !== 0)
          .map((i) => i.message);
      const zodVerdict = zodInput["~standard"].validate(wrong) as { issues?: Issue[] };
      const verdict = input.validate(wrong);
      expect(known(verdict.issues)).toEqual(known(zodVerdict.issues));
      // The arguments left out are one issue of ours, naming them all, and the arguments the tool does not take
      // with them (then the parameters are listed once, not twice).
      const missingNames = (zodVerdict.issues ?? []).filter(isMissing).map((i) => `"${String(i.path?.[0])}"`);
      const unknownIssues = (zodVerdict.issues ?? []).filter(
        (i) => i.code === "unrecognized_keys" && i.path?.length === 0,
      ).length;
      const merged = verdict.issues?.filter((i) => i.path?.length === 0 && i.code !== "unrecognized_keys") ?? [];
      expect(merged.length).toBe(missingNames.length === 0 ? 0 : 1);
      if (missingNames.length > 0) expect(merged[0]?.message).toContain(missingNames.join(", "));
      expect(verdict.issues?.length ?? 0).toBe(
        (zodVerdict.issues?.length ?? 0) - missingNames.length + (missingNames.length === 0 ? 0 : 1 - unknownIssues),
      );
      for (const target of ["draft-2020-12", "draft-07"]) {
        // The dialect tools/list asks for (2020-12) is zod's schema rewritten into the subset every client takes
        // (portable-json-schema.ts, tests/server/mcp/tools-list-portable.test.ts); any other is zod's own.
        const asListed = (json: Record<string, unknown>) =>
          target === "draft-2020-12" ? portableJsonSchema(json) : json;
        const json = input.jsonSchema.input({ target });
        expect(json).toEqual(asListed(zodInput["~standard"].jsonSchema.input({ target })));
        expect(input.jsonSchema.input({ target })).toBe(json);
        const output = standard(config.outputSchema).jsonSchema.output({ target });
        expect(output).toEqual(asListed(z.object(definition.outputSchema)["~standard"].jsonSchema.output({ target })));
      }
    }
  });

  it("refuses an argument the tool does not take, naming it and the parameters the tool takes", () => {
    const tools = compileTools(allTools);
    const listRecords = tools.find((t) => t.definition.name === "list_records")!;
    const verdict = standard(listRecords.config.inputSchema).validate({
      baseId: "appAAAAAAAAAAAAAA",
      tableId: "Tasks",
      filter: '{Stage}="Lead"',
    });
    expect(verdict.issues).toHaveLength(1);
    expect(verdict.issues?.[0]?.message).toBe(
      `list_records does not take the argument "filter"; its parameters are ${Object.keys(listRecords.definition.inputSchema).join(", ")} (see its inputSchema in tools/list)`,
    );
    expect(verdict.issues?.[0]?.message).toContain("filterByFormula");
    const updateRecords = tools.find((t) => t.definition.name === "update_records")!;
    expect(
      standard(updateRecords.config.inputSchema)
        .validate({ baseId: "x", tableId: "t", records: [], limit: 1, dryRun: true })
        .issues?.find((i) => i.code === "unrecognized_keys")?.message,
    ).toMatch(
      /^update_records does not take the arguments "limit", "dryRun"; its parameters are baseId, tableId, records/,
    );
    // Inside an argument too: a sort item's `order` (for direction) and a field's `choices` (for options) are named
    // with the keys the object does take, where zod alone says only `Unrecognized key: "order"`.
    const sortIssue = standard(listRecords.config.inputSchema)
      .validate({ baseId: "appAAAAAAAAAAAAAA", tableId: "Tasks", sort: [{ field: "Name", order: "desc" }] })
      .issues?.find((i) => i.code === "unrecognized_keys") as (Issue & { path?: unknown[] }) | undefined;
    expect(sortIssue?.message).toBe('a sort item does not take the key "order"; its keys are field, direction');
    expect(sortIssue?.path).toEqual(["sort", 0]);
    const createTable = tools.find((t) => t.definition.name === "create_table")!;
    expect(
      standard(createTable.config.inputSchema)
        .validate({ baseId: "x", name: "T", fields: [{ name: "Stage", type: "singleSelect", choices: [], note: 1 }] })
        .issues?.find((i) => i.code === "unrecognized_keys")?.message,
    ).toBe('a field does not take the keys "choices", "note"; its keys are name, type, description, options');
    const createField = tools.find((t) => t.definition.name === "create_field")!;
    expect(
      standard(createField.config.inputSchema)
        .validate({ baseId: "x", tableId: "t", name: "Stage", type: "singleSelect", choices: [] })
        .issues?.find((i) => i.code === "unrecognized_keys")?.message,
    ).toMatch(/^create_field does not take the argument "choices"; its parameters are .*options/);
    // A tool without parameters takes a client's placeholder argument (Cursor sends `random_string`) as nothing.
    const listBases = tools.find((t) => t.definition.name === "list_bases")!;
    expect(standard(listBases.config.inputSchema).validate({ random_string: "dummy" }).issues).toBeUndefined();
    // tools/list says so too: every input schema with parameters is closed.
    for (const { definition, config } of tools) {
      if (Object.keys(definition.inputSchema).length === 0) continue;
      expect(standard(config.inputSchema).jsonSchema.input({ target: "draft-2020-12" })).toMatchObject({
        additionalProperties: false,
      });
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

  it("names a required argument left out, and the parameters the tool takes, instead of 'received undefined'", () => {
    const tools = compileTools(allTools);
    const getRecord = tools.find((t) => t.definition.name === "get_record")!;
    const verdict = standard(getRecord.config.inputSchema).validate({ baseId: "appAAAAAAAAAAAAAA", tableId: "T" });
    const params = Object.keys(getRecord.definition.inputSchema).join(", ");
    expect(verdict.issues?.map((i) => i.message)).toEqual([
      `get_record needs the argument "recordId", and it was not given; its parameters are ${params} (see its inputSchema in tools/list)`,
    ]);
    // Left out beside one the tool does not take (a parameter named wrongly): one sentence, the parameters once.
    const searchRecords = tools.find((t) => t.definition.name === "search_records")!;
    const renamed = standard(searchRecords.config.inputSchema).validate({
      baseId: "appAAAAAAAAAAAAAA",
      tableId: "T",
      query: "Ada",
    });
    expect(renamed.issues?.map((i) => i.message)).toEqual([
      `search_records needs the argument "searchTerm", and it was not given, and does not take the argument "query"; ` +
        `its parameters are ${Object.keys(searchRecords.definition.inputSchema).join(", ")} (see its inputSchema in tools/list)`,
    ]);
    // Several left out: one sentence naming them all (the SDK joins issues with ", ").
    const none = standard(getRecord.config.inputSchema).validate({});
    expect(none.issues?.map((i) => i.message)).toEqual([
      `get_record needs the arguments "baseId", "tableId", "recordId", and they were not given; its parameters are ${params} (see its inputSchema in tools/list)`,
    ]);
    // A wrong value of an argument that was given keeps zod's message.
    const wrongType = standard(getRecord.config.inputSchema).validate({
      baseId: 42,
      tableId: "T",
      recordId: "recAAAAAAAAAAAAAA",
    });
    expect(wrongType.issues?.map((i) => i.message)).toEqual(["Invalid input: expected string, received number"]);
  });
});

describe("what tools/list tells an agent", () => {
  const listed = compileTools(allTools).map(({ definition, config }) => ({
    name: definition.name,
    text: JSON.stringify({
      description: config.description,
      input: standard(config.inputSchema).jsonSchema.input({ target: "draft-2020-12" }),
    }),
  }));

  it("names no server setting (an agent cannot read or change MAX_RECORDS_PER_OPERATION; the instructions give its value)", () => {
    for (const { name, text } of listed) expect(text, name).not.toMatch(/\b[A-Z]+(?:_[A-Z]+)+\b/);
  });

  it("says delete_records deletes (its onError and in-doubt advice are not create's), and how names are matched", () => {
    const del = listed.find((t) => t.name === "delete_records")!.text;
    expect(del).toContain("the others are still deleted");
    expect(del).toContain("deleting it again is harmless");
    expect(del).not.toMatch(/still written|before writing it again|written in batches/);
    const create = listed.find((t) => t.name === "create_records")!.text;
    expect(create).toContain("the others are still written");
    expect(create).toContain("ignoring case and surrounding spaces when only one table matches");
    expect(create).toContain("ignoring case and surrounding spaces when only one field matches");
  });
});
