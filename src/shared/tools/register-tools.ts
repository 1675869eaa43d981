import type { CallToolResult, McpServer, ServerContext } from "@modelcontextprotocol/server";
import type { Logger } from "../logger.ts";
import type { OperationPlan } from "../operations/plan.ts";
import type { OperationTaskStore } from "../tasks/operation-task-store.ts";
import { declaresTasks, type TaskRuntime } from "../tasks/task-handlers.ts";
import type { AnyToolDefinition, ToolContext, WriteToolDefinition } from "./define-tool.ts";
import { compileTools } from "./compile-tools.ts";
import { toolErrorResult } from "./tool-errors.ts";
import { toolSuccessResult } from "./tool-result.ts";

/** What the MCP SDK hands a tool handler about its request (signal, `_meta`, related notifications). */
export type ToolRequestExtra = ServerContext;

/** The per-call context minus what the MCP request itself provides. */
export type BaseToolContext = Omit<ToolContext, "sendProgress" | "signal">;

export interface ToolRuntime {
  /** Builds the caller's context; called only when a tool runs (tools/list needs none). */
  context(extra: ToolRequestExtra): Promise<BaseToolContext>;
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
  /** Called once per tool call when it ends (success or error result), e.g. for /metrics. */
  onToolCall?(tool: string, ms: number, isError: boolean): void;
}

export { toolSuccessResult };

/**
 * Registers each tool on the server; read tools run their handler, write tools go to `runtime.runWrite`. The
 * schemas come from compileTools (built once per catalog): per server, this only binds the runtime.
 */
export function registerTools(server: McpServer, tools: readonly AnyToolDefinition[], runtime: ToolRuntime): void {
  for (const { definition: tool, config } of compileTools(tools)) {
    if (tool.kind === "write" && runtime.runWrite === undefined) {
      throw new Error(`${tool.name} is a write tool but no write runner was given`);
    }
    server.registerTool(tool.name, config, async (input: unknown, extra: ToolRequestExtra): Promise<CallToolResult> => {
      const started = performance.now();
      try {
        const ctx = callContext(await runtime.context(extra), extra);
        const result =
          tool.kind === "write"
            ? await runtime.runWrite!(
                tool,
                await tool.plan(input as Record<string, unknown>, ctx),
                ctx,
                runtime.tasks !== undefined && declaresTasks(extra) ? runtime.tasks.store : undefined,
              )
            : toolSuccessResult(await tool.handler(input as Record<string, unknown>, ctx));
        const ms = performance.now() - started;
        ctx.logger.info({ tool: tool.name, ms: Math.round(ms), isError: result.isError === true }, "tool call");
        runtime.onToolCall?.(tool.name, ms, result.isError === true);
        return result;
      } catch (error) {
        const ms = performance.now() - started;
        runtime.logger.info({ tool: tool.name, ms: Math.round(ms), isError: true }, "tool call");
        runtime.onToolCall?.(tool.name, ms, true);
        return toolErrorResult(error, tool, runtime.logger);
      }
    });
  }
}

function callContext(base: BaseToolContext, extra: ToolRequestExtra): ToolContext {
  const ctx: ToolContext = { ...base, signal: extra.mcpReq.signal };
  const progressToken = extra.mcpReq._meta?.progressToken;
  if (progressToken !== undefined) {
    ctx.sendProgress = (progress, total, message) =>
      extra.mcpReq.notify({
        method: "notifications/progress",
        params: {
          progressToken,
          progress,
          ...(total !== undefined && { total }),
          ...(message !== undefined && { message }),
        },
      });
  }
  return ctx;
}
