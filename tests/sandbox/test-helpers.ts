/** Shared setup for the sandbox's own tests: a sandbox with one user, a token and a small base. */
import { startSandbox, type BaseInfo, type Sandbox, type SandboxOptions } from "../../src/sandbox/index.ts";

export interface Fixture {
  sandbox: Sandbox;
  user: { id: string; email: string; name: string };
  token: string;
  base: BaseInfo;
  /** fetch against the sandbox with the fixture's token (or another) and JSON in/out. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test answers are checked by assertions, not types
  call(method: string, path: string, body?: unknown, token?: string | null): Promise<{ status: number; body: any }>;
}

export async function fixture(opts: SandboxOptions = {}): Promise<Fixture> {
  const sandbox = await startSandbox({ penaltyMs: 300, ...opts });
  const user = sandbox.addUser({ email: "owner@example.com", name: "Owner" });
  const token = sandbox.createPersonalAccessToken(user.id);
  const base = sandbox.createBase(user.id, {
    name: "Test base",
    tables: [
      {
        name: "Tasks",
        fields: [
          { name: "Name", type: "singleLineText" },
          { name: "Count", type: "number", options: { precision: 0 } },
          { name: "Done", type: "checkbox" },
          { name: "Status", type: "singleSelect", options: { choices: [{ name: "Todo" }, { name: "Done" }] } },
          { name: "Tags", type: "multipleSelects", options: { choices: [{ name: "a" }, { name: "b" }] } },
          { name: "Due", type: "date", options: { dateFormat: { name: "iso" } } },
          { name: "Email", type: "email" },
          { name: "Files", type: "multipleAttachments" },
          { name: "Created", type: "createdTime" },
          { name: "Number", type: "autoNumber" },
        ],
      },
    ],
  });
  const call: Fixture["call"] = async (method, path, body, as) => {
    const headers: Record<string, string> = {};
    const t = as === undefined ? token : as;
    if (t !== null) headers.authorization = `Bearer ${t}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(`${sandbox.url}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text === "" ? undefined : JSON.parse(text);
    } catch {
      // not JSON (HTML error pages)
    }
    return { status: res.status, body: parsed };
  };
  return { sandbox, user, token, base, call };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
