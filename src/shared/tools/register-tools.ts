import type { CallToolResult, McpRequestContext, McpServer, ServerContext } from "@modelcontextprotocol/server";
import { configSchema } from "../config.ts";
import type { Logger } from "../logger.ts";
import type { OperationPlan } from "../operations/plan.ts";
import { refuseBelowKnownLevel } from "./known-level.ts";
import type { OperationTaskStore } from "../tasks/operation-task-store.ts";
import { declaresTasks, type TaskRuntime } from "../tasks/task-handlers.ts";
import type { AnyToolDefinition, ToolContext, WriteToolDefinition } from "./define-tool.ts";
import { refuseMissingAirtableScopes } from "./airtable-scopes.ts";
import { compileTools } from "./compile-tools.ts";
import {
  awaitCallContext,
  ReadCallCancelledError,
  readsOwnRecordsOnly,
  refuseCancelledCall,
  runReadCall,
} from "./read-call.ts";
import { explainNoAccess, toolErrorResult } from "./tool-errors.ts";
import { toolSuccessResult } from "./tool-result.ts";

/** What the MCP SDK hands a tool handler about its request (signal, `_meta`, related notifications). */
export type ToolRequestExtra = ServerContext;

/** The per-call context minus what the MCP request itself provides. */
export type BaseToolContext = Omit<ToolContext, "sendProgress" | "signal">;

/** How a tool call ended, for `ToolRuntime.onToolCall`. */
export type ToolCallOutcome = "ok" | "error" | "cancelled";

export interface ToolRuntime {
  /**
   * Builds the caller's context for a tool that asks Airtable (a read or a write); called only when such a tool runs
   * (tools/list needs none). It may wait on a refresh of the user's Airtable token: a call waits for it only until
   * READ_CALL_DEADLINE_MS from its arrival (awaitCallContext, read-call.ts).
   */
  context(extra: ToolRequestExtra): Promise<BaseToolContext>;
  /**
   * The caller's context for a tool that reads only this server's own records (`noAirtableRequest`: get_operation,
   * list_operations, cancel_operation): who the caller is, their operation logs and the runner that cancels them,
   * built at once (no I/O, hence not a promise) and without the user's Airtable token, so such a call never waits on
   * Airtable's token endpoint and is still served when the user's Airtable sign-in has ended (their operations are
   * this server's records, and the caller's MCP token says whose). Its `airtable` client, which these tools do not
   * use, gets the token only if a request is ever sent; `airtableScopes` is absent (these tools need none).
   */
  ownRecordsContext(extra: ToolRequestExtra): BaseToolContext;
  /**
   * When the request carrying the call had arrived (a `performance.now()` time, taken once its body was read): the
   * call's deadline and the duration `onToolCall` reports count from it, the time spent building its context
   * included.
   * Default: when the tool's handler starts.
   */
  arrivedAt?: number;
  /**
   * Aborted when the client's `notifications/cancelled` for this call arrived, possibly before the SDK had the call
   * (a 2025-era call is tracked from the moment its request was read: src/server/mcp/call-cancels.ts): the call
   * then stops before it runs (ReadCallCancelledError, `outcome` "cancelled").
   */
  cancelled?: AbortSignal;
  /**
   * Runs a `kind: "write"` tool's plan as a queued operation (see run-write.ts). Registering a write tool without
   * it throws, so a write can never run inline by accident. With `tasks`, the call answers at once with a task
   * (the request declared the MCP Tasks extension) instead of waiting.
   */
  runWrite?(
    tool: WriteToolDefinition,
    plan: OperationPlan,
    ctx: ToolContext,
    tasks?: OperationTaskStore,
  ): Promise<CallToolResult>;
  /**
   * MCP Tasks (2026-07-28 `io.modelcontextprotocol/tasks`, see ../tasks/): when given, a 2026-07-28 server
   * advertises the extension and serves `tasks/*`, and a write tool called by a request that declares it answers
   * with a task. Absent: every write waits (today's behaviour).
   */
  tasks?: TaskRuntime;
  logger: Logger;
  /**
   * READ_CALL_DEADLINE_MS: the most a read tool call that asks Airtable, or a write tool call's checks before its
   * write is queued, may take, from the call's arrival (see read-call.ts), the wait for its context (`context`)
   * included; default the config's default (45 s).
   */
  readCallDeadlineMs?: number;
  /**
   * Called once per tool call when it ends, e.g. for /metrics: `ms` from its arrival; `outcome` "ok", "error" (an
   * error result), or "cancelled" (the MCP client cancelled the call, its connection closed, or this process's
   * shutdown cut it off before it ended, and nothing was changed: ReadCallCancelledError, a read or a write's
   * checks; not the client's error).
   */
  onToolCall?(tool: string, ms: number, outcome: ToolCallOutcome): void;
}

