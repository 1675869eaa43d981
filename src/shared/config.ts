import { z } from "zod";

/**
 * The whole environment of every process, as one schema. Names here are a public interface
 * (users' .env files and deploy configs rely on them): rename nothing.
 */
const url = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" });
const trimmedUrl = url.transform((u) => u.replace(/\/+$/, ""));
const positiveInt = z.coerce.number().int().positive();

export const configSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  PUBLIC_URL: trimmedUrl.optional(),
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: "must be a redis:// or rediss:// URL" }).optional(),
  /** Prefix for every Redis key this project writes, so several deployments (or test files) can share one Redis. */
  REDIS_KEY_PREFIX: z.string().min(1).default("atmcp"),
  AIRTABLE_CLIENT_ID: z.string().min(1).optional(),
  AIRTABLE_CLIENT_SECRET: z.string().min(1).optional(),
  AIRTABLE_API_URL: trimmedUrl.default("https://api.airtable.com"),
  AIRTABLE_AUTH_URL: trimmedUrl.default("https://airtable.com"),
  AIRTABLE_CONTENT_URL: trimmedUrl.default("https://content.airtable.com"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  LOG_PRETTY: z.stringbool().default(false),
  /** Airtable's own limits. Lower them if you share the token with other software; never raise them. */
  AIRTABLE_BASE_RPS: positiveInt.max(5).default(5),
  AIRTABLE_USER_RPS: positiveInt.max(50).default(50),
  /** How long a base is paused for every process after Airtable answered 429 (Airtable says 30 s). */
  AIRTABLE_RATE_LIMIT_PENALTY_MS: positiveInt.default(30_000),
});

export type Config = z.infer<typeof configSchema>;

/** What each process cannot start without, beyond the schema's own rules. */
const requiredByRole = {
  server: ["PUBLIC_URL", "REDIS_URL", "AIRTABLE_CLIENT_ID"],
  worker: ["REDIS_URL", "AIRTABLE_CLIENT_ID"],
  stdio: [],
  any: [],
} as const satisfies Record<string, readonly (keyof Config)[]>;

export type ProcessRole = keyof typeof requiredByRole;

export class ConfigError extends Error {
  override name = "ConfigError";
  readonly problems: string[];
  constructor(problems: string[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n  - ${problems.join("\n  - ")}\nSee .env.example for every variable and its meaning.`,
    );
    this.problems = problems;
  }
}

/** Parses the environment; throws one ConfigError listing every problem at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, role: ProcessRole = "any"): Config {
  // Empty strings in .env files mean "unset", not "set to nothing".
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const result = configSchema.safeParse(cleaned);
  const problems: string[] = [];
  if (!result.success) {
    for (const issue of result.error.issues) {
      const name = issue.path.join(".");
      const value = cleaned[name];
      problems.push(
        `${name}: ${issue.message}${value === undefined ? "" : ` (got ${JSON.stringify(redactIfSecret(name, value))})`}`,
      );
    }
  }
  for (const name of requiredByRole[role]) {
    if (cleaned[name] === undefined) problems.push(`${name}: required for the ${role} process but not set`);
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  return result.data;
}

function redactIfSecret(name: string, value: string | undefined): string | undefined {
  return /SECRET|KEY|TOKEN|PASSWORD/.test(name) ? "<redacted>" : value;
}
