import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { networkInterfaces } from "node:os";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport, getDefaultEnvironment } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";

import { seedDemo, type DemoData } from "../../src/sandbox/demo-data.ts";

import { createTestRedis, deleteKeys, testRedisUrl, uniquePrefix } from "../helpers/redis.ts";
import { allTools } from "../../src/shared/tools/catalog.ts";
import { refusedTokenMessage } from "../../src/stdio/run-stdio.ts";
import { privateStateDir, removeStateDirs } from "../helpers/state-dir.ts";
import { compileCacheEnv } from "../helpers/compile-cache.ts";

const CLI = new URL("../../src/cli.ts", import.meta.url).pathname;

let sandbox: Sandbox;
let demo: DemoData;
const redis = createTestRedis();
const prefix = uniquePrefix("stdio");

beforeAll(async () => {
  sandbox = await startSandbox();
  demo = seedDemo(sandbox);
});
afterAll(async () => {
  await sandbox.close();
  await deleteKeys(redis, prefix);
  redis.disconnect();
  removeStateDirs();
});

/** Only what the child should see: the test process's own REDIS_URL must not leak in. */
function childEnv(extra: Record<string, string>): Record<string, string> {
  return {
    ...getDefaultEnvironment(),
    ...compileCacheEnv,
    AIRTABLE_API_URL: sandbox.url,
    AIRTABLE_CONTENT_URL: sandbox.url,
    LOG_LEVEL: "info",
    // Without REDIS_URL each process keeps its write operations in a directory of its own (the platform's default,
    // moved by XDG_DATA_HOME), not the tester's; a test that wants two runs to share one passes the same env.
    XDG_DATA_HOME: privateStateDir(),
    ...extra,
  };
}

async function connect(env: Record<string, string>): Promise<{ client: Client }> {
  // Logs must go to stderr: a stray line on stdout would break the client's JSON-RPC parsing.
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, "stdio"], env, stderr: "pipe" });
  const client = new Client({ name: "stdio-test", version: "1.0.0" });
  await client.connect(transport);
  return { client };
}

