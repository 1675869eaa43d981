import { randomBytes } from "node:crypto";
import type { Request, Response } from "express";
import { configSchema } from "../../src/shared/config.ts";
import { createLogger } from "../../src/shared/logger.ts";
import { requireBearer } from "../../src/server/auth/bearer.ts";
import { accessTokensFor, revocationListFor, type BearerDeps } from "../../src/server/auth/context.ts";
import { RedisKeyValueStore } from "../../src/shared/kv/redis-key-value-store.ts";
import type { Scenario, ScenarioResult } from "../scenario.ts";
import { median, percentile } from "../support/stats.ts";
import { sampleInterleaved, timed } from "../support/sampling.ts";

/**
 * What checking one of our access tokens costs on every MCP request: requireBearer as a whole (header parse,
 * HS256 JWT verify, one Redis EXISTS on the revocation list) and, separately, its two halves.
 */
const SAMPLES = 2_000;
const WARMUP_ROUNDS = 200;

const formatUs = (ms: number): string => (ms * 1000).toFixed(1);

/** Runs the middleware on a bare request/response pair; resolves when it calls next, rejects if it answers. */
function runMiddleware(handler: ReturnType<typeof requireBearer>, authorization: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    // rawHeaders as Node gives them: requireBearer reads the Authorization field lines from there (a repeated one);
    // originalUrl as Express sets it: the challenge names the metadata of the path asked (/mcp or /mcp/).
    const req = {
      headers: { authorization },
      rawHeaders: ["Authorization", authorization],
      originalUrl: "/mcp",
    } as unknown as Request;
    const res = {
      locals: {},
      setHeader: () => res,
      status: (code: number) => ({ json: (body: unknown) => reject(new Error(`${code}: ${JSON.stringify(body)}`)) }),
    } as unknown as Response;
    void handler(req, res, () => resolve());
  });
}

export const tokenVerification: Scenario = {
  name: "token verification",
  summary:
    "Cost of verifying one of our access tokens in requireBearer (HS256 JWT verify + the Redis revocation " +
    "check), in-process with a real Redis, and of each half alone.",
  async run(ctx): Promise<ScenarioResult> {
    const config = configSchema.parse({
      PUBLIC_URL: "http://127.0.0.1:8080",
      TOKEN_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    });
    const deps: BearerDeps = {
      config,
      kv: new RedisKeyValueStore(ctx.redis),
      keyPrefix: ctx.keyPrefix,
      logger: createLogger({ level: "silent" }),
    };
    const accessTokens = accessTokensFor(config);
    const revocations = revocationListFor(deps);
    const bearer = requireBearer(deps);
    const token = await accessTokens.issue({
      userId: "usrBench",
      clientId: "bench-client",
      scopes: ["records:read", "schema:read"],
      grantId: "gr_bench",
    });
    const authorization = `Bearer ${token}`;

    const variants = [
      {
        part: "requireBearer (JWT verify + Redis EXISTS)",
        sample: () => timed(() => runMiddleware(bearer, authorization)),
      },
      { part: "JWT verify alone (AccessTokens.verify)", sample: () => timed(() => accessTokens.verify(token)) },
      { part: "revocation check alone (Redis EXISTS)", sample: () => timed(() => revocations.has("gr_bench")) },
    ];

    const samples = await sampleInterleaved(
      variants.map((v) => v.sample),
      { warmupRounds: WARMUP_ROUNDS, samples: SAMPLES, progress: (m) => ctx.progress(m) },
    );

    const stats = variants.map((v, i) => ({
      part: v.part,
      samples: samples[i]!.length,
      medianUs: median(samples[i]!) * 1000,
      p95Us: percentile(samples[i]!, 95) * 1000,
    }));
    return {
      columns: ["part", "median µs", "p95 µs"],
      rows: stats.map((s, i) => [s.part, formatUs(median(samples[i]!)), formatUs(percentile(samples[i]!, 95))]),
      notes: [
        `${SAMPLES} sequential calls per row after ${WARMUP_ROUNDS} warm-up rounds, rows interleaved round by round.`,
        "The middleware runs in-process on a bare request/response pair (no HTTP); timed until it calls next().",
        "JWT verify is jose's jwtVerify with HS256 plus our claim checks; the revocation check is one EXISTS on the " +
          "run's Redis connection over localhost, so its time is mostly the round trip.",
      ],
      data: { samples: SAMPLES, warmupRounds: WARMUP_ROUNDS, rows: stats },
    };
  },
};
