/**
 * A read tool call's deadline (READ_CALL_DEADLINE_MS), which also bounds a write tool call's checks before its write
 * is queued (its `plan`: the base's schema, linked-record names looked up by list records). The transport retries a read for a long time on its own (5
 * attempts of up to 30 s each, backoff up to 8 s, up to four 30 s waits after a 429) and a call may make several
 * requests (the schema, then pages), while MCP clients give up on a request after about 60 s (the MCP TypeScript
 * SDK's DEFAULT_REQUEST_TIMEOUT_MSEC; Claude Desktop and other SDK-based clients alike). Without a deadline the
 * agent would get a bare client timeout instead of this server's answer, and the server would go on spending the
 * base's 5 requests per second for a caller who has left. The same stop applies when the MCP request itself is
 * cancelled or its connection closes (its AbortSignal). A write's plan only reads (it queues nothing, see
 * define-tool.ts), so stopping it leaves nothing behind; what happens once the write is queued is the operation's
 * (run-write.ts, WRITE_WAIT_MS) and is not stopped here.
 */
import type { AirtableClient } from "../airtable/client.ts";
import type { RateLimitPause } from "../airtable/transport.ts";
import { newCallProgress, type CallProgress } from "../airtable/call-progress.ts";
import { untilAborted } from "../until-aborted.ts";
import type { ToolContext } from "./define-tool.ts";

/**
 * What runs under the deadline: a read tool's handler ("read") or a write tool's checks before its write is queued
 * ("write_checks", its `plan`), each after the wait for the call's context. Only the agent's message differs: what
 * was not done, and what to do. The tools that read only this server's own records (get_operation, list_operations,
 * cancel_operation) have no deadline: their context waits on nothing (ToolRuntime.ownRecordsContext) and their
 * handler reads Redis, whose commands time out on their own.
 */
export type DeadlineStage = "read" | "write_checks";

/**
 * A read tool call, or a write tool call's checks before queueing, stopped by its deadline: the message says what
 * Airtable did and what to do.
 */
export class ReadCallDeadlineError extends Error {
  override name = "ReadCallDeadlineError";
  /** For the "tool call" log line (errorType). */
  readonly type = "READ_CALL_DEADLINE";
  readonly elapsedMs: number;
  /** What the call's requests had met when it was stopped (a copy). */
  readonly progress: Readonly<CallProgress>;

  constructor(tool: string, deadlineMs: number, elapsedMs: number, progress: CallProgress, stage: DeadlineStage) {
    super(describeStop(tool, deadlineMs, elapsedMs, progress, stage));
    this.elapsedMs = elapsedMs;
    this.progress = { ...progress };
  }
}

/**
 * A read tool call (or a write's checks before queueing) stopped because its MCP request was cancelled or its
 * connection closed: nobody waits for an answer (the SDK sends none for a cancelled request); it names the stop in
 * the log line.
 */
export class ReadCallCancelledError extends Error {
  override name = "ReadCallCancelledError";
  readonly type = "CANCELLED";
  constructor(tool: string, stage: DeadlineStage) {
    super(
      stage !== "write_checks"
        ? `${tool} was cancelled by the MCP client (or its connection closed) before it ended. Nothing was changed.`
        : `${tool} was cancelled by the MCP client (or its connection closed) while its write was being checked: ` +
            `the write was not queued. Nothing was changed.`,
    );
  }
}

/**
 * Runs a read tool's handler (or a write tool's `plan`, `stage` "write_checks") under a deadline of `deadlineMs` from `startedAt` (a `performance.now()` time: when
 * the call arrived) and under the MCP request's signal (`ctx.signal`). The handler gets `ctx` with its Airtable
 * client stopping on either (AirtableClient.withCancelSignal, scope "all"): when one fires, the call rejects at
 * once — with ReadCallDeadlineError (what Airtable did: attempts, answers, time spent) or ReadCallCancelledError
 * — and no further request of the call is sent: a wait in the limiter or a 429 pause ends (its booking
 * withdrawn), a backoff ends, an attempt in flight is aborted (reads are idempotent; a plan sends only reads).
 * Whatever the handler was doing besides (a Redis read) finishes on its own; its outcome is dropped. Per call: one
 * AbortController, one timer, one listener, a progress record and a copy of the client (~2.5 µs measured); per
 * attempt one combined signal (AbortSignal.any, transport.ts). Once `handler` has settled, nothing of the call is
 * stopped any more (the timer and the listener are gone): a write's queueing and its wait come after.
 */
