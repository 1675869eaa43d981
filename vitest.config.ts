import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

/**
 * Tests that measure timing across OS processes (rate limits at the sandbox) are the "timing" project, which
 * `npm test` runs in a second vitest invocation after the "main" project has finished, so that 2 busy cores do
 * not starve them (vitest's groupOrder alone was seen running them beside the main files); everything else runs
 * in parallel (each file has its own Redis key prefix, see tests/helpers/redis.ts).
 */
const timingSensitive = [
  "tests/limiter-cluster.test.ts",
  "tests/server/auth/shared-egress.test.ts",
  "tests/shared/airtable/user-rps-across-bases.test.ts",
  "tests/shared/limiter/idle-burst.test.ts",
  "tests/e2e/worker-recovery-time.test.ts",
  // Answers to a stalled or refusing Redis must come within a bound of seconds.
  "tests/e2e/redis-stall.test.ts",
  "tests/stdio/stdio-redis-stall.test.ts",
  // The burst and the sign-in after it must fall in one second.
  "tests/e2e/sign-in-at-full-rate.test.ts",
  // A read stopped at its 2 s deadline must answer within a second of it.
  "tests/e2e/read-call-deadline.test.ts",
  // The same, for a read whose token is being refreshed (a slow token endpoint), and a second call sharing it.
  "tests/server/mcp/token-refresh-window.test.ts",
  // A client leaving while its token is refreshed (a slow token endpoint).
  "tests/server/mcp/disconnect-during-context.test.ts",
  // A late write must hold the next request back by a second of wall time, well before the late answer (700 ms of
  // slack): failed once in the main group beside other files and a trial's processes on 2 cores (session 26).
  "tests/shared/limiter/late-write.test.ts",
  // Waits out a 4 s Airtable 429 penalty in wall-clock time, polling for the pause it shows (session 27).
  "tests/server/mcp/rate-limit-pause.test.ts",
  "tests/stdio/stdio-rate-limit-pause.test.ts",
  // A request booked a second ahead must still share its window with the five before it, and the limiter's Redis
  // round trips are counted per write burst: both failed once in the main group at load ~8 (three helpers' test runs
  // beside CI, session 31), on the limiter as session 30 left it.
  "tests/shared/limiter/schedule-abort.test.ts",
  "tests/shared/limiter/clustered-limiter.test.ts",
  // Not a timing measurement, but a third-party client process with its own timers (it opens the browser while its
  // callback server is still starting; the headless opener now reloads like a person would): the quiet group.
  "tests/clients/mcp-remote.test.ts",
];

/**
 * Files of the main project at once. Vitest's default (one less than the cores) is 1 on a 2-core host such as CI's,
 * and the files then ran one after another although most of their time is waiting, not computing: Airtable's 5
 * requests per second per base at the sandbox (worker-crash alone writes 2,600 records, ≥ 52 s of it), child
 * processes starting, locks expiring. Measured in session 23 on the 2-core host (main project, wall time): 1 at a
 * time 871 s, 2 → 493 s (cores busy 39 % of it), 3 → 311 s, 4 → 307 s with four limiter tests failing on a timing
 * margin. 2 leaves that margin; hosts with more cores keep vitest's default.
 */
const mainWorkers = Math.max(2, availableParallelism() - 1);

export default defineConfig({
  test: {
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: ["tests/helpers/global-setup.ts"],
    projects: [
      {
        extends: true,
        test: {
          name: "main",
          include: ["tests/**/*.test.ts"],
          exclude: [...timingSensitive, "**/node_modules/**"],
          maxWorkers: mainWorkers,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: "timing", include: timingSensitive, fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
