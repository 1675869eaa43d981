/**
 * A collaborator the base does not have, written to a collaborator field, through the real MCP SDK client over HTTP
 * against the sandbox (which refuses it as Airtable does: 422 INVALID_VALUE_FOR_COLUMN `Field "Account manager" cannot
 * accept the provided value`). A newcomer trial got only that sentence for `{"email": "nobody@example.com"}`; the
 * record's error now says the person must be a collaborator of the base and where the valid ones are found.
 */
import { describe, expect, it } from "vitest";
import type { OperationResultOutput } from "../../../src/shared/tools/operation-result.ts";
import { useMcpHarness } from "../../support/use-mcp-harness.ts";

const mcp = useMcpHarness({
  name: "Collaborators",
  tables: [
    {
      name: "Companies",
      fields: [
        { name: "Name", type: "singleLineText" },
        { name: "Account manager", type: "singleCollaborator" },
        { name: "Team", type: "multipleCollaborators" },
      ],
      records: [{ Name: "Acme" }],
    },
  ],
});

async function write(name: string, args: Record<string, unknown>): Promise<OperationResultOutput> {
  const result = await mcp.client.callTool({
    name,
    arguments: { baseId: mcp.base.id, tableId: "Companies", ...args },
  });
  expect(result.isError, JSON.stringify(result.content)).not.toBe(true);
  return result.structuredContent as OperationResultOutput;
}

const hint = (field: string, given: string) =>
  ` "${field}" is a collaborator field: the email or user id given (${given}) must belong to a collaborator of this ` +
  "base (someone it is shared with), and Airtable refuses anyone else. list_records with fields: " +
  `["${field}"] shows the collaborators already set in it, with their ids and emails (list_comments shows who ` +
  "commented); to name someone else, share the base with them in Airtable first.";

describe("a collaborator the base does not have", () => {
  it("by email, in a collaborator field: says who may be named and where to find them", async () => {
    const answer = await write("create_record", {
      fields: { Name: "Ghosted", "Account manager": { email: "nobody@example.com" } },
    });
    expect(answer.status).toBe("completed_with_errors");
    expect(answer.results).toEqual([
      {
        index: 0,
        error: {
          type: "INVALID_VALUE_FOR_COLUMN",
          message:
            'Field "Account manager" cannot accept the provided value.' +
            hint("Account manager", '{"email":"nobody@example.com"}'),
        },
      },
    ]);
    // A collaborator of the base (the demo user) is taken, as the hint says: no refusal of valid ones.
    const ok = await write("create_record", {
      fields: { Name: "Managed", "Account manager": { id: mcp.h.demo.user.id } },
    });
    expect(ok.status).toBe("completed");
  });

  it("by user id, in a multiple collaborator field: the same", async () => {
    const id = mcp.h.sandbox.listRecordsDirect(mcp.base.id, "Companies")[0]!.id;
    const answer = await write("update_records", {
      records: [{ id, fields: { Team: ["usrNotInThisBase1"] } }],
    });
    expect(answer.results?.[0]?.error?.message).toBe(
      'Field "Team" cannot accept the provided value.' + hint("Team", '["usrNotInThisBase1"]'),
    );
  });
});
