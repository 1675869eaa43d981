export * from "./errors.ts";
export * from "./schemas.ts";
export { AirtableClient } from "./client.ts";
export { airtableClientFactory } from "./client-factory.ts";
export type { AirtableClientFactory, AirtableClientFor } from "./client-factory.ts";
export { AirtableTransport } from "./transport.ts";
export type { AirtableTransportOptions, HttpMethod, RequestSpec } from "./transport.ts";
export type {
  AirtableAttempt,
  AirtableClientOptions,
  FieldSpec,
  Fields,
  UpdateOptions,
  UploadAttachmentInput,
  UpsertOptions,
  WriteOptions,
} from "./client.ts";
export {
  AIRTABLE_API_ORIGIN,
  MAX_RECORDS_PER_REQUEST,
  MAX_URL_LENGTH,
  backoffDelayMs,
  buildListRecordsRequest,
  classifyFetchError,
  decideRetry,
  encodeSegment,
} from "./request.ts";
export type {
  AttemptObservation,
  FailureKind,
  ListRecordsOptions,
  ListRecordsRequest,
  RetryDecision,
  RetryLimits,
  RetryState,
  SortDirection,
} from "./request.ts";
