/**
 * isOurResource, the one comparison of a client's `resource` (RFC 8707) with ours at /authorize, the code exchange
 * and refresh: MCP authorization's "Canonical Server URI" asks servers to accept uppercase scheme and host
 * components; a trailing slash names the same resource; nothing else is folded. The end-to-end checks (a real
 * sign-in and refresh) are in scopes-and-resource.test.ts.
 */
import { describe, expect, it } from "vitest";
import { isOurResource } from "../../../src/server/auth/resource-param.ts";

const ours = "https://mcp.example.com/mcp";

describe("isOurResource", () => {
  it("accepts our resource with any case of scheme and host, with or without one trailing slash", () => {
    for (const given of [
      ours,
      `${ours}/`,
      "HTTPS://MCP.EXAMPLE.COM/mcp",
      "Https://Mcp.Example.Com/mcp/",
      "https://MCP.example.com/mcp",
    ]) {
      expect(isOurResource(given, ours), given).toBe(true);
    }
    expect(isOurResource("HTTP://LOCALHOST:48080/mcp", "http://localhost:48080/mcp")).toBe(true);
    expect(isOurResource("http://[::ABCD]:8080/mcp", "http://[::abcd]:8080/mcp")).toBe(true);
  });

  it("refuses another path (case included), port, userinfo, query, fragment or more slashes", () => {
    for (const given of [
      "https://mcp.example.com/MCP",
      "HTTPS://MCP.EXAMPLE.COM/Mcp",
      "https://mcp.example.com/mcp//",
      "https://mcp.example.com/mcp/x",
      "https://mcp.example.com",
      "https://mcp.example.com:443/mcp", // no default-port folding: the spec asks for none
      "https://user@mcp.example.com/mcp",
      "https://mcp.example.com/mcp?x=1",
      "https://mcp.example.com/mcp#f",
      "http://mcp.example.com/mcp",
      "https://mcp.example.com.evil.test/mcp",
      "mcp.example.com/mcp",
      "",
    ]) {
      expect(isOurResource(given, ours), given).toBe(false);
    }
  });
});
