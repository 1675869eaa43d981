/**
 * The Host check's refusal tells the operator and the user what was expected and which setting changes it
 * (issue 10 §2): the host of PUBLIC_URL by default, the ALLOWED_HOSTS list when set. Over real HTTP, with a
 * Host header the way a client behind a rewriting proxy, or a rebinding page, would send it.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostGuard, hostPolicy } from "../../../src/server/mcp/request-guards.ts";
import { rawRequest } from "../../helpers/raw-http.ts";

let server: Server;
let url: string;

beforeAll(async () => {
  const app = express();
  const byDefault = hostPolicy("https://mcp.example.com", []);
  const configured = hostPolicy("https://mcp.example.com", ["mcp.internal:8080", "mcp.example.com"]);
  app.post("/default", hostGuard(byDefault.hosts, byDefault.hint), (_req, res) => res.json({ ok: true }));
  app.post("/configured", hostGuard(configured.hosts, configured.hint), (_req, res) => res.json({ ok: true }));
  server = await new Promise((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const refusal = async (path: string, host: string) => {
  const answer = await rawRequest(`${url}${path}`, { method: "POST", headers: { host } });
  expect(answer.status).toBe(403);
  return (JSON.parse(answer.body) as { error: { message: string } }).error.message;
};

describe("a refused Host", () => {
  it("by default names PUBLIC_URL's host, PUBLIC_URL and ALLOWED_HOSTS", async () => {
    const message = await refusal("/default", "127.0.0.1:8080");
    expect(message).toBe(
      'Forbidden: Host "127.0.0.1:8080" is not allowed. This server expects Host "mcp.example.com", the host of ' +
        "its PUBLIC_URL (https://mcp.example.com); connect to https://mcp.example.com/mcp, or the operator can list " +
        "other names in ALLOWED_HOSTS (or correct PUBLIC_URL).",
    );
    const ok = await rawRequest(`${url}/default`, { method: "POST", headers: { host: "mcp.example.com" } });
    expect(ok.status).toBe(200);
  });

  it("with ALLOWED_HOSTS set, lists them and names the setting", async () => {
    const message = await refusal("/configured", "attacker.example");
    expect(message).toBe(
      'Forbidden: Host "attacker.example" is not allowed. This server accepts Host "mcp.internal:8080", ' +
        '"mcp.example.com" (ALLOWED_HOSTS).',
    );
    const ok = await rawRequest(`${url}/configured`, { method: "POST", headers: { host: "mcp.internal:8080" } });
    expect(ok.status).toBe(200);
  });
});