export { toolSuccessResult };

export const DEFAULT_READ_CALL_DEADLINE_MS = configSchema.shape.READ_CALL_DEADLINE_MS.parse(undefined);

/**
 * The runtime of the call `extra` belongs to, for a server that outlives its requests (one per process, serving
 * many callers' calls: read-call-transport.ts). Throws when the call is not one the server's owner is serving.
 */
export type RuntimeLookup = (extra: ToolRequestExtra) => ToolRuntime;

/**
 * Registers each tool on the server; read tools run their handler, write tools go to `runtime.runWrite`. The
 * schemas come from compileTools (built once per catalog): per server, this only binds the runtime. A server that
 * serves many requests gets a `RuntimeLookup` instead, asked for each call's runtime when the call starts (the
 * write-runner check then falls to the lookup's owner, which serves read tools only).
 *
 * `only`: the name of the one tool this server will be asked to run (a per-request server answering a single
 * `tools/call`, see calledToolName), or which tools to bind (the read tools, for the one server per process that
 * serves plain 2025-era reads: read-call-transport.ts). Only that tool is bound, since binding all of them was most of the cost of
 * building a server per request (issue 15); every other request (tools/list, initialize, a name not in the
 * catalog, whose "unknown tool" answer must come from the full catalog) gets every tool. Throws when a write tool
 * is in the catalog without `runtime.runWrite`, whichever tools are bound, so a misconfiguration never depends on
 * which tool a request happens to call.
 */
export function registerTools(
  server: McpServer,
  tools: readonly AnyToolDefinition[],
  runtimeOrLookup: ToolRuntime | RuntimeLookup,
  only?: string | ((tool: AnyToolDefinition) => boolean),
  era: McpRequestContext["era"] = "legacy",
): void {
  const catalog = compileTools(tools);
  for (const { definition: tool } of catalog) {
    if (tool.kind === "write" && typeof runtimeOrLookup !== "function" && runtimeOrLookup.runWrite === undefined) {
      throw new Error(`${tool.name} is a write tool but no write runner was given`);
    }
  }
  const single = typeof only === "string" ? catalog.find((entry) => entry.definition.name === only) : undefined;
  const bound =
    typeof only === "function"
      ? catalog.filter((entry) => only(entry.definition))
      : single === undefined
        ? catalog
        : [single];
  for (const { definition: tool, config } of bound) {
    server.registerTool(tool.name, config, async (input: unknown, extra: ToolRequestExtra): Promise<CallToolResult> => {
      const runtime = typeof runtimeOrLookup === "function" ? runtimeOrLookup(extra) : runtimeOrLookup;
      const started = runtime.arrivedAt ?? performance.now();
      // The caller's logger (userId) once the context exists; the runtime's before that.
      let log = runtime.logger;
      let ctx: ToolContext | undefined;
      // A write's plan was made and handed to runWrite, which queues it: set just before, so that a refusal before
      // it (its checks' reads) can say that nothing was queued.
      let handedToRunner = false;
      const deadlineMs = runtime.readCallDeadlineMs ?? DEFAULT_READ_CALL_DEADLINE_MS;
      try {
        const signals = [extra.mcpReq.signal, runtime.cancelled];
        let base: BaseToolContext;
        if (readsOwnRecordsOnly(tool)) {
          // Reads only this server's records: its context needs nothing of Airtable and waits on nothing.
          refuseCancelledCall(tool.name, signals);
          base = runtime.ownRecordsContext(extra);
        } else {
          // The context may wait on a refresh of the user's Airtable token (at Airtable's token endpoint): that wait
          // is part of the call, so it ends at the call's deadline and when the call is cancelled, as the reads do.
          base = await awaitCallContext(tool.name, () => runtime.context(extra), signals, {
            deadlineMs,
            startedAt: started,
            stage: tool.kind === "write" ? "write_checks" : "read",
          });
        }
        ctx = callContext(base, extra, era);
        log = ctx.logger;
        // Before anything is planned or sent: a scope the user's Airtable sign-in lacks would only be refused.
        refuseMissingAirtableScopes(tool, ctx.airtableScopes);
        const args = input as Record<string, unknown>;
        // A write the user's remembered level on the base does not allow is refused before its checks read anything.
        if (tool.kind === "write" && typeof args.baseId === "string") {
          const access = await refuseBelowKnownLevel(tool, args.baseId, ctx);
          ctx.knownBaseAccess = { baseId: args.baseId, access };
        }
        let result: CallToolResult;
        if (tool.kind === "write") {
          // A write's checks read the schema and linked records' names from Airtable: they answer by the same
          // deadline and stop when the request ends, before anything is queued. Queueing and the wait after it
          // (WRITE_WAIT_MS, a task) are the operation's, with the request's own context.
          const plan = await runReadCall(
            tool.name,
            ctx,
            deadlineMs,
            started,
            (callCtx) => tool.plan(args, callCtx),
            "write_checks",
          );
          // From here on the write may be queued: a failure is no longer "nothing was queued".
          handedToRunner = true;
          result = await runtime.runWrite!(
            tool,
            plan,
            ctx,
            runtime.tasks !== undefined && declaresTasks(extra) ? runtime.tasks.store : undefined,
          );
        } else {
          result = toolSuccessResult(
            readsOwnRecordsOnly(tool)
              ? await tool.handler(args, ctx)
              : // Reads that ask Airtable answer by their deadline, and stop when the request ends.
                await runReadCall(tool.name, ctx, deadlineMs, started, (callCtx) => tool.handler(args, callCtx)),
          );
        }
        const ms = performance.now() - started;
        ctx.logger.info({ tool: tool.name, ms: Math.round(ms), isError: result.isError === true }, "tool call");
        runtime.onToolCall?.(tool.name, ms, result.isError === true ? "error" : "ok");
        return result;
      } catch (error) {
        const ms = performance.now() - started;
        // Why it failed, for the operator (an Airtable 5xx during an incident, a 404, a misconfiguration…): the
        // agent's text says it, and without it this line cannot tell an outage from an agent's mistake.
        log.info({ tool: tool.name, ms: Math.round(ms), isError: true, ...failureFields(error) }, "tool call");
        runtime.onToolCall?.(tool.name, ms, error instanceof ReadCallCancelledError ? "cancelled" : "error");
        // A 403 that may mean "not shared with this sign-in": list bases says which (one request, on failure only).
        const explained =
          ctx === undefined
            ? undefined
            : await explainNoAccess(error, tool, ctx, { nothingQueued: tool.kind === "write" && !handedToRunner });
        if (explained !== undefined) return { isError: true, content: [{ type: "text", text: explained }] };
        return toolErrorResult(error, tool, runtime.logger, ctx?.credential);
      }
    });
  }
}

