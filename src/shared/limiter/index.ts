export type { AirtableLimiter, RateLimitScope } from "./types.ts";
export {
  BottleneckAirtableLimiter,
  defaultLimiterSettings,
  limiterSettingsFrom,
  type LimiterSettings,
  type LimiterHooks,
} from "./airtable-limiter.ts";
export { pacingFor, type Pacing } from "./spacing.ts";
