import { InMemoryTransport, type JSONRPCMessage } from "@modelcontextprotocol/server";
import { createLogger } from "../../src/shared/logger.ts";
import { allTools } from "../../src/shared/tools/catalog.ts";
import { toolCompilationCount } from "../../src/shared/tools/compile-tools.ts";
import { createMcpServer } from "../../src/shared/tools/create-mcp-server.ts";
import { buildInstructions } from "../../src/shared/tools/instructions.ts";
import type { ToolRuntime } from "../../src/shared/tools/register-tools.ts";
import type { Scenario, ScenarioResult } from "../scenario.ts";
import { sampleInterleaved, timed } from "../support/sampling.ts";
import { median, percentile } from "../support/stats.ts";

/**
 * What the stateless /mcp pays per request before any tool runs: a fresh McpServer with the whole catalog
 * registered (the server factory, once per HTTP request in either protocol era), and that server answering a
 * tools/list, in process (no HTTP, no client-side validation). The catalog's schemas are compiled once per
 * process (src/shared/tools/compile-tools.ts); this shows what is left per request.
 */
const SAMPLES = 1_000;
const WARMUP_ROUNDS = 100;

const formatUs = (ms: number): string => (ms * 1000).toFixed(0);

export const mcpServerPerRequest: Scenario = {
  name: "mcp server per request",
  summary:
    "Cost of the per-request MCP server (createMcpServer with the full catalog) and of it answering tools/list, " +
    "in process, as the stateless /mcp does for every request.",
  async run(ctx): Promise<ScenarioResult> {
    const logger = createLogger({ level: "silent" });
    const instructions = buildInstructions(allTools);
    const runtime: ToolRuntime = {
      context: async () => {
        throw new Error("no tool runs in this scenario");
      },
      ownRecordsContext: () => {
        throw new Error("no tool runs in this scenario");
      },
      runWrite: async () => ({ content: [] }),
      logger,
    };
    const compilationsBefore = toolCompilationCount();

    const build = () => timed(async () => createMcpServer(allTools, runtime, instructions));
    const buildAndList = () =>
      timed(async () => {
        const server = createMcpServer(allTools, runtime, instructions);
        const [serverSide, clientSide] = InMemoryTransport.createLinkedPair();
        await server.connect(serverSide);
        const answered = new Promise<JSONRPCMessage>((resolve) => (clientSide.onmessage = resolve));
        await clientSide.start();
        await clientSide.send({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} });
        const answer = (await answered) as { result?: { tools: unknown[] } };
        if (answer.result?.tools.length !== allTools.length)
          throw new Error(`unexpected answer ${JSON.stringify(answer)}`);
        await server.close();
      });
    const variants = [
      { part: `createMcpServer (${allTools.length} tools)`, sample: build },
      { part: "createMcpServer + tools/list answered", sample: buildAndList },
    ];
    const samples = await sampleInterleaved(
      variants.map((v) => v.sample),
      { warmupRounds: WARMUP_ROUNDS, samples: SAMPLES, progress: (m) => ctx.progress(m) },
    );
    const compilations = toolCompilationCount() - compilationsBefore;
    const stats = variants.map((v, i) => ({
      part: v.part,
      medianUs: median(samples[i]!) * 1000,
      p95Us: percentile(samples[i]!, 95) * 1000,
    }));
    return {
      columns: ["part", "median µs", "p95 µs"],
      rows: stats.map((s, i) => [s.part, formatUs(median(samples[i]!)), formatUs(percentile(samples[i]!, 95))]),
      notes: [
        `${SAMPLES} sequential samples per row after ${WARMUP_ROUNDS} warm-up rounds, rows interleaved round by round.`,
        `Catalog compilations during the run: ${compilations} (the catalog is compiled once per process).`,
        "tools/list goes over the SDK's in-memory transport as a 2025-era request (the stateless /mcp answers it " +
          "without initialize); HTTP, auth and JSON parsing are not included.",
      ],
      data: { samples: SAMPLES, warmupRounds: WARMUP_ROUNDS, compilations, rows: stats },
    };
  },
};
