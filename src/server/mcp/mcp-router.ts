import { AsyncLocalStorage } from "node:async_hooks";
import type { AuthInfo } from "@modelcontextprotocol/server";
import express, { type NextFunction, type Request, type RequestHandler, type Response } from "express";
import type { Scope } from "../../shared/auth/scopes.ts";
import type { Logger } from "../../shared/logger.ts";
import { misconfigurationOf } from "../../shared/misconfiguration.ts";
import type { OperationReader } from "../../shared/operations/operation-store.ts";
import { UnreadableOperationLogError } from "../../shared/operations/unreadable-log.ts";
import type { OperationTaskStore } from "../../shared/tasks/operation-task-store.ts";
import { undeclaredTaskSubscription } from "../../shared/tasks/task-handlers.ts";
import { ALL_CANCEL_SCOPES, scopesToCancel } from "../../shared/tools/catalog.ts";
import { readsOwnRecordsOnly } from "../../shared/tools/read-call.ts";
import type { AnyToolDefinition } from "../../shared/tools/define-tool.ts";
import { buildInstructions, type InstructionSettings } from "../../shared/tools/instructions.ts";
import {
  DEFAULT_READ_CALL_DEADLINE_MS,
  type BaseToolContext,
  type ToolRuntime,
} from "../../shared/tools/register-tools.ts";
import { JSON_RPC, sendJsonRpcError } from "./json-rpc-error.ts";
import { readJsonBody, type ClientLeftBeforeRead } from "./read-json-body.ts";
import { mcpCors, type BrowserOrigins } from "../cors.ts";
import { acceptedAnswer, type AcceptedAnswer } from "./accept.ts";
import type { CallCancels } from "./call-cancels.ts";
import { createDualEraHandlers, type AnswerShape } from "./dual-era-handler.ts";
import { opensInBrowser, sendEndpointPage } from "./endpoint-page.ts";
import { hostGuard, originGuard } from "./request-guards.ts";
import {
  presentVersionToSdk,
  STALE_HEADER_CLIENTS_NAMED,
  StaleHeaderClients,
  staleHeaderClient,
  staleLegacyVersionHeader,
} from "./stale-version-header.ts";

export interface McpRouterDeps {
  /** Verifies the bearer token and sets `req.auth` (401 with a challenge otherwise). */
  authenticate: RequestHandler;
  /**
   * The caller's tool context (Airtable client acting as them, caches, logger); only built when a tool that asks
   * Airtable runs, and awaited before the SDK has the call (a lost Airtable sign-in then becomes an HTTP 401).
   */
  buildContext(req: Request): Promise<BaseToolContext>;
  /**
   * The caller's context for the tools that read only this server's own records (get_operation, list_operations,
   * cancel_operation: ToolRuntime.ownRecordsContext), built at once without the user's Airtable token: such a call
   * waits on nothing of Airtable and is served whatever the user's Airtable sign-in is (expired and refreshing at a
   * slow token endpoint, or revoked).
   */
  buildOwnRecordsContext(req: Request): BaseToolContext;
  tools: readonly AnyToolDefinition[];
  /**
   * Browser origins allowed to call /mcp (CORS and the Origin check, ../cors.ts), built by the caller once for
   * every route that shares /mcp's CORS (app.ts: the wrong-endpoint hints too); `*` among them allows every origin.
   * Requests without Origin always pass.
   */
  allowedOrigins: BrowserOrigins;
  /** Host header values accepted (`host` or `host:port`); empty: no check. */
  allowedHosts: readonly string[];
  /** Added to a refused Host's error: the host expected and the setting that changes it (hostPolicy). */
  hostHint?: string;
  logger: Logger;
  /** Answers 403 with `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"`. */
  insufficientScope(res: Response, needed: readonly Scope[]): void;
  /** The verified token's user id: whose operations and tasks a request may see, cancel and read. */
  callerUserId(req: Request): string;
  /**
   * The write operations' logs, read as their owner: a cancel (cancel_operation, `tasks/cancel`) needs the scopes of
   * the tool that made the operation it names, so the router reads the operation's kind before the call runs.
   */
  operations: OperationReader;
  /**
   * 2025-era tool calls in flight, for their clients' `notifications/cancelled` (call-cancels.ts); absent, such a
   * notification reaches no call.
   */
  cancels?: CallCancels;
  /** Largest accepted request body; default 1 MB. */
  maxBodyBytes?: number;
  /** Runs write tools (queued operations, issue 4). */
  runWrite?: ToolRuntime["runWrite"];
  /**
   * MCP Tasks over the write operations (2026-07-28 `io.modelcontextprotocol/tasks`): with it, a write called by a
   * request that declares the extension answers with a task, and `tasks/*` are served, as `callerUserId`'s.
   */
  tasks?: { store: OperationTaskStore };
  /**
   * Counts a request served under the MCP-Protocol-Version header exception (stale-version-header.ts), by client:
   * its `name version` (or User-Agent) for the first 32 distinct ones in this process, "other" after (/metrics).
   */
  onStaleVersionHeader?: (client: string) => void;
  /** Observes every tool call's duration and outcome (/metrics). */
  onToolCall?: ToolRuntime["onToolCall"];
  /** READ_CALL_DEADLINE_MS (ToolRuntime's readCallDeadlineMs); default the config's default. */
  readCallDeadlineMs?: number;
  /** The settings the MCP instructions quote (records per call, write wait); default: the config's defaults. */
  instructionSettings?: InstructionSettings;
}

