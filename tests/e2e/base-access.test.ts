/**
 * The bases a user shares with this server, end to end: on Airtable's consent page the user picks the bases the
 * integration may reach ("Add a base", support article "Third-party integrations via OAuth overview"), and can change
 * them at any time on Airtable's integrations page. A base left out is not in list bases and answers 403
 * INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND, exactly as a base that does not exist
 * (https://airtable.com/developers/web/api/list-bases: "Returns the list of bases the token can access"). The agent
 * must learn which it is and what the user can do, and an import on a base removed mid-way must stop with what was
 * written kept. A real server process and a worker process, the MCP SDK client signing in through the sandbox's
 * OAuth with a base picked.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type BaseInfo, type Sandbox } from "../../src/sandbox/index.ts";
import { planDeployment, startDeployment, type Deployment } from "./helpers/deployment.ts";
import { callTool, resultText, signInAndConnect } from "./helpers/mcp-client.ts";
import { TestOAuthProvider } from "./helpers/test-oauth-provider.ts";
import { answerOf, type OperationAnswer } from "./helpers/write-operations.ts";

let sandbox: Sandbox;
let deployment: Deployment;
let clientId: string;
let carol: { id: string };
let shared: BaseInfo;
let unshared: BaseInfo;
let client: Client;

const tasks = (name: string) => ({
  name: "Tasks",
  fields: [{ name: "Name", type: "singleLineText" }],
  records: [{ Name: `${name}: first` }],
});

beforeAll(async () => {
  const plan = await planDeployment("base-access", 1);
  clientId = plan.airtableClient.clientId;
  sandbox = await startSandbox({ oauthClients: [plan.airtableClient] });
  carol = sandbox.addUser({ email: "carol@example.com", name: "Carol" });
  shared = sandbox.createBase(carol.id, { name: "Shared projects", tables: [tasks("shared")] });
  unshared = sandbox.createBase(carol.id, { name: "Private notes", tables: [tasks("private")] });
  deployment = await startDeployment(plan, sandbox.url);
  await deployment.addWorker();
  // Carol adds only "Shared projects" on Airtable's consent page.
  const provider = new TestOAuthProvider({ sandboxUser: carol.id, sandboxBases: [shared.id] });
  client = (await signInAndConnect(`${deployment.publicUrl}/mcp`, provider)).client;
}, 120_000);

afterAll(async () => {
  await client?.close();
  await deployment?.stop();
  await sandbox?.close();
});

afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail") await deployment.printOutput();
});

const NOT_REACHED = "is not among the bases this Airtable sign-in can reach (list_bases does not list it)";
const writesTo = (baseId: string) =>
  sandbox.requests.filter((r) => r.baseId === baseId && r.method !== "GET" && !r.path.endsWith("/listRecords"));

describe("a base the user did not share with this server on Airtable's consent page", () => {
  it("is not in list_bases, and every tool naming it says so and how to add it, sending no write", async () => {
    const bases = answerOf<{ bases: { id: string }[] }>("list_bases", await callTool(client, "list_bases", {}));
    expect(bases.bases.map((b) => b.id)).toEqual([shared.id]);

    const recordId = sandbox.listRecordsDirect(unshared.id, "Tasks")[0]!.id;
    const on = { baseId: unshared.id, tableId: "Tasks" };
    for (const [tool, args] of [
      ["list_records", on],
      ["describe_table", on],
      ["get_record", { ...on, recordId }],
      ["create_records", { ...on, records: [{ fields: { Name: "x" } }] }],
      ["update_records", { ...on, records: [{ id: recordId, fields: { Name: "y" } }] }],
      ["create_comment", { ...on, recordId, text: "hello" }],
      ["create_field", { ...on, name: "Due", type: "date" }],
    ] as const) {
      const result = await callTool(client, tool, args);
      expect(result.isError, tool).toBe(true);
      const text = resultText(result);
      expect(text, tool).toContain(`Base ${unshared.id} ${NOT_REACHED}`);
      expect(text, tool).toContain("sign in again (your MCP client's reconnect or re-authorize) and add it");
      // A write refused by its checks says it did nothing, as the write tools' other refusals do; a read has nothing
      // to say about queueing.
      const write = !["list_records", "describe_table", "get_record"].includes(tool);
      expect(text.endsWith(" Nothing was queued: nothing was written."), tool).toBe(write);
    }
    expect(writesTo(unshared.id)).toEqual([]);
  });
});

describe("the user removes the base from this server while an import runs", () => {
  it("stops the import: what was written stays, the rest is not sent, and the next call says why", async () => {
    sandbox.setFaults({ latencyMs: 100 });
    const before = sandbox.listRecordsDirect(shared.id, "Tasks").length;
    const importing = callTool(client, "create_records", {
      baseId: shared.id,
      tableId: "Tasks",
      records: Array.from({ length: 100 }, (_, i) => ({ fields: { Name: `import ${i}` } })),
    });
    // Once some batches are in, Carol removes the base on Airtable's integrations page.
    const deadline = Date.now() + 20_000;
    while (sandbox.listRecordsDirect(shared.id, "Tasks").length < before + 20 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    sandbox.setIntegrationBases(carol.id, clientId, []);
    const answer = answerOf<OperationAnswer>("create_records", await importing);
    sandbox.setFaults({ latencyMs: 0 });

    expect(answer.status).toBe("failed");
    expect(answer.failure?.reason).toContain(`Base ${shared.id} ${NOT_REACHED}`);
    const written = sandbox.listRecordsDirect(shared.id, "Tasks").length - before;
    expect(written).toBeGreaterThanOrEqual(20);
    expect(written).toBeLessThan(100);
    expect(answer.progress).toMatchObject({ recordsSucceeded: written, recordsFailed: 0, recordsInDoubt: 0 });
    // One refused request, not split and not followed by the remaining batches.
    expect(writesTo(shared.id).filter((r) => r.status === 403)).toHaveLength(1);

    const next = await callTool(client, "list_records", { baseId: shared.id, tableId: "Tasks" });
    expect(next.isError).toBe(true);
    expect(resultText(next)).toContain(`Base ${shared.id} ${NOT_REACHED}`);
  });
});
