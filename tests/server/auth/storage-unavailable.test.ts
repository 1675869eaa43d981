/**
 * Redis does not answer while a client refreshes or revokes: the token endpoint answers 503
 * temporarily_unavailable with Retry-After, not 500 server_error. The MCP SDK clients (v1 and v2) answer a
 * failed refresh with server_error by dropping it and opening the browser for a new sign-in, which during an
 * outage only leads to an error page; any other OAuth error leaves the stored tokens alone, so the client tries
 * again later and the user stays signed in.
 */
import type { AddressInfo } from "node:net";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuthContext } from "../../../src/server/auth/context.ts";
import { revokeHandler } from "../../../src/server/auth/revoke.ts";
import { tokenHandler } from "../../../src/server/auth/token-endpoint.ts";
import { createLogger } from "../../../src/shared/logger.ts";

class MaxRetriesPerRequestError extends Error {
  override name = "MaxRetriesPerRequestError";
}

let failure: Error;
let url: string;
let close: () => Promise<void>;

beforeAll(async () => {
  const ctx = {
    clients: {
      get: () => Promise.reject(failure),
    },
    deps: { logger: createLogger({ level: "silent" }) },
  } as unknown as AuthContext;
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  app.post("/token", tokenHandler(ctx));
  app.post("/revoke", revokeHandler(ctx));
  const server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => new Promise((resolve) => server.close(() => resolve()));
});

afterAll(async () => close?.());

function post(path: string, body: Record<string, string>): Promise<Response> {
  return fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(body),
  });
}

describe("the token and revocation endpoints while Redis does not answer", () => {
  it("a refresh gets 503 temporarily_unavailable with Retry-After, never server_error", async () => {
    failure = new MaxRetriesPerRequestError("Reached the max retries per request limit (which is 2).");
    const res = await post("/token", { grant_type: "refresh_token", refresh_token: "gr_x.y", client_id: "c" });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("30");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as { error: string; error_description: string };
    expect(body.error).toBe("temporarily_unavailable");
    expect(body.error_description).toMatch(/cannot reach its storage right now. Try again in 30 seconds/);
  });

  it("a revocation gets the same", async () => {
    failure = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6379"), { code: "ECONNREFUSED" });
    const res = await post("/revoke", { token: "gr_x.y", client_id: "c" });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: string }).error).toBe("temporarily_unavailable");
  });

  it("any other failure is still 500 server_error", async () => {
    failure = new TypeError("boom");
    const res = await post("/token", { grant_type: "refresh_token", refresh_token: "gr_x.y", client_id: "c" });
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: string }).error).toBe("server_error");
  });
});
