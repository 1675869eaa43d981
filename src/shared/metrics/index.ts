export { Metrics, QUEUE_JOB_STATES, type JobCountsSource, type MetricsOptions, type QueueJobState } from "./metrics.ts";