type AuthedRequest = Request & { auth?: AuthInfo };

/** Methods a browser client may use on /mcp: GET and DELETE only ever get 405 here, but readable ones. */
const MCP_METHODS = ["GET", "POST", "DELETE"] as const;

/**
 * `POST /mcp`: MCP Streamable HTTP, stateless, both protocol eras on one URL (dual-era-handler.ts): 2026-07-28
 * requests (per-request `_meta`, `server/discover`) and 2025-era clients (`initialize`, 2025-11-25 / 2025-06-18).
 * Every request gets a fresh McpServer (no session, no Mcp-Session-Id), so any instance serves any request. In
 * order: CORS (an allowed origin's preflight is answered there), Host and Origin checks (DNS rebinding),
 * authentication, content negotiation (accept.ts), body limit and JSON parsing, the scope check of `tools/call` and
 * `tasks/*` (a cancel's by the operation it names, missingCancelScopes), then the SDK v2 (its era classification,
 * then the request).
 */
export function createMcpRouter(deps: McpRouterDeps): express.Router {
  const router = express.Router();
  const maxBodyBytes = deps.maxBodyBytes ?? 1024 * 1024;
  const readCallDeadlineMs = deps.readCallDeadlineMs ?? DEFAULT_READ_CALL_DEADLINE_MS;
  const toolsByName = new Map(deps.tools.map((t) => [t.name, t]));
  const origins = deps.allowedOrigins;

  // Every method, so that refusals (403) and 405s carry the CORS headers too.
  router.all("/mcp", mcpCors(origins, MCP_METHODS), hostGuard(deps.allowedHosts, deps.hostHint), originGuard(origins));

  const instructions = buildInstructions(deps.tools, deps.instructionSettings);
  // The store is a holder emptied once the request is served, not the runtime itself. Since Node 24 every timer,
  // socket and I/O request made inside `run` keeps the async context (this store) reachable until it fires or is
  // replaced: a keep-alive connection's idle timer (Node's HTTP server arms it as the answer finishes) kept the
  // request it last served (its req/res, the SDK's server, the tool runtime with its Airtable client) until the
  // client's next request, ~2 s at the benchmark's pace, so every answered request outlived a young-generation
  // collection and went to the old one (issue 15: GC and RSS per call). Emptied, a kept context holds 2 words.
  const requestRuntime = new AsyncLocalStorage<{ runtime?: ToolRuntime }>();
  // Built once per router: the SDK's handlers and the compiled tool catalog; a request only binds its runtime.
  const handlers = createDualEraHandlers({
    tools: deps.tools,
    instructions,
    runtime: () => {
      const runtime = requestRuntime.getStore()?.runtime;
      if (runtime === undefined) throw new Error("MCP server factory called outside a /mcp request");
      return runtime;
    },
    logger: deps.logger,
    ...(deps.cancels !== undefined && { cancels: deps.cancels }),
  });

  // The clients served under the header exception, each logged once (info) and counted per client in /metrics:
  // the operator's way to see when the exception is still used, so that it can go once they are fixed.
  const staleHeaderClients = new StaleHeaderClients();
  const noteStaleHeader = (req: AuthedRequest, body: unknown, revision: string): void => {
    const header = req.headers["mcp-protocol-version"];
    const who = staleHeaderClient(req, body);
    const { label, log } = staleHeaderClients.note(who.client);
    deps.onStaleVersionHeader?.(label);
    if (log === "first") {
      deps.logger.info(
        { ...who, header, revision },
        "served a 2026-07-28 request whose MCP-Protocol-Version header names a 2025 revision " +
          "(the exception for anthropics/claude-code#93290); logged once per client and process",
      );
    } else if (log === "full") {
      deps.logger.info(
        { ...who, header, revision, clientsNamed: STALE_HEADER_CLIENTS_NAMED },
        "served a 2026-07-28 request whose MCP-Protocol-Version header names a 2025 revision " +
          `(the exception for anthropics/claude-code#93290) to one more client; ${STALE_HEADER_CLIENTS_NAMED} ` +
          `clients were named already, so later ones are counted as "other" and not logged`,
      );
    } else {
      deps.logger.debug({ client: who.client, header, revision }, "stale MCP-Protocol-Version header");
    }
  };

  const notAllowed: RequestHandler = (req, res) => {
    res.setHeader("Allow", "POST");
    // One URL, two answers by Accept: a cache must not give a browser's page to an MCP client, or the reverse.
    res.vary("Accept");
    // The banner's URL opened in a browser: a page for the person (endpoint-page.ts); MCP clients keep the JSON.
    if (opensInBrowser(req)) return sendEndpointPage(res);
    sendJsonRpcError(res, 405, JSON_RPC.serverError, "Method not allowed: this server is stateless; use POST /mcp");
  };
  // HEAD is how Gemini CLI asks a server whether it needs a sign-in (google-gemini/gemini-cli, mcp-client.ts and
  // oauth-provider.ts `authenticate`: `HEAD <url>` with `Accept: application/json`, reading WWW-Authenticate from a
  // 401 only). A 405 sent it to discovery at the bare origin, whose metadata names `<origin>/mcp` as the resource,
  // which it refuses as "Protected resource … does not match expected <origin>/" (stripe/ai#221): the
  // automatic sign-in (`"oauth": {"enabled": true}`) never started. So HEAD is authenticated first, like POST: no
  // credentials get the 401 challenge (no body, as for any HEAD), a valid token the usual 405. GET keeps its 405
  // without credentials: a client's GET is its optional SSE stream, and a 401 there would send it to sign in again
  // for a method this server never serves. A browser's HEAD keeps the page's 405 (endpoint-page.ts).
  // Registered before GET: Express would otherwise answer HEAD with the GET route.
  router.head(
    "/mcp",
    (req, res, next) => (opensInBrowser(req) ? notAllowed(req, res, next) : next()),
    deps.authenticate,
    notAllowed,
  );
  router.get("/mcp", notAllowed);
  router.delete("/mcp", notAllowed);
  router.put("/mcp", notAllowed);
  router.patch("/mcp", notAllowed);

  router.post("/mcp", deps.authenticate, (req, res, next) => {
    handlePost(req, res, next).catch((error: unknown) => {
      deps.logger.error({ err: error }, "MCP request failed");
      if (!res.headersSent && !clientLeft(res)) sendJsonRpcError(res, 500, -32603, "Internal server error");
    });
  });

  async function handlePost(req: AuthedRequest, res: Response, next: NextFunction): Promise<void> {
    const accepted = acceptedAnswer(req);
    if (accepted === undefined) {
      return sendJsonRpcError(
        res,
        406,
        JSON_RPC.serverError,
        "Not Acceptable: /mcp answers application/json or text/event-stream; send Accept: application/json, text/event-stream",
      );
    }
    const read = await readJsonBody(req, maxBodyBytes);
    if (read.kind === "client_left") return leftBeforeRead(req, read);
    if (read.kind === "too_large") {
      res.setHeader("Connection", "close");
      return sendJsonRpcError(res, 413, JSON_RPC.serverError, `Request body larger than ${maxBodyBytes} bytes`);
    }
    if (read.kind === "invalid_json") {
      return sendJsonRpcError(res, 400, JSON_RPC.parseError, "Parse error: invalid JSON");
    }
    // A 2026-07-28 body whose MCP-Protocol-Version header still names a 2025 revision (Claude's connectors) is
    // served as the body's revision instead of refused with -32020: stale-version-header.ts says why.
    const revision = staleLegacyVersionHeader(req, read.body);
    if (revision !== undefined) {
      noteStaleHeader(req, read.body, revision);
      presentVersionToSdk(req, revision);
    }
    // A tool call's deadline counts from here: its body has arrived (however slowly it was sent), and what follows
    // is this server's work, building its context (a refresh of the user's Airtable token) included.
    const arrivedAt = performance.now();
    const messages: unknown[] = Array.isArray(read.body) ? read.body : [read.body];
    // A single request (2026-07-28 has no batches; the SDK refuses one with its own answer).
    const undeclared = Array.isArray(read.body) ? undefined : undeclaredTaskSubscription(read.body);
    if (undeclared !== undefined) {
      // 400, as the SDK answers its own in-band -32021 (tasks/* without the extension).
      const { id, error } = undeclared;
      res
        .status(400)
        .json({ jsonrpc: "2.0", id, error: { code: error.code, message: error.message, data: error.data } });
      return;
    }

    const granted = new Set(req.auth?.scopes ?? []);
    const called = calledTools(messages, toolsByName);
    for (const tool of [...called, ...taskMethodTools(messages, toolsByName)]) {
      if (!tool.scopes.every((s) => granted.has(s))) return deps.insufficientScope(res, tool.scopes);
    }
    // A 2025-era tools/call is tracked for its client's cancel from here on (call-cancels.ts): a cancel that arrives
    // while its context is built (a refresh of the user's Airtable token can take seconds) stops it before it runs.
    const call = handlers.openCall(req, read.body);
    try {
      let cancelNeeds: readonly Scope[] | undefined;
      try {
        cancelNeeds = await missingCancelScopes(messages, granted, req);
      } catch (error) {
        return next(error); // the log could not be read (Redis away): the app's error handler answers 503
      }
      if (cancelNeeds !== undefined) return deps.insufficientScope(res, cancelNeeds);

      // Built before the SDK sees a tool call that asks Airtable, so a failure (e.g. the user's Airtable grant was
      // revoked) reaches the app's error handler and can become an HTTP answer (401 + challenge) instead of a tool
      // error. Not for the tools that read only this server's own records (their context needs no Airtable token):
      // an agent polling get_operation must not wait on every poll for a refresh at Airtable's token endpoint, and a
      // user whose Airtable sign-in ended can still see and cancel their operations. A batch with any other tool
      // builds it for that one.
      const context = memoize(() => deps.buildContext(req));
      if (called.some((tool) => !readsOwnRecordsOnly(tool)) && call?.cancelled !== true) {
        // Until the call's deadline at most: a hung Airtable token endpoint must not hold the call past it. Past it,
        // or once the client cancelled the call, the SDK gets the call at once and its handler answers
        // (awaitCallContext, read-call.ts); the build goes on for whoever shares it. A client that left ends the
        // wait too (below).
        try {
          await settledOrStopped(context(), arrivedAt + readCallDeadlineMs, call?.signal, res);
        } catch (error) {
          // A misconfigured server (e.g. a sign-in it cannot decrypt) is no HTTP matter: the tool call answers it,
          // saying which setting the operator must fix (tool-errors.ts), instead of a bare HTTP 500.
          if (misconfigurationOf(error) === undefined) return next(error);
        }
      }
      // The client closed the connection (without a cancel: a client that aborts its fetch, or crashed) before the
      // SDK had the call, which the SDK watches for only once it has it: nobody reads the answer, so the call never
      // runs (the SDK, handed a request whose connection had already closed, ran a 2025-era call and sent its
      // Airtable requests once the refresh ended). Counted and logged as a call cancelled before it ran; the context
      // build goes on for whoever shares it, as above. From here to the SDK's own watch (the Node adapter's `close`
      // listener, then the request's signal) no I/O event can come in between: only promise jobs run.
      if (called.length > 0 && clientLeft(res)) return leftBeforeRun(req, called, arrivedAt);

      let ownRecords: BaseToolContext | undefined;
      const runtime: ToolRuntime = {
        context,
        ownRecordsContext: () => (ownRecords ??= deps.buildOwnRecordsContext(req)),
        logger: deps.logger,
        ...(deps.runWrite !== undefined && { runWrite: deps.runWrite }),
        ...(deps.tasks !== undefined && {
          tasks: { store: deps.tasks.store, ownerUserId: () => deps.callerUserId(req) },
        }),
        ...(deps.onToolCall !== undefined && { onToolCall: deps.onToolCall }),
        readCallDeadlineMs,
        arrivedAt,
        ...(call !== undefined && { cancelled: call.signal }),
      };
      // The SDK calls the server factory itself (once per request, either era): this request's runtime reaches
      // it through the async context of this call.
      const shape = answerShape(accepted, messages);
      const holder: { runtime?: ToolRuntime } = { runtime };
      try {
        await requestRuntime.run(holder, () => handlers.serve(shape, req, res, read.body, call));
      } finally {
        delete holder.runtime; // see requestRuntime: what the request's async context keeps after it is served
      }
    } finally {
      call?.close();
    }
  }

  /**
   * A request's tool calls whose client closed the connection before the SDK had them (`called`): each is logged
   * and counted (`onToolCall`) as a call cancelled before it ran, as the tool's handler counts one
   * (ReadCallCancelledError), `ms` from the request's arrival. Nothing is written: nobody is there to read it.
   */
  function leftBeforeRun(req: Request, called: readonly AnyToolDefinition[], arrivedAt: number): void {
    const ms = performance.now() - arrivedAt;
    const userId = deps.callerUserId(req);
    for (const tool of called) {
      // The handler's "tool call" line, with `clientLeft`: the call never reached its handler.
      const fields = { userId, tool: tool.name, ms: Math.round(ms), isError: true, errorType: "CANCELLED" };
      deps.logger.info({ ...fields, clientLeft: true }, "tool call");
      deps.onToolCall?.(tool.name, ms, "cancelled");
    }
  }

  /**
   * A request whose client closed the connection before its body was read (ClientLeftBeforeRead): one info line,
   * "client left before its request was read", and nothing written (nobody is there to read it). A client that
   * aborts its fetch or goes offline is no failure of this server (this was an error line with a stack, "MCP request
   * failed", and a 500 written to the closed connection). `leftDuring`: "authentication" when the connection was
   * already closed as the body read began (the bearer check, which reads Redis, is the only wait before it), "body"
   * while it was arriving; `bodyBytesRead` of the request's `contentLength` had been read. Not counted in /metrics'
   * tool calls: its body, and so whether it called a tool and which, is unknown, and nothing of it ran.
   */
  function leftBeforeRead(req: Request, read: ClientLeftBeforeRead): void {
    const declared = Number(req.headers["content-length"]);
    deps.logger.info(
      {
        userId: deps.callerUserId(req),
        clientLeft: true,
        leftDuring: read.readStarted ? "body" : "authentication",
        bodyBytesRead: read.bytesRead,
        ...(Number.isFinite(declared) && { contentLength: declared }),
      },
      "client left before its request was read",
    );
  }

  /**
   * The one check of "cancelling needs the scopes of the tool that made the operation" (scopesToCancel), for both
   * ways to cancel: a `tools/call` of cancel_operation (its `operationId`) and, when tasks are served, `tasks/cancel`
   * (its `taskId`, which is the operation id). The scopes of the first named operation of the caller's that the
   * token lacks part of, or undefined when none. An id that is not the caller's operation (missing, expired,
   * malformed, another user's) needs nothing here: the call then answers "not found" as it does for any token, so a
   * refusal never tells that someone else's operation exists or what it is. An operation of the caller's whose log
   * this version cannot read needs nothing either (nothing can cancel it; the call says why). Reading a task or an
   * operation (`tasks/get`, get_operation) needs no scope. Throws what the log throws (Redis unreachable).
   */
  async function missingCancelScopes(
    messages: unknown[],
    granted: ReadonlySet<string>,
    req: Request,
  ): Promise<readonly Scope[] | undefined> {
    // Distinct ids, at most MAX_CANCELS_CHECKED of them read: a (2025-03-26) batch naming thousands of operations
    // would otherwise cost one log read each before the SDK looked at it. Past the cap, the body needs every
    // write scope a cancel can need, the same answer whatever the ids are (so it tells nothing about them).
    const ids = [...new Set(cancelledOperationIds(messages, toolsByName, deps.tasks !== undefined))];
    if (ids.length > MAX_CANCELS_CHECKED) {
      return ALL_CANCEL_SCOPES.every((s) => granted.has(s)) ? undefined : ALL_CANCEL_SCOPES;
    }
    for (const operationId of ids) {
      let state: Awaited<ReturnType<OperationReader["getForOwner"]>>;
      try {
        state = await deps.operations.getForOwner(operationId, deps.callerUserId(req));
      } catch (error) {
        // The caller's operation whose log this version cannot read: nothing can cancel it (cancel.ts reads the same
        // log), so it needs no scope here, and the call answers why (describeToolError), not this request a 500.
        if (error instanceof UnreadableOperationLogError) continue;
        throw error;
      }
      if (state === undefined) continue;
      const needed = scopesToCancel(state.operation.kind);
      if (!needed.every((s) => granted.has(s))) return needed;
    }
    return undefined;
  }

  return router;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The known tools that `tools/call` messages in the body name (unknown names are left to the SDK to refuse). */
function calledTools(messages: unknown[], tools: Map<string, AnyToolDefinition>): AnyToolDefinition[] {
  const called: AnyToolDefinition[] = [];
  for (const message of messages) {
    if (!isObject(message) || message.method !== "tools/call" || !isObject(message.params)) continue;
    const name = message.params.name;
    const tool = typeof name === "string" ? tools.get(name) : undefined;
    if (tool !== undefined) called.push(tool);
  }
  return called;
}

/**
 * The tasks methods (MCP Tasks extension) do what a tool does for an operation, so they need that tool's scopes:
 * `tasks/cancel` stops a write like cancel_operation (and, like it, needs the scopes of the tool that made the
 * operation: missingCancelScopes), `tasks/get` and `tasks/update` read it like get_operation (no scope).
 */
const TASK_METHOD_TOOL: ReadonlyMap<string, string> = new Map([
  ["tasks/cancel", "cancel_operation"],
  ["tasks/get", "get_operation"],
  ["tasks/update", "get_operation"],
]);

/** The tools whose scopes the body's tasks requests need (TASK_METHOD_TOOL). */
function taskMethodTools(messages: unknown[], tools: Map<string, AnyToolDefinition>): AnyToolDefinition[] {
  const needed: AnyToolDefinition[] = [];
  for (const message of messages) {
    if (!isObject(message) || typeof message.method !== "string") continue;
    const name = TASK_METHOD_TOOL.get(message.method);
    const tool = name === undefined ? undefined : tools.get(name);
    if (tool !== undefined) needed.push(tool);
  }
  return needed;
}

/** The most distinct operations one request's cancels may name before the router stops reading their logs. */
const MAX_CANCELS_CHECKED = 20;

/** The tool whose calls cancel an operation, and the argument that names it (cancel-operation.ts). */
const CANCEL_TOOL = "cancel_operation";

/**
 * The operation ids the body's cancels name: `operationId` of a `tools/call` of cancel_operation (when it is offered)
 * and, with `tasks` served, `taskId` of `tasks/cancel` (a task id is its operation's id). Ids that are not strings
 * are left to the SDK to refuse.
 */
function cancelledOperationIds(messages: unknown[], tools: Map<string, AnyToolDefinition>, tasks: boolean): string[] {
  const ids: string[] = [];
  for (const message of messages) {
    if (!isObject(message) || !isObject(message.params)) continue;
    const { params } = message;
    if (message.method === "tools/call" && params.name === CANCEL_TOOL && tools.has(CANCEL_TOOL)) {
      if (isObject(params.arguments) && typeof params.arguments.operationId === "string") {
        ids.push(params.arguments.operationId);
      }
    } else if (message.method === "tasks/cancel" && tasks && typeof params.taskId === "string") {
      ids.push(params.taskId);
    }
  }
  return ids;
}

/**
 * How the answer may be shaped, from content negotiation (accept.ts). 2025-era: a plain JSON answer unless the
 * client asked for progress, which needs an SSE stream, and can take one (the transport decides up front).
 * 2026-07-28: the SDK's `auto` mode answers JSON and upgrades to SSE only when progress is actually sent, so it
 * serves every client that takes JSON and did not ask for progress; a client that takes only SSE gets SSE, and one
 * that takes only JSON but asked for progress gets JSON without the progress (the SDK's `json` mode).
 */
function answerShape(accepted: AcceptedAnswer, messages: unknown[]): AnswerShape {
  const progress = messages.some(hasProgressToken);
  return {
    legacyJson: accepted === "json" || (accepted === "either" && !progress),
    modern: accepted === "sse" ? "sse" : accepted === "json" && progress ? "json" : "auto",
  };
}

function hasProgressToken(message: unknown): boolean {
  return isObject(message) && isObject(message.params) && isObject(message.params._meta)
    ? message.params._meta.progressToken !== undefined
    : false;
}

/**
 * Whether the client closed the connection of `res`'s request before its answer was written in full: Node destroys
 * the response of a socket that closed (and emits its `close`), while a response written in full is finished.
 */
function clientLeft(res: Response): boolean {
  return res.destroyed && !res.writableFinished;
}

/**
 * Waits for `promise` to settle (rethrowing its rejection), but no longer than until `deadlineAt` (a
 * `performance.now()` time), `cancelled`'s abort, or the client closing the connection of `res` (clientLeft; at once
 * if one of these already happened): then it resolves, leaving `promise` running (its later rejection counts as
 * handled). Nothing is written to `res` meanwhile, so its `close` can only mean the client left.
 */
function settledOrStopped(
  promise: Promise<unknown>,
  deadlineAt: number,
  cancelled: AbortSignal | undefined,
  res: Response,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      cancelled?.removeEventListener("abort", stop);
      res.off("close", stop);
    };
    const stop = (): void => {
      done();
      promise.catch(() => undefined);
      resolve();
    };
    const timer = setTimeout(stop, Math.max(0, deadlineAt - performance.now()));
    if (cancelled?.aborted === true || clientLeft(res)) return stop();
    cancelled?.addEventListener("abort", stop, { once: true });
    res.once("close", stop);
    promise.then(
      () => {
        done();
        resolve();
      },
      (error: unknown) => {
        done();
        reject(error as Error);
      },
    );
  });
}

function memoize<T>(fn: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => (value ??= fn());
}
