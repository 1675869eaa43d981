/**
 * The distributed setup pointed at a sandbox that is not running (README's "sandbox" block without `npm run
 * sandbox`): the server starts, but says so in one warning line naming the settings, the URL, the error and the fix;
 * and a person who presses Allow gets a page naming the problem instead of being sent to a dead address ("127.0.0.1
 * refused to connect" in the browser, before session 21). The real startServer (src/server/main.ts's) on real Redis
 * over real HTTP, and AirtableReachability against a real sandbox started late, a silent socket and Airtable's own
 * URLs (never checked: the machine has no internet).
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer as createHttpServer } from "node:http";
import { createServer as createTcpServer, type AddressInfo, type Socket } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../../src/server/start-server.ts";
import { startSandbox, type Sandbox } from "../../../src/sandbox/index.ts";
import { AirtableReachability } from "../../../src/shared/airtable/reachability.ts";
import { loadConfig } from "../../../src/shared/config.ts";
import { createLogger } from "../../../src/shared/logger.ts";
import { deleteKeys, testRedisUrl, useTestRedis } from "../../helpers/redis.ts";
import { decide, openConsent, registerClient, type Harness } from "../../support/auth-test-harness.ts";

const { redis, prefix } = useTestRedis("airtable-unreachable");

/** A port nothing listens on (taken from the OS, then given back). */
async function freePort(): Promise<number> {
  const server = createHttpServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, "close");
  return port;
}

function capturedLogger() {
  const lines: { level: string; message: string }[] = [];
  const logger = createLogger(
    { level: "info", pretty: false, name: "test" },
    { write: (line: string) => lines.push(JSON.parse(line) as { level: string; message: string }) },
  );
  return { logger, warnings: () => lines.filter((l) => l.level === "warn").map((l) => l.message) };
}

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await deleteKeys(redis, prefix);
});

describe("the distributed server with its Airtable URLs at a sandbox that is not running", () => {
  it("starts with one warning naming the settings, the URL, ECONNREFUSED and npm run sandbox", async () => {
    const port = await freePort();
    const dead = `http://127.0.0.1:${await freePort()}`;
    const url = `http://127.0.0.1:${port}`;
    const config = loadConfig(
      {
        REDIS_URL: testRedisUrl(),
        REDIS_KEY_PREFIX: prefix,
        PORT: String(port),
        PUBLIC_URL: url,
        TOKEN_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
        AIRTABLE_CLIENT_ID: "unreachable-test",
        AIRTABLE_AUTH_URL: dead,
        AIRTABLE_API_URL: dead,
        AIRTABLE_CONTENT_URL: dead,
      },
      "server",
    );
    const { logger, warnings } = capturedLogger();
    const running: RunningServer = await startServer(config, { logger });
    cleanups.push(() => running.close());

    const about = warnings().filter((w) => w.includes(dead));
    expect(about).toHaveLength(1);
    expect(about[0]).toContain(`AIRTABLE_AUTH_URL and AIRTABLE_API_URL and AIRTABLE_CONTENT_URL (${dead})`);
    expect(about[0]).toContain("ECONNREFUSED");
    expect(about[0]).toContain("start the sandbox: npm run sandbox");

    // A person's sign-in: the consent page still shows; Allow answers a page naming the problem, no redirect.
    const h = { url } as Harness;
    const { clientId } = await registerClient(h);
    const page = await openConsent(h, { clientId, scope: "records:read" });
    expect(page.status).toBe(200);
    const started = performance.now();
    const allow = await decide(h, page, "approve");
    expect(performance.now() - started).toBeLessThan(2_500);
    expect(allow.status).toBe(503);
    expect(allow.headers.get("retry-after")).toBe("5");
    expect(allow.headers.get("location")).toBeNull();
    const html = await allow.text();
    expect(html).toContain("Airtable&#39;s sign-in page cannot be reached");
    expect(html).toContain(`${dead} (AIRTABLE_AUTH_URL)`);
    expect(html).toContain("ECONNREFUSED");
    expect(html).toContain("npm run sandbox");
    // The request was not used up: Deny (or Allow, once Airtable answers) still works from the same page.
    const deny = await decide(h, page, "deny");
    expect(deny.status).toBe(303);
    expect(deny.headers.get("location")).toContain("error=access_denied");
  }, 20_000);
});

