import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { AirtableClient } from "../../src/shared/airtable/index.ts";
import { startSandbox } from "../../src/sandbox/index.ts";
import { callTool, resultText, signInAndConnect } from "../../tests/e2e/helpers/mcp-client.ts";
import { TestOAuthProvider } from "../../tests/e2e/helpers/test-oauth-provider.ts";
import type { Scenario, ScenarioResult } from "../scenario.ts";
import { IdlePool } from "../support/idle-pool.ts";
import { startInProcessServer } from "../support/in-process-server.ts";
import { PassThroughLimiter } from "../support/pass-through-limiter.ts";
import { sampleInterleaved, timed, versusFirst } from "../support/sampling.ts";

/**
 * What the MCP server adds to one page of records: a list_records tool call through the MCP SDK's client
 * (Streamable HTTP, bearer token from the real OAuth sign-in) against the real server app, versus the same
 * page fetched with AirtableClient directly. Rounds alternate which call goes first.
 */
const SAMPLES = 200;
const WARMUP_ROUNDS = 20;
const RECORDS_PER_PAGE = 20;
/** Bases the calls rotate over, each reused only after REST_MS, so the 5 req/s per base never makes anyone wait. */
const BASES = 32;
const REST_MS = 300;
/** One signed-in user makes every MCP call: sequential calls outrun Airtable's 50 req/s per user (see notes). */
const USER_RPS = 1_000;

export const mcpListRecordsOverhead: Scenario = {
  name: "mcp list_records overhead",
  summary:
    "Latency of a list_records tool call through the MCP SDK client and the real server (OAuth bearer, clustered " +
    "limiter) versus a direct AirtableClient.listRecords of the same page, against the sandbox at 0 ms latency.",
  async run(ctx): Promise<ScenarioResult> {
    const sandbox = await startSandbox({ perBaseRps: 5, perTokenRps: USER_RPS });
    const server = await startInProcessServer({
      sandbox,
      redis: ctx.redis,
      keyPrefix: ctx.keyPrefix,
      limiterSettings: { userRps: USER_RPS },
    });
    let mcp: Client | undefined;
    try {
      const user = sandbox.addUser({ email: "bench-mcp@example.com" });
      const bases = Array.from({ length: BASES }, (_, i) => {
        const base = sandbox.createBase(user.id, {
          name: `Overhead ${i}`,
          tables: [
            {
              name: "Items",
              fields: [
                { name: "Name", type: "singleLineText" },
                { name: "Notes", type: "multilineText" },
              ],
              records: Array.from({ length: RECORDS_PER_PAGE }, (_, r) => ({
                Name: `item ${r}`,
                Notes: "x".repeat(80),
              })),
            },
          ],
        });
        return { baseId: base.id, tableId: base.tables[0]!.id };
      });
      const pool = new IdlePool(BASES, REST_MS);

      ctx.progress("signing in through OAuth with the MCP SDK client");
      ({ client: mcp } = await signInAndConnect(server.mcpUrl, new TestOAuthProvider({ sandboxUser: user.id })));
      const signedIn = mcp;
      const token = sandbox.createPersonalAccessToken(user.id);
      const direct = new AirtableClient({
        apiUrl: sandbox.url,
        contentUrl: sandbox.url,
        userId: user.id,
        getAccessToken: async () => token,
        limiter: new PassThroughLimiter(),
      });

      const variants = [
        {
          call: "client.listRecords (direct, pass-through limiter)",
          sample: async () => {
            const b = bases[await pool.take()]!;
            return timed(() => direct.listRecords(b.baseId, b.tableId, { pageSize: RECORDS_PER_PAGE }));
          },
        },
        {
          call: "MCP tools/call list_records",
          sample: async () => {
            const b = bases[await pool.take()]!;
            return timed(async () => {
              const result = await callTool(signedIn, "list_records", { ...b, pageSize: RECORDS_PER_PAGE });
              if (result.isError) throw new Error(`list_records failed: ${resultText(result)}`);
            });
          },
        },
      ];

      const samples = await sampleInterleaved(
        variants.map((v) => v.sample),
        { warmupRounds: WARMUP_ROUNDS, samples: SAMPLES, progress: (m) => ctx.progress(m) },
      );

      const table = versusFirst(
        variants.map((v) => v.call),
        samples,
      );
      const notes = [
        `${SAMPLES} sequential samples per row after ${WARMUP_ROUNDS} warm-up rounds, rows interleaved round by ` +
          `round; each call reads one page of ${RECORDS_PER_PAGE} records (2 fields) from one of ${BASES} bases, ` +
          `each base reused only after ≥ ${REST_MS} ms, so the 5 req/s per base never makes a call wait.`,
        "The MCP row is the whole path: the SDK client's HTTP POST (JSON-RPC, Streamable HTTP) to the real server " +
          "app on localhost, bearer JWT verify + Redis revocation check, the user's Airtable token from the Redis " +
          "token store (decrypted), the schema cache (Redis), the clustered limiter on an idle base, the Airtable " +
          "call, and output shaping/validation. The direct row is AirtableClient alone with a pass-through limiter.",
        `Limits raised for this scenario only: Airtable's per-user 50 req/s (sandbox per token and the limiter's ` +
          `userRps) is set to ${USER_RPS}, because one signed-in user calls back to back; the per-base 5 req/s is real.`,
        "Sandbox in-process at 0 ms latency; the MCP client signed in once through the real OAuth flow (DCR, PKCE, " +
          "consent, sandbox Airtable sign-in) before warm-up.",
      ];
      const refused = sandbox.count429();
      if (refused > 0) notes.push(`WARNING: the sandbox answered ${refused} requests with 429; numbers are off.`);
      return {
        columns: table.columns,
        rows: table.rows,
        notes,
        data: {
          samples: SAMPLES,
          warmupRounds: WARMUP_ROUNDS,
          recordsPerPage: RECORDS_PER_PAGE,
          count429: refused,
          rows: table.stats,
        },
      };
    } finally {
      await mcp?.close().catch(() => undefined);
      await server.close();
      await sandbox.close();
    }
  },
};
