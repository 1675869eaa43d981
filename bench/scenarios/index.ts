import type { Scenario } from "../scenario.ts";
import { limiterIdleLatency } from "./limiter-idle-latency.ts";
import { limiterRedisCost } from "./limiter-redis-cost.ts";
import { limiterThroughput } from "./limiter-throughput.ts";
import { manyUsers } from "./many-users.ts";
import { mcpListRecordsOverhead } from "./mcp-list-records-overhead.ts";
import { mcpServerPerRequest } from "./mcp-server-per-request.ts";
import { tokenVerification } from "./token-verification.ts";
import { writeChaos } from "./write-chaos.ts";
import { writeFairness } from "./write-fairness.ts";
import { writeOverhead } from "./write-overhead.ts";
import { writeThroughput } from "./write-throughput.ts";
import { writeThroughputBases } from "./write-throughput-bases.ts";

/** Every scenario, in the order they run and print. A new scenario is one file here plus one line below. */
export const scenarios: Scenario[] = [
  limiterThroughput,
  limiterIdleLatency,
  limiterRedisCost,
  mcpListRecordsOverhead,
  mcpServerPerRequest,
  tokenVerification,
  writeThroughput,
  writeThroughputBases,
  writeFairness,
  writeOverhead,
  writeChaos,
  manyUsers,
];