export async function runReadCall<T>(
  tool: string,
  ctx: ToolContext,
  deadlineMs: number,
  startedAt: number,
  handler: (ctx: ToolContext) => Promise<T>,
  stage: DeadlineStage = "read",
): Promise<T> {
  const progress = newCallProgress();
  const stop = callStop(tool, stage, [ctx.signal], { deadlineMs, startedAt }, progress);
  try {
    let airtable: AirtableClient = ctx.airtable.withCancelSignal(stop.signal, { scope: "all", progress });
    const send = ctx.sendProgress;
    if (send !== undefined) {
      // A 429 penalty holds the call's requests up to 30 s: said to a client that asked for progress, so that the
      // silence is explained (a write's checks meet it when the schema is not cached, before anything is queued).
      // Every pause is said, each with a larger progress than the one before (pauseProgress).
      let pauses = 0;
      airtable = airtable.withRateLimitPauses((pause) => {
        const index = pauses++;
        send(pauseProgress(stage, index), undefined, pauseMessage(stage, pause, index)).catch(() => undefined);
      });
    }
    return await untilAborted(handler({ ...ctx, airtable }), stop.signal);
  } finally {
    stop.dispose();
  }
}

/**
 * The `progress` of a call's notification for its `index`-th 429 pause (0 for the first), for runReadCall. The MCP
 * spec (2025-06-18 to 2026-07-28, basic/utilities/progress) says "The `progress` value MUST increase with each
 * notification, even if the total is unknown", and a call's `sendProgress` drops a value not above the last
 * (register-tools.ts), so a constant value would say only the first pause.
 * - "read": the count of pauses before this one (0, 1, 2, …); a read sends no other progress.
 * - "write_checks": 0, 0.25, 0.375, … (halfway nearer 0.5 each time), always below 0.5: the operation's own
 *   notifications follow (run-write.ts: records settled, plus 0.5 while paused), and its first pause, 0.5, must still
 *   be above them. Its first count, 0, is then not sent (README, "How writes work", Errors). Doubles keep these
 *   distinct for 50 pauses, far more than a call's deadline (READ_CALL_DEADLINE_MS) leaves room for.
 */
function pauseProgress(stage: DeadlineStage, index: number): number {
  return stage === "read" ? index : 0.5 - 0.5 ** (index + 1);
}

/**
 * The progress message of a call whose request waits out Airtable's 429 penalty (runReadCall): the base, why (a
 * request to it was answered 429: Airtable's 5 requests per second per base, "Rate limits"), until when and how long
 * from now, that the call goes on by itself, and from the second pause on which pause of the call it is.
 */
function pauseMessage(stage: DeadlineStage, pause: RateLimitPause, index: number): string {
  const seconds = Math.max(1, Math.ceil((pause.until - Date.now()) / 1000));
  const until = `until ${new Date(pause.until).toISOString()} (${seconds} s)`;
  const why =
    "a request to the base was answered 429 Too Many Requests (more than 5 requests per second reached it; other " +
    "apps and scripts using the base count too)";
  const nth = index === 0 ? "" : ` This is the call's pause ${index + 1}.`;
  return stage === "write_checks"
    ? `Checking the write against base ${pause.baseId} before queueing it: paused by Airtable's rate limit (429) ` +
        `${until}: ${why}. Then the check goes on by itself. Nothing is queued yet: no need to call again.${nth}`
    : `Paused by Airtable's rate limit (429) on base ${pause.baseId} ${until}: ${why}. Then this read goes on by ` +
        `itself.${nth}`;
}

/**
 * The stop of one call (runReadCall, awaitCallContext): `signal` aborts with ReadCallDeadlineError (from
 * `progress` as it is then) when `deadline` passes, or with ReadCallCancelledError when one of `signals` aborts (at
 * once when one already has). `dispose` clears the timer and the listeners.
 */
