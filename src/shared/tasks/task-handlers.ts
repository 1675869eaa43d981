/**
 * The MCP side of the Tasks extension (`io.modelcontextprotocol/tasks`, protocol revision 2026-07-28; spec:
 * ext-tasks specification/2026-07-28/tasks.md): the capability in `server/discover`, and `tasks/get`,
 * `tasks/update`, `tasks/cancel` over an OperationTaskStore. Only 2026-07-28 servers get them: the extension is
 * negotiated per request through the `_meta` client capabilities, which 2025-era clients do not send (their
 * `initialize` never advertises it, and their `tasks/*` stay "Method not found").
 *
 * The MCP TypeScript SDK v2 (2.4.0) has no server side for this extension (ext-tasks 0.2.2 ships the client side
 * and the wire schemas), so these are plain request handlers registered with explicit schemas, which the SDK
 * admits on a 2026-07-28 instance for exactly these names (SEP-2663 re-uses `tasks/get` / `tasks/cancel`).
 */
import { hasTaskClientCapabilityV2 } from "@modelcontextprotocol/ext-tasks/core/v2";
import {
  CLIENT_CAPABILITIES_META_KEY,
  MissingRequiredClientCapabilityError,
  ProtocolError,
  ProtocolErrorCode,
  type McpServer,
  type ServerContext,
} from "@modelcontextprotocol/server";
import { z } from "zod";
import { TASKS_EXTENSION_ID, type OperationTaskStore } from "./operation-task-store.ts";

/** What a server needs to serve tasks for the caller of one request (or one stdio connection). */
export interface TaskRuntime {
  store: OperationTaskStore;
  /** The caller's user id: tasks are theirs only. */
  ownerUserId(): string;
}

/**
 * Whether this request may be answered with a task: a 2026-07-28 request (it carries the per-request `_meta`
 * envelope) whose client capabilities declare the extension. The extension forbids a task answer to a request
 * that did not declare it, "regardless of prior declarations".
 */
export function declaresTasks(ctx: ServerContext): boolean {
  // The SDK lifts the envelope keys out of `_meta` into `envelope` (present on 2026-07-28 requests only).
  const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined;
  return envelope !== undefined && hasTaskClientCapabilityV2({ _meta: envelope });
}

const taskIdParams = z.looseObject({
  taskId: z.string().min(1, "taskId is required: the taskId of the task a tools/call answered with"),
});

/**
 * Advertises the extension and registers `tasks/get`, `tasks/update` and `tasks/cancel` on a 2026-07-28 server,
 * before it is connected. Errors, per the extension's "Protocol Errors": a request that does not declare the
 * extension → -32021 (Missing Required Client Capability); a task that is unknown to the caller (missing,
 * expired, or another user's) → -32602 (Invalid params).
 */
export function registerTaskHandlers(server: McpServer, tasks: TaskRuntime): void {
  server.server.registerCapabilities({ extensions: { [TASKS_EXTENSION_ID]: {} } });

  /** The caller's user id, once the request is known to declare the extension. */
  const owner = (ctx: ServerContext, method: string): string => {
    if (!declaresTasks(ctx)) throw tasksExtensionRequired(`${method} needs`);
    return tasks.ownerUserId();
  };

  server.server.setRequestHandler("tasks/get", { params: taskIdParams }, async ({ taskId }, ctx) => {
    const task = await tasks.store.get(taskId, owner(ctx, "tasks/get"));
    if (task === undefined) throw unknownTask(taskId);
    return { ...task, resultType: "complete" };
  });

  // We never ask the client for input (no task is ever input_required): a known task's update is acknowledged and
  // its inputResponses ignored, as the extension says for responses to keys that are not outstanding.
  server.server.setRequestHandler("tasks/update", { params: taskIdParams }, async ({ taskId }, ctx) => {
    if (!(await tasks.store.known(taskId, owner(ctx, "tasks/update")))) throw unknownTask(taskId);
    return { resultType: "complete" };
  });

  // A known task is acknowledged whatever its status, an ended one included (left as it was): the extension says
  // "The server MUST acknowledge the request with an empty result", that a task "MAY ultimately reach a terminal
  // status other than `cancelled` if the work finished before cancellation could take effect", and that errors are
  // for a `taskId` that "does not correspond to a known task" (SEP-2663 / ext-tasks tasks.md, Task Cancellation and
  // Protocol Errors). The -32602 for "tasks already in a terminal status" is 2025-11-25's experimental tasks, which
  // this server does not serve (2025-era tasks/* stay "Method not found"). What the cancel did is read with
  // tasks/get (the status) or cancel_operation (which says when the operation had already ended).
  server.server.setRequestHandler("tasks/cancel", { params: taskIdParams }, async ({ taskId }, ctx) => {
    if (!(await tasks.store.cancel(taskId, owner(ctx, "tasks/cancel")))) throw unknownTask(taskId);
    return { resultType: "complete" };
  });
}

/** One error for a task that does not exist, has expired, or is another user's: an id never reveals which. */
function unknownTask(taskId: string): ProtocolError {
  return new ProtocolError(
    ProtocolErrorCode.InvalidParams,
    `Failed to retrieve task: Task not found: there is no task ${JSON.stringify(taskId)} for you. Tasks are kept ` +
      "for 72 hours after their last change by default, and only their owner sees them.",
  );
}

/**
 * The JSON-RPC error for a `subscriptions/listen` request that asks for task notifications (`notifications.taskIds`)
 * without declaring the extension in its own `_meta` client capabilities: -32021 naming it ("Servers MUST return
 * this error for non-declaring clients requesting task notifications on `subscriptions/listen`", ext-tasks
 * specification/2026-07-28/tasks.md, Error Handling). Undefined for any other message. The SDK serves
 * `subscriptions/listen` itself, so the HTTP router asks this before handing the request over. (Over stdio the SDK
 * still acknowledges such a request: not intercepted there.)
 */
export function undeclaredTaskSubscription(
  message: unknown,
): { id: unknown; error: MissingRequiredClientCapabilityError } | undefined {
  if (typeof message !== "object" || message === null) return undefined;
  const { method, params, id } = message as { method?: unknown; params?: unknown; id?: unknown };
  if (method !== "subscriptions/listen" || id === undefined || typeof params !== "object" || params === null) {
    return undefined; // not this request (a notification has no id, and no answer)
  }
  const { notifications, _meta } = params as { notifications?: unknown; _meta?: unknown };
  const wantsTasks = typeof notifications === "object" && notifications !== null && "taskIds" in notifications;
  const meta = typeof _meta === "object" && _meta !== null ? (_meta as Record<string, unknown>) : {};
  if (!wantsTasks || hasTaskClientCapabilityV2({ _meta: meta })) return undefined;
  return { id, error: tasksExtensionRequired("Task notifications need") };
}

/**
 * -32021 (Missing Required Client Capability) naming the tasks extension and where to declare it, for a request
 * that uses tasks without declaring it; `subject` starts the message ("tasks/get needs").
 */
function tasksExtensionRequired(subject: string): MissingRequiredClientCapabilityError {
  return new MissingRequiredClientCapabilityError(
    { requiredCapabilities: { extensions: { [TASKS_EXTENSION_ID]: {} } } },
    `${subject} the ${TASKS_EXTENSION_ID} extension: declare it in this request's ` +
      `_meta["${CLIENT_CAPABILITIES_META_KEY}"].extensions`,
  );
}
