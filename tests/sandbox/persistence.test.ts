/**
 * The sandbox's state file (src/sandbox/persistence.ts) and automatic sign-in (`signInAs`), as the embedded demo
 * uses them: a sign-in and the data written survive a restart, over real HTTP, and a write is on disk before its
 * answer leaves (tests/start/demo-crash-durability.test.ts kills the demo itself).
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { seedDemo } from "../../src/sandbox/demo-data.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";

const dir = mkdtempSync(path.join(tmpdir(), "sandbox-state-"));
const stateFile = path.join(dir, "fake-airtable.json");
const redirectUri = "http://localhost:8080/oauth/callback";
const client = { clientId: "demo-client", redirectUris: [redirectUri] };
const started: Sandbox[] = [];
afterAll(async () => {
  await Promise.all(started.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

async function start(): Promise<Sandbox> {
  const sandbox = await startSandbox({ stateFile, signInAs: "demo@example.com", oauthClients: [client] });
  started.push(sandbox);
  return sandbox;
}

async function api(sandbox: Sandbox, token: string, method: string, route: string, body?: unknown) {
  const res = await fetch(`${sandbox.url}${route}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function tokenRequest(sandbox: Sandbox, form: Record<string, string>) {
  const res = await fetch(`${sandbox.url}/oauth2/v1/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ client_id: client.clientId, ...form }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

describe("the sandbox's state file and automatic sign-in", () => {
  it("signs a browser in without a user hint, and keeps tokens, records and uploads across a restart", async () => {
    const first = await start();
    expect(first.restored).toBe(false);
    const demo = seedDemo(first);

    // A browser with no sandbox_user: signed in as the demo user, straight back to the client with a code.
    const verifier = randomBytes(32).toString("base64url");
    const authorize = new URL("/oauth2/v1/authorize", first.url);
    authorize.search = new URLSearchParams({
      client_id: client.clientId,
      redirect_uri: redirectUri,
      response_type: "code",
      state: "s1",
      code_challenge: createHash("sha256").update(verifier).digest("base64url"),
      code_challenge_method: "S256",
      scope: "data.records:read data.records:write schema.bases:read",
    }).toString();
    const back = await fetch(authorize, { redirect: "manual" });
    expect(back.status).toBe(302);
    const code = new URL(back.headers.get("location") as string).searchParams.get("code") as string;
    const issued = await tokenRequest(first, {
      grant_type: "authorization_code",
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
    });
    expect(issued.status).toBe(200);
    const { access_token: accessToken, refresh_token: refreshToken } = issued.body;

    const contacts = `/v0/${demo.base.id}/Contacts`;
    const created = await api(first, accessToken!, "POST", contacts, { records: [{ fields: { Name: "Kept" } }] });
    expect(created.status).toBe(200);
    const recordId = (created.body.records as { id: string }[])[0]!.id;
    const companies = await api(first, demo.token, "GET", `/v0/${demo.base.id}/Companies?maxRecords=1`);
    const companyId = (companies.body.records as { id: string }[])[0]!.id;
    const uploaded = await api(first, demo.token, "POST", `/v0/${demo.base.id}/${companyId}/Logo/uploadAttachment`, {
      contentType: "text/plain",
      file: Buffer.from("logo bytes").toString("base64"),
      filename: "logo.txt",
    });
    expect(uploaded.status).toBe(200);
    await first.close();
    expect(statSync(stateFile).mode & 0o777).toBe(0o600);

    const second = await start();
    expect(second.restored).toBe(true);
    // The OAuth access token from before the restart still works, and the record written is still there.
    const read = await api(second, accessToken!, "GET", `${contacts}/${recordId}`);
    expect(read).toMatchObject({ status: 200, body: { fields: { Name: "Kept" } } });
    expect(second.listRecordsDirect(demo.base.id, "Contacts")).toHaveLength(31);
    // The upload is served from the new origin.
    const logo = second.listRecordsDirect(demo.base.id, "Companies").find((r) => r.id === companyId)!.fields.Logo as {
      url: string;
    }[];
    expect(logo[0]!.url.startsWith(second.url)).toBe(true);
    expect(await (await fetch(logo[0]!.url)).text()).toBe("logo bytes");
    // The refresh token rotates once, as before the restart; the used one stays refused.
    const refreshed = await tokenRequest(second, { grant_type: "refresh_token", refresh_token: refreshToken! });
    expect(refreshed.status).toBe(200);
    const again = await tokenRequest(second, { grant_type: "refresh_token", refresh_token: refreshToken! });
    expect(again).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
  });

  it("a write is in the file when its answer arrives, concurrent writes included (a crash after it loses nothing)", async () => {
    const file = path.join(dir, "answered.json");
    const sandbox = await startSandbox({ stateFile: file });
    started.push(sandbox);
    const demo = seedDemo(sandbox);
    const contacts = `/v0/${demo.base.id}/Contacts`;
    // Five at once (a base's rate): each answer comes once its records are on disk, whichever write took them.
    const answers = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        api(sandbox, demo.token, "POST", contacts, { records: [{ fields: { Name: `answered ${i}` } }] }),
      ),
    );
    // Read at once, without close(): what a process killed now would leave.
    const saved = readFileSync(file, "utf8");
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(saved).toContain((answer.body.records as { id: string }[])[0]!.id);
    }
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it("a write it cannot save is answered 500 naming the file and what to check, not acknowledged", async () => {
    const gone = mkdtempSync(path.join(dir, "gone-"));
    const file = path.join(gone, "fake-airtable.json");
    const sandbox = await startSandbox({ stateFile: file });
    started.push(sandbox);
    const demo = seedDemo(sandbox);
    rmSync(gone, { recursive: true, force: true });
    const answer = await api(sandbox, demo.token, "POST", `/v0/${demo.base.id}/Contacts`, {
      records: [{ fields: { Name: "Unsaved" } }],
    });
    expect(answer.status).toBe(500);
    expect(answer.body).toMatchObject({ error: { type: "SERVER_ERROR" } });
    const message = (answer.body.error as { message: string }).message;
    expect(message).toContain(`could not save its data file ${file}`);
    expect(message).toContain("Check the disk space and the permissions of its directory");
  });

  it("without signInAs and a user hint, nobody is signed in", async () => {
    const sandbox = await startSandbox({ oauthClients: [client] });
    started.push(sandbox);
    const url = new URL("/oauth2/v1/authorize", sandbox.url);
    url.search = new URLSearchParams({
      client_id: client.clientId,
      redirect_uri: redirectUri,
      response_type: "code",
      state: "s",
      code_challenge: "x".repeat(43),
      code_challenge_method: "S256",
      scope: "data.records:read",
    }).toString();
    expect((await fetch(url, { redirect: "manual" })).status).toBe(400);
  });
});