describe("AirtableReachability", () => {
  const silent = createLogger({ level: "silent" });

  it("re-checks a dead AIRTABLE_AUTH_URL once its result is a few seconds old: a sandbox started since counts", async () => {
    const port = await freePort();
    const at = `http://127.0.0.1:${port}`;
    let clock = 1_000_000;
    const reachability = new AirtableReachability(
      { AIRTABLE_AUTH_URL: at, AIRTABLE_API_URL: at, AIRTABLE_CONTENT_URL: at },
      { logger: silent, now: () => clock },
    );
    expect(await reachability.signInProblem()).toContain("ECONNREFUSED");
    const sandbox: Sandbox = await startSandbox({ port });
    cleanups.push(() => sandbox.close());
    // Within the few seconds the last check stands (no request per sign-in).
    clock += 1_000;
    expect(await reachability.signInProblem()).toContain("ECONNREFUSED");
    clock += 5_000;
    expect(await reachability.signInProblem()).toBeUndefined();
  });

  it("never holds a sign-in longer than 2 s, and a URL that only times out does not stop it", async () => {
    const sockets: Socket[] = [];
    const mute = createTcpServer((socket) => sockets.push(socket)).listen(0, "127.0.0.1");
    await once(mute, "listening");
    cleanups.push(async () => {
      for (const s of sockets) s.destroy();
      mute.close();
    });
    const at = `http://127.0.0.1:${(mute.address() as AddressInfo).port}`;
    const { logger, warnings } = capturedLogger();
    const reachability = new AirtableReachability(
      { AIRTABLE_AUTH_URL: at, AIRTABLE_API_URL: "https://api.airtable.com", AIRTABLE_CONTENT_URL: at },
      { logger, timeoutMs: 60_000 }, // capped at 2 s
    );
    const started = performance.now();
    await reachability.warnAtStart();
    expect(performance.now() - started).toBeLessThan(2_500);
    expect(warnings()).toEqual([
      `AIRTABLE_AUTH_URL and AIRTABLE_CONTENT_URL (${at}) did not answer: no answer within 2000 ms. Sign-ins and ` +
        "tool calls will fail until it does; start the sandbox: npm run sandbox (in another terminal, as " +
        `PORT=${new URL(at).port} npm run sandbox: it listens on 8787 unless PORT says otherwise), or point ` +
        "AIRTABLE_AUTH_URL and AIRTABLE_CONTENT_URL at a running one.",
    ]);
    expect(await reachability.signInProblem()).toBeUndefined();
  });

  it("gives the sandbox's PORT when the URL is on this machine at another port than npm run sandbox's 8787", async () => {
    // A sandbox once moved (`PORT=… npm run sandbox`) and not running: `npm run sandbox` alone would start it on 8787
    // and this URL would stay dead, so the fix names the command that starts it where the settings point.
    const port = await freePort();
    expect(port).not.toBe(8787);
    const at = `http://127.0.0.1:${port}`;
    const { logger, warnings } = capturedLogger();
    const reachability = new AirtableReachability(
      { AIRTABLE_AUTH_URL: at, AIRTABLE_API_URL: at, AIRTABLE_CONTENT_URL: at },
      { logger },
    );
    await reachability.warnAtStart();
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toContain(`as PORT=${port} npm run sandbox: it listens on 8787 unless PORT says otherwise`);
    const page = await reachability.signInProblem();
    expect(page).toContain(`PORT=${port} npm run sandbox`);
  });

  it("tells a loopback https:// URL to use http://, not a PORT (the sandbox serves no HTTPS)", async () => {
    const port = await freePort();
    const at = `https://127.0.0.1:${port}`;
    const { logger, warnings } = capturedLogger();
    const reachability = new AirtableReachability(
      { AIRTABLE_AUTH_URL: at, AIRTABLE_API_URL: at, AIRTABLE_CONTENT_URL: at },
      { logger },
    );
    await reachability.warnAtStart();
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toContain("over http:// (it serves no HTTPS), such as http://127.0.0.1:8787");
    expect(warnings()[0]).not.toContain(`PORT=${port}`);
  });

  it("names the URL and network for a host that is not this machine (in the log only)", async () => {
    const { logger, warnings } = capturedLogger();
    // .invalid never resolves (RFC 2606): answered by the resolver at once, no internet needed.
    const at = "http://sandbox.invalid:4010";
    const reachability = new AirtableReachability(
      { AIRTABLE_AUTH_URL: at, AIRTABLE_API_URL: at, AIRTABLE_CONTENT_URL: "https://content.airtable.com" },
      { logger },
    );
    await reachability.warnAtStart();
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toContain(`AIRTABLE_AUTH_URL and AIRTABLE_API_URL (${at}) did not answer`);
    expect(warnings()[0]).toContain("check AIRTABLE_AUTH_URL and AIRTABLE_API_URL and this machine's network");
    expect(warnings()[0]).not.toContain("npm run sandbox");
    // The person at a sign-in may be anyone: the page keeps the resolver's error and the fix to the log.
    const page = await reachability.signInProblem();
    expect(page).toContain("(AIRTABLE_AUTH_URL), which does not answer right now");
    expect(page).not.toContain("sandbox.invalid");
    expect(page).not.toContain("ENOTFOUND");
    expect(warnings()[1]).toContain(`A sign-in was stopped: AIRTABLE_AUTH_URL and AIRTABLE_API_URL (${at})`);
    expect(warnings()[1]).toContain("ENOTFOUND");
  });

  it("never checks Airtable's own URLs (the defaults): no request, no warning, no sign-in problem", async () => {
    const { logger, warnings } = capturedLogger();
    const reachability = new AirtableReachability(
      {
        AIRTABLE_AUTH_URL: "https://airtable.com",
        AIRTABLE_API_URL: "https://api.airtable.com",
        AIRTABLE_CONTENT_URL: "https://content.airtable.com",
      },
      { logger },
    );
    const started = performance.now();
    await reachability.warnAtStart();
    expect(await reachability.signInProblem()).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(50);
    expect(warnings()).toEqual([]);
  });
});