function run(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, "stdio"], { env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("airtable-oauth-mcp stdio", () => {
  it("answers tools/list and a read through the SDK's stdio client", async () => {
    const { client } = await connect(childEnv({ AIRTABLE_TOKEN: demo.token }));
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(allTools.map((t) => t.name).sort());
      expect(client.getInstructions()).toMatch(/list_bases/);
      const result = await client.callTool({
        name: "list_records",
        arguments: { baseId: demo.base.id, tableId: "Contacts", fields: ["Name"], pageSize: 5 },
      });
      expect(result.isError).not.toBe(true);
      const data = result.structuredContent as { records: { fields: { Name: string } }[]; nextCursor?: string };
      expect(data.records.map((r) => r.fields.Name)).toEqual(
        sandbox
          .listRecordsDirect(demo.base.id, "Contacts")
          .slice(0, 5)
          .map((r) => r.fields.Name),
      );
      expect(data.nextCursor).toBeDefined();
    } finally {
      await client.close();
    }
  });

  it("joins the shared limiter in Redis when REDIS_URL is set", async () => {
    const { client } = await connect(
      childEnv({ AIRTABLE_TOKEN: demo.token, REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: prefix }),
    );
    try {
      const result = await client.callTool({ name: "list_tables", arguments: { baseId: demo.base.id } });
      expect(result.isError).not.toBe(true);
      const keys = await redis.keys(`${prefix}:*`);
      expect(keys.some((k) => k.includes("limiter"))).toBe(true);
      expect(keys.some((k) => k.startsWith(`${prefix}:schema:${demo.base.id}`))).toBe(true);
    } finally {
      await client.close();
    }
  });

  it("runs writes in-process without Redis: 25 records in batches of 10, then get_operation answers", async () => {
    const { client } = await connect(childEnv({ AIRTABLE_TOKEN: demo.token }));
    try {
      const before = sandbox.requests.length;
      const names = Array.from({ length: 25 }, (_, i) => `stdio write ${i}`);
      const result = await client.callTool({
        name: "create_records",
        arguments: { baseId: demo.base.id, tableId: "Contacts", records: names.map((Name) => ({ fields: { Name } })) },
      });
      expect(result.isError).not.toBe(true);
      const out = result.structuredContent as {
        operationId: string;
        status: string;
        results: { index: number; id?: string }[];
      };
      expect(out.status).toBe("completed");
      expect(out.results.map((r) => r.index)).toEqual(names.map((_, i) => i));
      const rows = sandbox
        .listRecordsDirect(demo.base.id, "Contacts")
        .filter((r) => names.includes(String(r.fields.Name)));
      expect(rows).toHaveLength(25);
      expect(new Set(out.results.map((r) => r.id))).toEqual(new Set(rows.map((r) => r.id)));
      const writes = sandbox.requests.slice(before).filter((r) => r.method === "POST" && r.baseId === demo.base.id);
      expect(writes).toHaveLength(3);

      const polled = await client.callTool({ name: "get_operation", arguments: { operationId: out.operationId } });
      expect((polled.structuredContent as { status: string }).status).toBe("completed");
    } finally {
      await client.close();
    }
  });

  it("without Redis, the next process lists an earlier run's write with its real state, and no note", async () => {
    // The agent's instructions: a write call that got no answer may still be running, look for it with
    // list_operations before calling again. After the client restarted the stdio process, an empty list read as
    // "nothing was written", and the records the earlier run wrote were written twice. The operations are now kept
    // in the account's file in the per-user data directory (src/stdio/state-dir.ts): the same environment, the same
    // file. (The note for a copy that keeps them in memory: tests/stdio/stdio-resume.test.ts.)
    const sameState = childEnv({ AIRTABLE_TOKEN: demo.token });
    const first = await connect(sameState);
    let operationId: string;
    try {
      const result = await first.client.callTool({
        name: "create_records",
        arguments: { baseId: demo.base.id, tableId: "Contacts", records: [{ fields: { Name: "earlier run" } }] },
      });
      operationId = (result.structuredContent as { operationId: string }).operationId;
    } finally {
      await first.client.close();
    }
    const { client } = await connect(sameState);
    try {
      const listed = await client.callTool({ name: "list_operations", arguments: {} });
      expect(listed.isError).not.toBe(true);
      const out = listed.structuredContent as { operations: { operationId: string; status: string }[]; note?: string };
      expect(out.operations).toEqual([expect.objectContaining({ operationId, status: "completed" })]);
      expect(out.note).toBeUndefined();

      const polled = await client.callTool({ name: "get_operation", arguments: { operationId } });
      expect(polled.isError).not.toBe(true);
      expect((polled.structuredContent as { status: string }).status).toBe("completed");
    } finally {
      await client.close();
    }
    // With REDIS_URL the operations outlive the process: listed, and no such note.
    const env = childEnv({ AIRTABLE_TOKEN: demo.token, REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: `${prefix}:kept` });
    const kept = await connect(env);
    try {
      await kept.client.callTool({
        name: "create_records",
        arguments: { baseId: demo.base.id, tableId: "Contacts", records: [{ fields: { Name: "kept run" } }] },
      });
    } finally {
      await kept.client.close();
    }
    const next = await connect(env);
    try {
      const listed = await next.client.callTool({ name: "list_operations", arguments: {} });
      const out = listed.structuredContent as { operations: unknown[]; note?: string };
      expect(out.operations).toHaveLength(1);
      expect(out.note).toBeUndefined();
    } finally {
      await next.client.close();
    }
  });

  it("without Redis, a 429 tells the person on stderr that this process alone pauses, and the likely second copy", async () => {
    // Two copies launched at once (two clients, or two windows of one) each keep to 5 requests a second alone, and
    // Airtable answers 429. The warning said "pausing for every process", which the other copy does not.
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, "stdio"],
      env: childEnv({ AIRTABLE_TOKEN: demo.token, AIRTABLE_RATE_LIMIT_PENALTY_MS: "300" }),
      stderr: "pipe",
    });
    let stderr = "";
    transport.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    const client = new Client({ name: "stdio-test", version: "1.0.0" });
    await client.connect(transport);
    try {
      sandbox.penalize({ baseId: demo.base.id }, 200);
      const result = await client.callTool({
        name: "list_records",
        arguments: { baseId: demo.base.id, tableId: "Contacts", fields: ["Name"], pageSize: 1 },
      });
      expect(result.isError).not.toBe(true);
      const warning = stderr.split("\n").find((line) => line.includes("Airtable answered 429")) ?? "";
      expect(warning).not.toMatch(/every process/);
      expect(warning).toMatch(/this process pauses its requests for 0.3 s/);
      expect(warning).toMatch(/a second copy of this stdio server/);
      expect(warning).toMatch(/same REDIS_URL/);
    } finally {
      await client.close();
    }
  });

  it("a write call the client cancels (notifications/cancelled) cancels its operation: the rest is not sent", async () => {
    const { client } = await connect(childEnv({ AIRTABLE_TOKEN: demo.token }));
    try {
      const label = "stdio cancelled";
      const total = 1_000;
      const records = Array.from({ length: total }, (_, i) => ({ fields: { Name: `${label} ${i}` } }));
      const written = () =>
        sandbox.listRecordsDirect(demo.base.id, "Contacts").filter((r) => String(r.fields.Name).startsWith(label))
          .length;
      const cancel = new AbortController();
      const call = client
        .callTool(
          { name: "create_records", arguments: { baseId: demo.base.id, tableId: "Contacts", records } },
          undefined,
          { signal: cancel.signal },
        )
        .catch(() => undefined); // the SDK rejects a call it cancelled
      for (let i = 0; i < 100 && written() < 20; i++) await new Promise((r) => setTimeout(r, 50));
      cancel.abort("the user stopped it");
      expect(written(), "cancelled while the write was running").toBeLessThan(total);
      await call;

      const listed = await client.callTool({ name: "list_operations", arguments: {} });
      const newest = (listed.structuredContent as { operations: { operationId: string }[] }).operations[0]!;
      let status = "";
      for (let i = 0; i < 100 && status !== "cancelled" && status !== "completed"; i++) {
        const polled = await client.callTool({ name: "get_operation", arguments: { operationId: newest.operationId } });
        status = (polled.structuredContent as { status: string }).status;
        if (status === "running") await new Promise((r) => setTimeout(r, 50));
      }
      expect(status).toBe("cancelled");
      expect(written()).toBeLessThan(total);
      const settled = written();
      await new Promise((r) => setTimeout(r, 500));
      expect(written(), "nothing is sent once the operation has ended").toBe(settled);
    } finally {
      await client.close();
    }
  });

  it("without AIRTABLE_TOKEN: one clear message on stderr, nothing on stdout, exit 1", async () => {
    const result = await run(childEnv({}));
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/AIRTABLE_TOKEN: required for the stdio process/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("a DATA_DIR it cannot write its operations in: one line naming it and the fix, exit 1", async () => {
    // The person asked for that directory: running on in memory would drop what they asked for without a word.
    const file = path.join(privateStateDir(), "not-a-directory");
    writeFileSync(file, "");
    const result = await run(childEnv({ AIRTABLE_TOKEN: demo.token, DATA_DIR: file }));
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(`airtable-oauth-mcp stdio: Cannot keep write operations in DATA_DIR ${file} (`);
    expect(result.stderr).toMatch(/Set DATA_DIR to a directory this process can create and write/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("with a token Airtable refuses: says what to do, exit 1", async () => {
    const result = await run(childEnv({ AIRTABLE_TOKEN: "patNOTVALID.123" }));
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/AIRTABLE_TOKEN was refused/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("with the token of an earlier sandbox start: says to use the token the sandbox printed, not airtable.com's", async () => {
    // README's "stdio mode" against `npm run sandbox`: the demo token changes at every start, so a client
    // configured with yesterday's token is refused. Creating a token at airtable.com would not help.
    const result = await run(childEnv({ AIRTABLE_TOKEN: "patFROMANEARLIER.start" }));
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(`refused (401) by the Airtable API at ${sandbox.url} (AIRTABLE_API_URL)`);
    expect(result.stderr).toContain("set AIRTABLE_TOKEN to the token it printed this time");
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("a token written with Bearer or quotes is refused at start, before Airtable is asked; a line end after it is trimmed", async () => {
    // The newcomer's trap: a 401 explained by the sandbox's changing demo token, though this start's token was given.
    for (const token of [`Bearer ${demo.token}`, `"${demo.token}"`, ` "${demo.token}"\n`]) {
      const before = sandbox.requests.length;
      const result = await run(childEnv({ AIRTABLE_TOKEN: token }));
      expect(result.code, JSON.stringify(token)).toBe(1);
      expect(result.stdout).toBe("");
      expect(result.stderr).toMatch(/Invalid configuration \(1 problem\):\n {2}- AIRTABLE_TOKEN: /);
      expect(result.stderr).toMatch(/starts with "Bearer"|wrapped in quotes/);
      expect(result.stderr).not.toContain("demo token");
      expect(result.stderr).not.toContain(demo.token);
      expect(sandbox.requests.length, "nothing was sent").toBe(before);
    }
    // A token read from a file with its final newline (or copied with the line end) works: it is trimmed.
    const { client } = await connect(childEnv({ AIRTABLE_TOKEN: `${demo.token}\n` }));
    try {
      const result = await client.callTool({ name: "list_bases", arguments: {} });
      expect(result.isError, JSON.stringify(result.content)).not.toBe(true);
    } finally {
      await client.close();
    }
  });

  it("AIRTABLE_API_URL with Airtable's /v0 is refused at start, naming the URL to use", async () => {
    const result = await run(childEnv({ AIRTABLE_TOKEN: demo.token, AIRTABLE_API_URL: `${sandbox.url}/v0` }));
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(
      `AIRTABLE_API_URL: drop the /v0: the server adds /v0/… to every request itself (this URL would send them to ` +
        `…/v0/v0/…); use ${sandbox.url} (got "${sandbox.url}/v0")`,
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("a refused personal access token cut short when copied says so", async () => {
    const result = await run(childEnv({ AIRTABLE_TOKEN: demo.token.slice(0, 40) }));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "The token starts with pat but is not a whole personal access token (pat, 14 letters or digits, a dot, 64 hex " +
        "digits: 82 characters; this one has 40): copy it again whole.",
    );
  });

  it("a token refused by an API that is not on this machine (a proxy) is not explained by the sandbox", async () => {
    // The project's sandbox is reached at a loopback name (127.0.0.1, sandbox.localhost); here it listens on this
    // machine's network address, as a proxy in front of Airtable would.
    const address = Object.values(networkInterfaces())
      .flat()
      .find((a) => a !== undefined && a.family === "IPv4" && !a.internal)?.address;
    if (address === undefined) throw new Error("this test needs a non-loopback IPv4 interface");
    const remote = await startSandbox({ host: address });
    try {
      const result = await run(
        childEnv({ AIRTABLE_TOKEN: demo.token, AIRTABLE_API_URL: remote.url, AIRTABLE_CONTENT_URL: remote.url }),
      );
      expect(result.code).toBe(1);
      expect(result.stdout).toBe("");
      expect(result.stderr).toContain(
        `AIRTABLE_TOKEN was refused (401) by the Airtable API at ${remote.url} (AIRTABLE_API_URL), not ` +
          "https://api.airtable.com. Set AIRTABLE_TOKEN to a token that API accepts",
      );
      expect(result.stderr).not.toMatch(/sandbox|demo token/);
    } finally {
      await remote.close();
    }
  });

  it("at Airtable itself a refused token still gets the personal access token advice", () => {
    const message = refusedTokenMessage({ AIRTABLE_API_URL: "https://api.airtable.com" });
    expect(message).toMatch(/^AIRTABLE_TOKEN was refused by Airtable \(401\)\. Create a personal access token/);
    expect(message).not.toContain("sandbox");
  });
});
