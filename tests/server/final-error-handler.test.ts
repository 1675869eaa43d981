/**
 * What an MCP client reads when a call fails for a passing reason before any tool runs (the Airtable sign-in cannot
 * be refreshed right now, or Redis is away), over real HTTP through express and the app's last error handler.
 */
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { finalErrorHandler } from "../../src/server/final-error-handler.ts";
import { createLogger } from "../../src/shared/logger.ts";
import { AirtableTokenUnavailableError } from "../../src/shared/tokens/airtable-token-provider.ts";

let url: string;
let close: () => void;

beforeAll(async () => {
  const app = express();
  app.post("/token-unavailable", () => {
    throw new AirtableTokenUnavailableError("usr1", "Could not refresh the Airtable token right now: HTTP 503");
  });
  app.post("/redis-away", () => {
    throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6379"), { code: "ECONNREFUSED" });
  });
  app.use(finalErrorHandler(createLogger({ level: "silent" })));
  const server = app.listen(0, "127.0.0.1");
  await once(server, "listening");
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => server.close();
});
afterAll(() => close());

describe("a passing failure before the tool runs", () => {
  it.each([
    ["/token-unavailable", /Airtable sign-in could not be refreshed right now; try again in a minute/],
    ["/redis-away", /temporarily unavailable.*Nothing was changed/],
  ])("%s: 503, Retry-After 30, JSON-RPC -32603 (never -32002, which MCP 2026-07-28 forbids)", async (path, message) => {
    const res = await fetch(`${url}${path}`, { method: "POST" });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("30");
    const body = (await res.json()) as { error: { code: number; message: string } };
    expect(body.error.code).toBe(-32603);
    expect(body.error.message).toMatch(message);
    expect(body.error.message).not.toMatch(/\n\s+at /);
  });
});
