/**
 * MCP over Streamable HTTP written out by hand: the JSON-RPC messages a client POSTs to /mcp and the headers it
 * puts on them (Accept, Origin, Authorization, MCP-Protocol-Version), for profiles whose wire behaviour differs
 * from the SDK's (JSON-only Accept, browser Origins). Answers may come as JSON or as an SSE stream
 * (MCP 2025-11-25, Transports §Sending Messages to the Server); both are read.
 */

export const PROTOCOL_VERSION = "2025-11-25";

export interface McpAnswer {
  status: number;
  headers: Headers;
  /** The response's Content-Type without parameters ("application/json", "text/event-stream", …). */
  contentType: string;
  /** The JSON-RPC message answering the request (the last `data:` event of an SSE stream), if any. */
  message: JsonRpcResponse | undefined;
  /** The body as text (error answers are read from it). */
  text: string;
}

export interface JsonRpcResponse {
  jsonrpc: "2.0";
  id: number | string | null;
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: unknown };
}

export interface WireOptions {
  token?: string;
  /** The Accept header; `null` sends none. Default: what the spec asks for. */
  accept?: string | null;
  origin?: string;
  headers?: Record<string, string>;
}

function readMessage(contentType: string, text: string): JsonRpcResponse | undefined {
  if (text === "") return undefined;
  if (contentType === "text/event-stream") {
    const data = text
      .split(/\r?\n/)
      .filter((line) => line.startsWith("data:"))
      .map((line) => line.slice(5).trim())
      .filter((line) => line !== "");
    const last = data.at(-1);
    return last === undefined ? undefined : (JSON.parse(last) as JsonRpcResponse);
  }
  try {
    return JSON.parse(text) as JsonRpcResponse;
  } catch {
    return undefined;
  }
}

/** One POST /mcp with one JSON-RPC message. */
export async function postMcp(
  url: string,
  message: Record<string, unknown>,
  opts: WireOptions = {},
): Promise<McpAnswer> {
  const headers: Record<string, string> = { "content-type": "application/json", ...opts.headers };
  const accept = opts.accept === undefined ? "application/json, text/event-stream" : opts.accept;
  if (accept !== null) headers.accept = accept;
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  if (opts.origin !== undefined) headers.origin = opts.origin;
  const res = await fetch(url, { method: "POST", headers, body: JSON.stringify(message) });
  const text = await res.text();
  const contentType = (res.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  return { status: res.status, headers: res.headers, contentType, message: readMessage(contentType, text), text };
}

/**
 * A client's conversation with /mcp: `initialize`, `notifications/initialized`, then requests, every one carrying
 * the same headers (and MCP-Protocol-Version after initialization, as the spec requires).
 */
export class WireSession {
  readonly #url: string;
  readonly #opts: WireOptions;
  #nextId = 1;
  #protocolVersion: string | undefined;
  /** Every answer of this session, in order (tests inspect status and content type). */
  readonly answers: McpAnswer[] = [];

  constructor(url: string, opts: WireOptions) {
    this.#url = url;
    this.#opts = opts;
  }

  async #post(message: Record<string, unknown>): Promise<McpAnswer> {
    const headers = { ...this.#opts.headers };
    if (this.#protocolVersion !== undefined) headers["mcp-protocol-version"] = this.#protocolVersion;
    const answer = await postMcp(this.#url, message, { ...this.#opts, headers });
    this.answers.push(answer);
    return answer;
  }

  /** Initializes; throws with the server's answer unless it succeeded. Returns the initialize result. */
  async initialize(clientName: string): Promise<Record<string, unknown>> {
    const result = await this.request("initialize", {
      protocolVersion: PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: clientName, version: "1.0.0" },
    });
    this.#protocolVersion = String(result.protocolVersion);
    const note = await this.#post({ jsonrpc: "2.0", method: "notifications/initialized" });
    if (note.status !== 202 && note.status !== 200) {
      throw new Error(`notifications/initialized answered ${note.status}: ${note.text.slice(0, 300)}`);
    }
    return result;
  }

  /** A request; throws with status and body unless the answer is a JSON-RPC result. */
  async request(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const answer = await this.#post({ jsonrpc: "2.0", id: this.#nextId++, method, params });
    if (answer.status !== 200 || answer.message?.result === undefined) {
      throw new Error(`${method} answered ${answer.status} (${answer.contentType}): ${answer.text.slice(0, 500)}`);
    }
    return answer.message.result;
  }

  async listToolNames(): Promise<string[]> {
    const result = await this.request("tools/list");
    return (result.tools as { name: string }[]).map((t) => t.name).sort();
  }

  /** tools/call; returns the CallToolResult (`isError` set when the tool failed). */
  async callTool(name: string, args: Record<string, unknown>): Promise<ToolResult> {
    return (await this.request("tools/call", { name, arguments: args })) as unknown as ToolResult;
  }
}

export interface ToolResult {
  content: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

/** The names of the records a list_records result holds, sorted (compare with ClientLab.recordNames()). */
export function recordNamesOf(result: { structuredContent?: Record<string, unknown> }): string[] {
  const records = (result.structuredContent?.records ?? []) as { fields: Record<string, unknown> }[];
  return records.map((r) => String(r.fields.Name)).sort();
}

export function textOf(result: ToolResult): string {
  return result.content.find((c) => c.type === "text")?.text ?? "";
}