function callStop(
  tool: string,
  stage: DeadlineStage,
  signals: readonly (AbortSignal | undefined)[],
  deadline: { deadlineMs: number; startedAt: number },
  progress: CallProgress,
): { signal: AbortSignal; dispose: () => void } {
  const stop = new AbortController();
  const onCancel = (): void => stop.abort(new ReadCallCancelledError(tool, stage));
  const timer = setTimeout(
    () => stop.abort(deadlineError(tool, deadline, progress, stage)),
    Math.max(0, deadline.deadlineMs - (performance.now() - deadline.startedAt)),
  );
  for (const signal of signals) {
    if (signal?.aborted === true) onCancel();
    else signal?.addEventListener("abort", onCancel, { once: true });
  }
  return {
    signal: stop.signal,
    dispose: () => {
      clearTimeout(timer);
      for (const signal of signals) signal?.removeEventListener("abort", onCancel);
    },
  };
}

function deadlineError(
  tool: string,
  deadline: { deadlineMs: number; startedAt: number },
  progress: CallProgress,
  stage: DeadlineStage,
): ReadCallDeadlineError {
  return new ReadCallDeadlineError(tool, deadline.deadlineMs, performance.now() - deadline.startedAt, progress, stage);
}

/**
 * Whether `tool` reads only this server's own records (a read tool with `noAirtableRequest`: get_operation,
 * list_operations, cancel_operation): its call needs nothing of the user's Airtable sign-in, so its context is built
 * without the user's Airtable token (ToolRuntime.ownRecordsContext), nothing of it waits on Airtable, and it runs
 * under no deadline. Every other call (a read that asks Airtable, a write's checks before queueing) runs under
 * READ_CALL_DEADLINE_MS, its context's wait included. A write tool never reads only our records (its checks read the
 * base).
 */
export function readsOwnRecordsOnly(tool: { kind: "read" | "write"; noAirtableRequest?: true }): boolean {
  return tool.kind === "read" && tool.noAirtableRequest === true;
}

/** The deadline `awaitCallContext` holds a call to: as runReadCall's (`startedAt` a `performance.now()` time). */
export interface CallDeadline {
  deadlineMs: number;
  startedAt: number;
  stage: DeadlineStage;
}

/**
 * The call's context, built by `build` (the server's: it reads the user's Airtable token from the store and, near its
 * expiry, refreshes it at Airtable's token endpoint), awaited under the call's deadline (`deadline`) and under
 * `signals` (the MCP request's, and the client's cancel when it came before the SDK had the call; a client
 * that closed the connection before the SDK had the call never gets here: mcp-router.ts). When one fires first the
 * call rejects at once, with ReadCallDeadlineError (its progress says it was getting the access token: no request
 * of the call was sent) or ReadCallCancelledError; a signal already aborted rejects without calling `build`. The
 * build itself is not stopped: a token refresh is shared by every call of the user waiting for it
 * (AirtableTokenProvider's single flight, and the refresh lock across processes), and a refresh cut off would leave
 * Airtable's single-use refresh token spent for nothing; its outcome is dropped (a rejection counts as handled). A
 * context that arrives after a signal fired is not used either. (A tool that reads only this server's own records
 * has nothing to await: readsOwnRecordsOnly, refuseCancelledCall.)
 */
export async function awaitCallContext<T>(
  tool: string,
  build: () => Promise<T>,
  signals: readonly (AbortSignal | undefined)[],
  deadline: CallDeadline,
): Promise<T> {
  const { stage } = deadline;
  // The time is up while the call is still getting its token: no request of it was sent.
  const progress: CallProgress = { ...newCallProgress(), phase: "token" };
  const stop = callStop(tool, stage, signals, deadline, progress);
  try {
    if (stop.signal.aborted) throw stop.signal.reason as Error;
    const value = await untilAborted(build(), stop.signal);
    // Came too late: the deadline passed, its timer not run yet.
    if (performance.now() - deadline.startedAt >= deadline.deadlineMs) {
      throw deadlineError(tool, deadline, progress, stage);
    }
    return value;
  } finally {
    stop.dispose();
  }
}

/**
 * For a call whose context is not awaited (a tool that reads only this server's own records: its context is built
 * at once, without the user's Airtable token, ToolRuntime.ownRecordsContext): throws ReadCallCancelledError when one
 * of `signals` has already aborted (the client cancelled the call, or closed its connection, before the SDK had it),
 * so such a call does not run (a cancel_operation its client withdrew cancels nothing), as awaitCallContext refuses
 * one. Otherwise returns.
 */
export function refuseCancelledCall(tool: string, signals: readonly (AbortSignal | undefined)[]): void {
  if (signals.some((signal) => signal?.aborted === true)) throw new ReadCallCancelledError(tool, "read");
}

