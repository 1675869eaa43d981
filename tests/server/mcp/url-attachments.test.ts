/**
 * Attachments written by URL, through the real MCP SDK client over HTTP against the sandbox. Airtable answers the
 * write at once and downloads the file afterwards; a file it cannot fetch is dropped from the cell without an error
 * (its API documentation: "Airtable will download the file at the given url and keep its own copy of it", and a
 * failed download shows as "the attachment object … being cleared from the cell"). A newcomer trial read "Done" and
 * found the attachment gone; the answer now says the files are fetched after the write and to read the records back.
 * The sandbox does what the documentation says: it fetches a reachable URL after the write and drops one it cannot.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OperationResultOutput } from "../../../src/shared/tools/operation-result.ts";
import { callToolAnswer } from "../../support/mcp-test-harness.ts";
import { useMcpHarness } from "../../support/use-mcp-harness.ts";

const mcp = useMcpHarness({
  name: "Files",
  tables: [
    {
      name: "Companies",
      fields: [
        { name: "Name", type: "singleLineText" },
        { name: "Logo", type: "multipleAttachments" },
      ],
    },
  ],
});

/** A file server the sandbox can fetch from: /logo.txt answers, anything else is 404. */
let files: Server;
let filesUrl: string;
beforeAll(async () => {
  files = createServer((req, res) => {
    if (req.url === "/logo.txt") res.writeHead(200, { "content-type": "text/plain" }).end("a logo");
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => files.listen(0, "127.0.0.1", resolve));
  filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => files?.close(resolve));
});

async function write(name: string, args: Record<string, unknown>): Promise<OperationResultOutput> {
  const answer = await callToolAnswer(mcp.client, name, { baseId: mcp.base.id, tableId: "Companies", ...args });
  expect(answer.isError, answer.text).toBe(false);
  return answer.data as unknown as OperationResultOutput;
}

/** The record's Logo cell as get_record gives it, once Airtable (the sandbox) has settled its files. */
async function logoOf(id: string): Promise<{ id: string; size?: number; filename: string }[] | undefined> {
  for (let i = 0; i < 50; i++) {
    const read = await callToolAnswer(mcp.client, "get_record", {
      baseId: mcp.base.id,
      tableId: "Companies",
      recordId: id,
    });
    const record = read.data.record as { fields: { Logo?: { id: string; size?: number; filename: string }[] } };
    const logo = record.fields.Logo;
    if (logo === undefined || logo.every((a) => a.size !== undefined)) return logo;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("the attachments were never fetched");
}

describe("attachments given by url", () => {
  it("the answer says Airtable fetches them after the write and to read the records back; a file it cannot fetch is dropped", async () => {
    const answer = await write("create_records", {
      records: [
        { fields: { Name: "Reachable", Logo: [{ url: `${filesUrl}/logo.txt` }] } },
        { fields: { Name: "Unreachable", Logo: [{ url: `${filesUrl}/missing.png` }] } },
        { fields: { Name: "No file" } },
      ],
    });
    expect(answer.status).toBe("completed");
    expect(answer.message).toBe(
      'Done: 3 records written of 3. Attachments given by url ("Logo", in records 0, 1) are fetched by Airtable ' +
        "after the write, which answered before they were: a file Airtable cannot fetch is dropped from the cell " +
        "without an error. Read the records back (get_record or list_records) to confirm the files are there.",
    );
    const [reachable, unreachable] = answer.results!.map((r) => r.id!);
    // Read back as the answer says: the fetched file is there (with its size), the other one is gone.
    const kept = await logoOf(reachable!);
    expect(kept).toHaveLength(1);
    expect(kept![0]).toMatchObject({ filename: "logo.txt", size: 6 });
    expect(await logoOf(unreachable!)).toBeUndefined();

    // An attachment kept by its id is not fetched again: no such sentence.
    const update = await write("update_records", {
      records: [{ id: reachable, fields: { Logo: [{ id: kept![0]!.id }] } }],
    });
    expect(update.message).toBe("Done: 1 record written of 1.");
    // One record: "the record".
    const one = await write("create_record", { fields: { Name: "One", Logo: [{ url: `${filesUrl}/logo.txt` }] } });
    expect(one.message).toContain('Attachments given by url ("Logo", in record 0) are fetched by Airtable');
    expect(one.message).toContain("Read the record back (get_record or list_records)");
  });
});
