/**
 * What an agent does with the write tools, through the real MCP client: call a write tool, poll get_operation
 * until the operation ends, page through its results. Answers are the tools' structuredContent, typed after
 * src/shared/tools/operation-result.ts.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { z } from "zod";
import type { ItemResult, OperationResultOutput } from "../../../src/shared/tools/operation-result.ts";
import type { operationSummaryOutput } from "../../../src/shared/tools/read/list-operations.ts";
import { callTool, resultText } from "./mcp-client.ts";

/** The answer of a write tool or get_operation, and one result of it: the tools' own output types. */
export type OperationAnswer = OperationResultOutput;
export type { ItemResult };
/** One entry of list_operations. */
export type OperationSummary = z.infer<typeof operationSummaryOutput>;

/** The structuredContent of a successful tool answer; a tool error fails the test with its message. */
export function answerOf<T>(name: string, result: CallToolResult): T {
  if (result.isError === true) throw new Error(`${name} answered an error: ${resultText(result)}`);
  if (result.structuredContent === undefined) throw new Error(`${name} answered no structuredContent`);
  return result.structuredContent as T;
}

/** Calls a write tool (or get_operation) and returns its operation answer. */
export async function callWriteTool(
  client: Client,
  name: string,
  args: Record<string, unknown>,
): Promise<OperationAnswer> {
  return answerOf<OperationAnswer>(name, await callTool(client, name, args));
}

export async function getOperation(client: Client, operationId: string, cursor?: string): Promise<OperationAnswer> {
  return callWriteTool(client, "get_operation", { operationId, ...(cursor === undefined ? {} : { cursor }) });
}

export async function listOperations(client: Client, limit = 100): Promise<OperationSummary[]> {
  const answer = answerOf<{ operations: OperationSummary[] }>(
    "list_operations",
    await callTool(client, "list_operations", { limit }),
  );
  return answer.operations;
}

/**
 * Polls get_operation (taking the clients in turn, e.g. one per server process) until `until` holds for an
 * answer (default: the operation is done), and returns that answer.
 */
export async function pollOperation(
  clients: readonly Client[],
  operationId: string,
  opts: { until?: (answer: OperationAnswer) => boolean; timeoutMs?: number; intervalMs?: number } = {},
): Promise<OperationAnswer> {
  const until = opts.until ?? ((answer: OperationAnswer) => answer.done);
  const deadline = Date.now() + (opts.timeoutMs ?? 90_000);
  for (let turn = 0; ; turn++) {
    const client = clients[turn % clients.length] as Client;
    const answer = await getOperation(client, operationId);
    if (until(answer)) return answer;
    if (Date.now() > deadline) {
      throw new Error(`operation ${operationId} did not get there in time; last answer: ${JSON.stringify(answer)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, opts.intervalMs ?? 250));
  }
}

/** Every result of the operation, by index, following nextCursor from the first page. */
export async function allResults(client: Client, operationId: string): Promise<ItemResult[]> {
  const results: ItemResult[] = [];
  let cursor: string | undefined;
  do {
    const page = await getOperation(client, operationId, cursor);
    results.push(...(page.results ?? []));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return results;
}

/** Unique, sortable record names: the tests find each input record in the sandbox by its name. */
export function recordName(label: string, index: number): string {
  return `${label}-${String(index).padStart(5, "0")}`;
}

/** How many records of `records` carry each Name. */
export function countByName(records: readonly { fields: Record<string, unknown> }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const record of records) {
    const name = String(record.fields.Name);
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}