const seconds = (ms: number): string => (ms < 10_000 ? (ms / 1000).toFixed(1) : String(Math.round(ms / 1000)));
const times = (n: number, what: string): string => `${n} ${what}${n === 1 ? "" : "s"}`;

/**
 * The agent's message for a call stopped at its deadline: what happened (Airtable rate limiting, failing, not
 * answering, or the call still waiting its turn), the requests made and the time spent, that nothing changed, and
 * what to do. For a write's checks ("write_checks"): that the write was not queued (a plan queues nothing and sends
 * only reads), and to call again with the same arguments, since nothing of this call runs later.
 */
export function describeStop(
  tool: string,
  deadlineMs: number,
  elapsedMs: number,
  p: CallProgress,
  stage: DeadlineStage = "read",
): string {
  const write = stage === "write_checks";
  let what: string;
  if (p.rateLimited > 0) {
    what =
      `Airtable was rate limiting: it answered 429 Too Many Requests, and after a 429 every request to the base ` +
      `(or account) must wait 30 s (Airtable's rule)`;
  } else if (p.serverErrors > 0) {
    what = `Airtable kept failing with HTTP ${p.lastServerStatus ?? "5xx"}, an error on Airtable's side`;
  } else if (p.timedOut + p.connectionFailed > 0 || p.phase === "in_flight") {
    what = `Airtable did not answer in time`;
  } else if (p.attempts === 0 && p.phase === "token") {
    what = `Airtable did not answer this server's request for your access token (a refresh of your sign-in)`;
  } else if (p.attempts === 0) {
    what =
      `no request could be sent yet: the call was waiting its turn under Airtable's rate limit (5 requests per ` +
      `second per base, shared with your other calls and writes, and a 30 s pause after any 429)`;
  } else {
    what =
      `Airtable answered, but too slowly for the ${times(p.attempts, "request")} ` +
      `${write ? "checking this write" : "this read"} needed`;
  }
  const parts: string[] = [];
  if (p.answered > 0) parts.push(`${p.answered} answered`);
  if (p.serverErrors > 0) {
    parts.push(
      p.serverErrors === 1
        ? `1 failed with HTTP ${p.lastServerStatus}`
        : `${p.serverErrors} failed with server errors (last: HTTP ${p.lastServerStatus})`,
    );
  }
  if (p.rateLimited > 0) parts.push(`${p.rateLimited} answered 429`);
  if (p.timedOut > 0) parts.push(`${p.timedOut} got no answer in time`);
  if (p.connectionFailed > 0) parts.push(`${p.connectionFailed} could not connect`);
  if (p.phase === "in_flight") parts.push(`1 was still waiting for its answer and was cut off`);
  else if (p.phase === "backoff") parts.push(`the next attempt was waiting to retry`);
  else if (p.phase === "queued" && p.rateLimited > 0) parts.push(`the next one was waiting out the pause`);
  else if (p.phase === "queued" && p.attempts > 0) parts.push(`the next one was waiting in the rate limiter`);
  const sent =
    p.attempts === 0
      ? ""
      : ` ${times(p.attempts, "request")} ${p.attempts === 1 ? "was" : "were"} sent to Airtable` +
        `${parts.length > 0 ? `: ${parts.join(", ")}` : ""}.`;
  const stopped = `${tool} was stopped after ${seconds(elapsedMs)} s: ${what}.${sent}`;
  if (write) {
    return (
      `${stopped} No further request of this call is sent: this server gives a write call at most ` +
      `${seconds(deadlineMs)} s (READ_CALL_DEADLINE_MS) to check it against the base (its schema, linked records' ` +
      `names) before queueing it, so that you get this answer before your MCP client gives up. Nothing was ` +
      `changed: the write was NOT queued, and only reads were sent to Airtable; nothing of this call will run ` +
      `later. Call ${tool} again in a minute with the same arguments.`
    );
  }
  return (
    `${stopped} No further request of this call is ` +
    `sent: this server gives a read call at most ${seconds(deadlineMs)} s (READ_CALL_DEADLINE_MS), so that you ` +
    `get this answer before your MCP client gives up. Nothing was changed: ${tool} only reads. Try again in a ` +
    `minute; if this keeps happening, make the read narrower (a filter, fewer fields, fewer records per call): ` +
    `it needs fewer requests to Airtable.`
  );
}
