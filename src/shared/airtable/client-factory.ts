/**
 * How every process builds its Airtable clients: one factory per process, made at start-up from the config's
 * Airtable endpoints, the process's limiter and logger (createAirtableAccess makes the server's and the worker's,
 * stdio makes its own), then one client per user — or per tool call, per operation — with that user's token source.
 * The only `new AirtableClient` in production code, so every client of a process shares the limiter and settings.
 */
import type { Config } from "../config.ts";
import type { AirtableLimiter } from "../limiter/types.ts";
import type { Logger } from "../logger.ts";
import { AirtableClient, type AirtableClientOptions } from "./client.ts";
import type { AirtableAttempt } from "./transport.ts";

/** What a caller says about the client it needs: whom it acts for, and what differs from the process's defaults. */
export interface AirtableClientFor {
  /** The Airtable user id (`usr…`): the limiter's per-user scope. */
  userId: string;
  /** The user's access token; called again with the rejected token after a 401 (see AirtableClientOptions). */
  getAccessToken: (rejected?: string) => Promise<string>;
  /** Default: the factory's logger. A worker passes its operation's child logger. */
  logger?: Logger;
  /** Default: the client's (5 attempts, 4 waits out of a 429). */
  retry?: AirtableClientOptions["retry"];
  /** Called after every HTTP attempt, e.g. `metrics.onAirtableAttempt`. */
  onAttempt?: (attempt: AirtableAttempt) => void;
}

/** Builds the AirtableClient acting for one user. */
export type AirtableClientFactory = (user: AirtableClientFor) => AirtableClient;

/** The factory for a process: `AIRTABLE_API_URL` and `AIRTABLE_CONTENT_URL` from config, one shared limiter. */
export function airtableClientFactory(
  config: Pick<Config, "AIRTABLE_API_URL" | "AIRTABLE_CONTENT_URL">,
  shared: { limiter: AirtableLimiter; logger: Logger },
): AirtableClientFactory {
  return (user) =>
    new AirtableClient({
      apiUrl: config.AIRTABLE_API_URL,
      contentUrl: config.AIRTABLE_CONTENT_URL,
      userId: user.userId,
      getAccessToken: user.getAccessToken,
      limiter: shared.limiter,
      logger: user.logger ?? shared.logger,
      ...(user.retry && { retry: user.retry }),
      ...(user.onAttempt && { onAttempt: user.onAttempt }),
    });
}