/** `errorType` (Airtable's or ours), the HTTP `status` of Airtable's answer and its base, when the error has them. */
function failureFields(error: unknown): { errorType?: string; status?: number; baseId?: string } {
  if (typeof error !== "object" || error === null) return {};
  const { type, status, baseId } = error as { type?: unknown; status?: unknown; baseId?: unknown };
  return {
    ...(typeof type === "string" && { errorType: type }),
    ...(typeof status === "number" && { status }),
    ...(typeof baseId === "string" && { baseId }),
  };
}

/**
 * The tool a JSON-RPC message calls: `params.name` of a single `tools/call` request (MCP 2025-06-18 and later,
 * "Calling Tools"), else undefined (any other method, a batch, a malformed body: those need the full catalog).
 */
export function calledToolName(message: unknown): string | undefined {
  if (typeof message !== "object" || message === null || Array.isArray(message)) return undefined;
  const { method, params } = message as { method?: unknown; params?: unknown };
  if (method !== "tools/call" || typeof params !== "object" || params === null) return undefined;
  const name = (params as { name?: unknown }).name;
  return typeof name === "string" ? name : undefined;
}

/** `era`: the protocol era the server was built for (the SDK's classification of the request). */
function callContext(base: BaseToolContext, extra: ToolRequestExtra, era: McpRequestContext["era"]): ToolContext {
  const ctx: ToolContext = { ...base, signal: extra.mcpReq.signal, modernEra: era === "modern" };
  const progressToken = extra.mcpReq._meta?.progressToken;
  if (progressToken !== undefined) {
    // "The progress value MUST increase with each notification" (basic/utilities/progress): a write's checks may
    // have said 0 (a 429 pause, read-call.ts) before its operation's first count, also 0, which is then not sent.
    let last = -Infinity;
    ctx.sendProgress = (progress, total, message) => {
      if (progress <= last) return Promise.resolve();
      last = progress;
      return extra.mcpReq.notify({
        method: "notifications/progress",
        params: {
          progressToken,
          progress,
          ...(total !== undefined && { total }),
          ...(message !== undefined && { message }),
        },
      });
    };
  }
  return ctx;
}
