/**
 * `npm run bench`: performance numbers for the README, measured against the sandbox (Airtable's limits, enforced
 * strictly) and a real Redis. Markdown on stdout, the same results as JSON in .bench/results.json, progress on
 * stderr.
 *   REDIS_URL      default redis://127.0.0.1:6379
 *   BENCH_SECONDS  measurement duration per duration-based scenario, default 10
 *   BENCH_ONLY     run only the scenarios whose name contains this, e.g. BENCH_ONLY=throughput
 */
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { Redis } from "ioredis";
import type { Scenario, ScenarioResult } from "./scenario.ts";
import { scenarios } from "./scenarios/index.ts";
import { machineFacts, type MachineFacts } from "./support/machine.ts";
import { markdownTable } from "./support/markdown.ts";
import { BenchSetupError, connectRedis, deleteKeys } from "./support/redis.ts";
import { readSettings, type BenchSettings } from "./support/settings.ts";

const resultsFile = fileURLToPath(new URL("../.bench/results.json", import.meta.url));

function select(only: string | undefined): Scenario[] {
  if (only === undefined) return scenarios;
  const chosen = scenarios.filter((s) => s.name.toLowerCase().includes(only.toLowerCase()));
  if (chosen.length === 0) {
    const names = scenarios.map((s) => `"${s.name}"`).join(", ");
    throw new BenchSetupError(`BENCH_ONLY="${only}" matches no scenario. Scenarios: ${names}.`);
  }
  return chosen;
}

const slug = (name: string) => name.toLowerCase().replace(/[^a-z0-9]+/g, "-");

function header(machine: MachineFacts, settings: BenchSettings): string {
  return [
    "## Benchmarks",
    "",
    `- Node ${machine.node} on ${machine.platform}, ${machine.cpuCount} CPUs (${machine.cpuModel}), ` +
      `${machine.memoryGiB} GiB RAM; Redis ${machine.redisVersion}`,
    `- ${machine.date}, BENCH_SECONDS=${settings.seconds}, load average at start ${machine.loadAverage}`,
  ].join("\n");
}

function section(scenario: Scenario, result: ScenarioResult): string {
  const notes = result.notes.map((n) => `- ${n}`).join("\n");
  return [`### ${scenario.name}`, "", scenario.summary, "", markdownTable(result.columns, result.rows), "", notes].join(
    "\n",
  );
}

async function runAll(redis: Redis, settings: BenchSettings, runPrefix: string): Promise<void> {
  const chosen = select(settings.only);
  const machine = await machineFacts(redis);
  const started = performance.now();
  const outputs: { scenario: Scenario; result: ScenarioResult; seconds: number }[] = [];
  for (const scenario of chosen) {
    const scenarioStarted = performance.now();
    process.stderr.write(`bench: ${scenario.name}…\n`);
    const result = await scenario.run({
      redis,
      redisUrl: settings.redisUrl,
      keyPrefix: `${runPrefix}:${slug(scenario.name)}`,
      seconds: settings.seconds,
      progress: (message) => process.stderr.write(`bench:   ${message}\n`),
    });
    outputs.push({ scenario, result, seconds: (performance.now() - scenarioStarted) / 1000 });
  }

  const markdown = [header(machine, settings), ...outputs.map((o) => section(o.scenario, o.result))].join("\n\n");
  process.stdout.write(`${markdown}\n`);
  await mkdir(fileURLToPath(new URL("../.bench/", import.meta.url)), { recursive: true });
  const json = {
    machine,
    settings: { seconds: settings.seconds, only: settings.only ?? null },
    totalSeconds: (performance.now() - started) / 1000,
    scenarios: outputs.map(({ scenario, result, seconds }) => ({
      name: scenario.name,
      summary: scenario.summary,
      seconds,
      columns: result.columns,
      rows: result.rows,
      notes: result.notes,
      data: result.data,
    })),
    markdown,
  };
  await writeFile(resultsFile, `${JSON.stringify(json, null, 2)}\n`);
  process.stderr.write(`bench: done in ${json.totalSeconds.toFixed(0)} s; results in ${resultsFile}\n`);
}

async function main(): Promise<number> {
  let redis: Redis | undefined;
  // Unique per run so two runs (or a run and the tests) never share limiter state.
  const runPrefix = `bench:${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
  try {
    const settings = readSettings(process.env);
    redis = await connectRedis(settings.redisUrl);
    await runAll(redis, settings, runPrefix);
    return 0;
  } catch (error) {
    if (error instanceof BenchSetupError) process.stderr.write(`bench: ${error.message}\n`);
    else
      process.stderr.write(
        `bench: failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    return 1;
  } finally {
    if (redis !== undefined && redis.status === "ready") {
      await deleteKeys(redis, runPrefix);
      redis.disconnect();
    }
  }
}

// Exit explicitly: a timer left behind by a library must not keep a finished benchmark alive.
process.exit(await main());
