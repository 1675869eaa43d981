export type { AirtableLimiter, RateLimitScope, ScheduleOptions, SendTiming } from "./types.ts";
export {
  BottleneckAirtableLimiter,
  defaultLimiterSettings,
  limiterSettingsFrom,
  type LimiterLocalState,
  type LimiterSettings,
  type LimiterHooks,
} from "./airtable-limiter.ts";
