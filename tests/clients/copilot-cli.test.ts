/**
 * GitHub Copilot CLI (1.0.79 and later), whose MCP connector opens every connection with a 2026-07-28
 * `server/discover` probe and, when the answer is slow (its timer is about 0.6 s), sends a 2025-11-25 `initialize`
 * after it anyway, on the same connection, before or after the probe's answer arrives
 * (github/copilot-cli#4525, #4888, 2026-08/09: Python SDK 2.x servers pinned the connection to 2026-07-28 on the
 * probe and refused the `initialize` with -32022, so the CLI never connected; #4370: servers answering the probe
 * with anything but a result or -32601 broke 1.0.79-1).
 * The requests are replayed as its issue threads quote them: the probe's `_meta` envelope (protocol version,
 * clientInfo `copilot-cli`, its capabilities) with `Mcp-Method` and `MCP-Protocol-Version`, then the legacy
 * handshake.
 * - Over HTTP each request stands alone (/mcp is stateless): the probe is answered, and the `initialize` after it
 *   starts a 2025-era conversation.
 * - Over stdio (`airtable-oauth-mcp stdio`, SDK v2 `serveStdio`) the probe's instance is kept only until the
 *   connection's next request: a legacy `initialize` then pins the connection to 2025-11-25.
 * Raw HTTP and raw stdio lines: the order of the requests is the point.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import { getDefaultEnvironment } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedDemo } from "../../src/sandbox/demo-data.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { privateStateDir, removeStateDirs } from "../helpers/state-dir.ts";
import { printServerOutputOnFailure, startClientLab, type ClientLab } from "./support/client-lab.ts";
import { listenForRedirect, type RedirectListener } from "./support/loopback-redirect.ts";
import { postMcp, recordNamesOf, WireSession } from "./support/mcp-wire.ts";
import {
  authorizationUrl,
  codeFrom,
  exchangeCode,
  newPkce,
  newState,
  registerClient,
  signInWithBrowser,
} from "./support/oauth-wire.ts";

const CLI = new URL("../../src/cli.ts", import.meta.url).pathname;
const MODERN = "2026-07-28";

/** The probe's `_meta`, as github/copilot-cli#4888 quotes it (1.0.85). */
const probeMeta = {
  "io.modelcontextprotocol/protocolVersion": MODERN,
  "io.modelcontextprotocol/clientInfo": { name: "copilot-cli", version: "1.0.85" },
  "io.modelcontextprotocol/clientCapabilities": { sampling: {}, elicitation: { form: {}, url: {} } },
};
const probe = { jsonrpc: "2.0", id: 0, method: "server/discover", params: { _meta: probeMeta } };
const legacyInitialize = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: {
    protocolVersion: "2025-11-25",
    capabilities: { sampling: {}, elicitation: { form: {}, url: {} } },
    clientInfo: { name: "copilot-cli", version: "1.0.85" },
  },
};

let lab: ClientLab;
let listener: RedirectListener;

beforeAll(async () => {
  lab = await startClientLab("copilot-cli");
  listener = await listenForRedirect();
});

afterAll(async () => {
  await listener?.close();
  await lab?.stop();
  removeStateDirs();
});

printServerOutputOnFailure(() => lab);

describe("Copilot CLI (server/discover probe, then a legacy initialize when the probe seems slow)", () => {
  it("over HTTP: the probe is answered, and the initialize sent after it starts a 2025-11-25 conversation", async () => {
    const redirectUri = listener.redirectUri("127.0.0.1", "/callback");
    const registration = await registerClient(lab.publicUrl, {
      client_name: "GitHub Copilot CLI",
      redirect_uris: [redirectUri],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    });
    expect(registration.status, JSON.stringify(registration.body)).toBe(201);
    const clientId = String(registration.body.client_id);
    const pkce = newPkce();
    const state = newState();
    const visit = await signInWithBrowser(
      authorizationUrl(lab.publicUrl, { clientId, redirectUri, pkce, state, resource: lab.mcpUrl }),
      lab.user.user.id,
    );
    const tokens = await exchangeCode(lab.publicUrl, {
      clientId,
      code: codeFrom(visit.redirect, { state, issuer: lab.publicUrl }),
      verifier: pkce.verifier,
      redirectUri,
      resource: lab.mcpUrl,
    });

    const discovered = await postMcp(lab.mcpUrl, probe, {
      token: tokens.access_token,
      headers: { "mcp-method": "server/discover", "mcp-protocol-version": MODERN },
    });
    expect(discovered.status, discovered.text).toBe(200);
    expect(discovered.message?.result?.supportedVersions).toEqual([MODERN]);

    // Its fallback: the 2025 handshake, then tools, as a 2025-11-25 client.
    const wire = new WireSession(lab.mcpUrl, { token: tokens.access_token });
    const init = await wire.initialize("copilot-cli");
    expect(init.protocolVersion).toBe("2025-11-25");
    const result = await wire.callTool("list_records", { baseId: lab.user.base.id, tableId: lab.user.tableName });
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    expect(recordNamesOf(result)).toEqual(lab.recordNames());
  });

  it("over stdio: probe and initialize written back to back get a DiscoverResult and an InitializeResult, then tools", async () => {
    const sandbox: Sandbox = await startSandbox();
    let child: ChildProcessWithoutNullStreams | undefined;
    try {
      const demo = seedDemo(sandbox);
      child = spawn(process.execPath, [CLI, "stdio"], {
        env: {
          ...getDefaultEnvironment(),
          AIRTABLE_API_URL: sandbox.url,
          AIRTABLE_CONTENT_URL: sandbox.url,
          AIRTABLE_TOKEN: demo.token,
          LOG_LEVEL: "warn",
          XDG_DATA_HOME: privateStateDir(),
        },
      });
      const answers = new Map<number, Record<string, unknown>>();
      const waiters = new Map<number, (m: Record<string, unknown>) => void>();
      createInterface({ input: child.stdout }).on("line", (line) => {
        const message = JSON.parse(line) as Record<string, unknown>;
        if (typeof message.id !== "number") return;
        answers.set(message.id, message);
        waiters.get(message.id)?.(message);
      });
      const answerTo = (id: number) =>
        new Promise<Record<string, unknown>>((resolve) => {
          const known = answers.get(id);
          if (known !== undefined) resolve(known);
          else waiters.set(id, resolve);
        });
      const send = (message: Record<string, unknown>) => child?.stdin.write(`${JSON.stringify(message)}\n`);

      // Both before either answer, as the CLI does when its probe timer fires during the server's start.
      send(probe);
      send(legacyInitialize);
      const [discovered, initialized] = await Promise.all([answerTo(0), answerTo(1)]);
      expect(discovered.error, JSON.stringify(discovered)).toBeUndefined();
      expect((discovered.result as { supportedVersions: string[] }).supportedVersions).toContain(MODERN);
      expect(initialized.error, JSON.stringify(initialized)).toBeUndefined();
      expect((initialized.result as { protocolVersion: string }).protocolVersion).toBe("2025-11-25");

      send({ jsonrpc: "2.0", method: "notifications/initialized" });
      send({
        jsonrpc: "2.0",
        id: 2,
        method: "tools/call",
        params: { name: "list_records", arguments: { baseId: demo.base.id, tableId: "Contacts", pageSize: 3 } },
      });
      const listed = (await answerTo(2)).result as { isError?: boolean; structuredContent: { records: unknown[] } };
      expect(listed.isError, JSON.stringify(listed)).not.toBe(true);
      expect(listed.structuredContent.records).toHaveLength(3);
    } finally {
      child?.kill();
      await sandbox.close();
    }
  });
});
