/**
 * The consent page lets the person grant less than the client asked for (RFC 6749 §3.3): one ticked box per
 * requested scope, **Read only**, and the form's values checked against the request (a forged POST that adds a
 * scope is refused). The harness is a real authorization server on real Redis with the sandbox as Airtable; the
 * "browser" is fetch, posting the form as a browser would (tests/clients/consent-choice-browser.test.ts clicks the
 * same page in Chromium).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  callMcp,
  decide,
  exchangeCode,
  openConsent,
  registerClient,
  startHarness,
  throughAirtable,
  tokenRequest,
  type ConsentPage,
  type Harness,
} from "../../support/auth-test-harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

const READS = ["records:read", "schema:read", "comments:read"];
/** The Airtable scopes of all six of ours, sorted. */
const ALL_AIRTABLE = [
  "data.recordComments:read",
  "data.recordComments:write",
  "data.records:read",
  "data.records:write",
  "schema.bases:read",
  "schema.bases:write",
].sort();

/** The Airtable scopes the decision's redirect asks Airtable for, sorted. */
function upstreamScopes(decision: Response): string[] {
  expect(decision.status).toBe(303);
  const upstream = new URL(decision.headers.get("location") as string);
  return (upstream.searchParams.get("scope") ?? "").split(" ").sort();
}

/** The boxes a browser sends: the marker, then one `scope` field per ticked box. */
function ticked(...scopes: string[]): [string, string][] {
  return [["scope_choice", "1"], ...scopes.map((s): [string, string] => ["scope", s])];
}

/** The consent page's ticked boxes, as a browser would submit them. */
function tickedOn(page: ConsentPage): string[] {
  return [...page.html.matchAll(/<input type="checkbox" name="scope" value="([^"]+)" checked>/g)].map((m) => m[1]!);
}

/** Decision → Airtable → callback → code → tokens, in the browser that showed `page` (of `on`, default h). */
async function tokensAfter(clientId: string, page: ConsentPage, decision: Response, on: Harness = h) {
  const { callback } = await throughAirtable(on, page, decision);
  const back = new URL(callback.headers.get("location") as string);
  const code = back.searchParams.get("code");
  if (code === null) throw new Error(`no code: ${back.href}`);
  const tokens = await exchangeCode(on, clientId, code);
  expect(tokens.status, JSON.stringify(tokens.body)).toBe(200);
  return tokens.body as { access_token: string; refresh_token: string; scope: string };
}

async function scopesOf(accessToken: string): Promise<string[]> {
  const res = await callMcp(h, accessToken);
  expect(res.status).toBe(200);
  return ((await res.json()) as { auth: { scopes: string[] } }).auth.scopes;
}

describe("the consent page's scope boxes", () => {
  it("lists every requested scope as a ticked box with its plain words, and Read only when reads and writes mix", async () => {
    const { clientId } = await registerClient(h);
    const page = await openConsent(h, { clientId });
    expect(page.status).toBe(200);
    expect(tickedOn(page)).toEqual([
      "records:read",
      "records:write",
      "schema:read",
      "schema:write",
      "comments:read",
      "comments:write",
    ]);
    expect(page.html).toMatch(
      /<label><input type="checkbox" name="scope" value="records:write" checked> Create, change/,
    );
    expect(page.html).toContain('<input type="hidden" name="scope_choice" value="1">');
    // Airtable's page, next, lists every requested permission: the page says so, and that the ticks decide.
    expect(page.html.replace(/\s+/g, " ")).toContain(
      "Airtable's page lists every permission the app asked for (this server keeps one Airtable sign-in for all " +
        "your apps); this app gets only what you leave ticked here.",
    );
    expect(page.html).toContain('<button type="submit" name="decision" value="read_only">Read only</button>');
    // Allow stays the form's first button (Enter allows), and keeps its name, value and label.
    expect(page.html.indexOf('value="approve">Allow</button>')).toBeLessThan(page.html.indexOf('value="read_only"'));

    const readOnlyRequest = await openConsent(h, { clientId, scope: "records:read schema:read" });
    expect(tickedOn(readOnlyRequest)).toEqual(["records:read", "schema:read"]);
    expect(readOnlyRequest.html).not.toContain('value="read_only"'); // it would equal Allow
  });
});

describe("granting less than requested", () => {
  it("unticked writes: the code, both tokens and the token response carry only the reads; Airtable is asked for what the client requested; a write answers 403 insufficient_scope; step-up adds the write back", async () => {
    const { clientId } = await registerClient(h);
    const page = await openConsent(h, { clientId }); // no scope: all six
    const decision = await decide(h, page, "approve", { fields: ticked(...READS) });
    expect(decision.status).toBe(303);
    // Upstream: the Airtable scopes of the six requested (one Airtable token serves all of the user's clients).
    expect(upstreamScopes(decision)).toEqual(ALL_AIRTABLE);

    const tokens = await tokensAfter(clientId, page, decision);
    // RFC 6749 §3.3: the issued scope differs from the requested one, so the response MUST name it.
    expect(tokens.scope).toBe("records:read schema:read comments:read");
    expect(await scopesOf(tokens.access_token)).toEqual(READS);

    const write = await callMcp(h, tokens.access_token, "/mcp/needs-write");
    expect(write.status).toBe(403);
    const challenge = write.headers.get("www-authenticate") ?? "";
    expect(challenge).toContain('error="insufficient_scope"');
    const stepUpScope = /scope="([^"]*)"/.exec(challenge)?.[1] ?? "";
    expect(stepUpScope.split(" ")).toContain("records:write");

    // The refresh token carries the same grant: refreshed, still the reads; it cannot widen to the write.
    const refreshed = await tokenRequest(h, {
      grant_type: "refresh_token",
      client_id: clientId,
      refresh_token: tokens.refresh_token,
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.scope).toBe("records:read schema:read comments:read");
    const widened = await tokenRequest(h, {
      grant_type: "refresh_token",
      client_id: clientId,
      refresh_token: refreshed.body.refresh_token as string,
      scope: "records:read records:write",
    });
    expect(widened.status).toBe(400);
    expect(widened.body.error).toBe("invalid_scope");

    // Step-up (MCP 2025-11-25 authorization): a new sign-in for the challenge's scope; its page offers the write,
    // ticked, and Allow as ticked grants it.
    const again = await openConsent(h, { clientId, scope: stepUpScope });
    expect(tickedOn(again)).toContain("records:write");
    const stepped = await tokensAfter(
      clientId,
      again,
      await decide(h, again, "approve", { fields: ticked(...tickedOn(again)) }),
    );
    expect(stepped.scope.split(" ")).toEqual(expect.arrayContaining([...READS, "records:write"]));
    expect((await callMcp(h, stepped.access_token, "/mcp/needs-write")).status).toBe(200);
  });

  it("Read only grants the ticked scopes that change nothing", async () => {
    const { clientId } = await registerClient(h);
    const page = await openConsent(h, { clientId, scope: "records:read records:write comments:read comments:write" });
    const decision = await decide(h, page, "read_only", { fields: ticked(...tickedOn(page)) });
    expect(decision.status).toBe(303);
    // Airtable is still asked for the Airtable scopes of the four requested, writes included.
    expect(upstreamScopes(decision)).toEqual(
      [
        "data.recordComments:read",
        "data.recordComments:write",
        "data.records:read",
        "data.records:write",
        "schema.bases:read",
      ].sort(),
    );
    const tokens = await tokensAfter(clientId, page, decision);
    expect(tokens.scope).toBe("records:read comments:read");
  });

  it("a read-only sign-in of a second client leaves the user's Airtable token able to write for the first one", async () => {
    // One Airtable token per user serves all of their clients (callback.ts, keptBroaderSignIn). A asks for records
    // and schema; B for all six, and its person presses Read only. Had Airtable been asked only for B's reads
    // (comments:read among them, which A's token lacks, so not strictly narrower), B's read-only Airtable token would
    // have replaced A's, and Airtable would refuse A's writes although A's own token says records:write.
    // A harness of its own: a user no other test signed in (their stored Airtable token would change the outcome).
    const own = await startHarness({ sandbox: h.sandbox });
    try {
      const base = own.sandbox.createBase(own.user.id, {
        name: "Two clients",
        tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }] }],
      });
      const a = await registerClient(own, { client_name: "Writer" });
      const pageA = await openConsent(own, {
        clientId: a.clientId,
        scope: "records:read records:write schema:read schema:write",
      });
      const decisionA = await decide(own, pageA, "approve", { fields: ticked(...tickedOn(pageA)) });
      const tokensA = await tokensAfter(a.clientId, pageA, decisionA, own);
      expect(tokensA.scope.split(" ")).toContain("records:write");

      const b = await registerClient(own, { client_name: "Reader" });
      const pageB = await openConsent(own, { clientId: b.clientId });
      const decisionB = await decide(own, pageB, "read_only", { fields: ticked(...tickedOn(pageB)) });
      expect(upstreamScopes(decisionB)).toEqual(ALL_AIRTABLE);
      const tokensB = await tokensAfter(b.clientId, pageB, decisionB, own);
      expect(tokensB.scope).toBe("records:read schema:read comments:read");
      expect((await callMcp(own, tokensB.access_token, "/mcp/needs-write")).status).toBe(403);

      // A's write, as the server makes it for A: with the user's stored Airtable token, after B signed in.
      expect((await callMcp(own, tokensA.access_token, "/mcp/needs-write")).status).toBe(200);
      const account = await own.store.getAirtableAccount(own.user.id);
      const write = await fetch(`${own.sandbox.url}/v0/${base.id}/Tasks`, {
        method: "POST",
        headers: { authorization: `Bearer ${account?.tokens.accessToken}`, "content-type": "application/json" },
        body: JSON.stringify({ records: [{ fields: { Name: "Written for A" } }] }),
      });
      expect(write.status, await write.clone().text()).toBe(200);
      expect(own.sandbox.listRecordsDirect(base.id, "Tasks").map((r) => r.fields.Name)).toEqual(["Written for A"]);
      expect(account?.tokens.scopes.slice().sort()).toEqual(ALL_AIRTABLE);
    } finally {
      await own.close();
    }
  });
});

describe("what the form may not do", () => {
  it("a forged POST naming a scope the client did not request is refused, with or without the boxes' marker; nothing is granted", async () => {
    const { clientId } = await registerClient(h);
    const page = await openConsent(h, { clientId, scope: "records:read" });
    for (const fields of [
      ticked("records:read", "records:write"),
      [["scope", "records:write"]] as [string, string][],
      ticked("records:read", "admin"),
    ]) {
      const forged = await decide(h, page, "approve", { fields });
      expect(forged.status, JSON.stringify(fields)).toBe(400);
      expect(forged.headers.get("location")).toBeNull();
      const html = await forged.text();
      expect(html).toContain("which the app did not request");
      expect(html).toContain(fields.find(([, v]) => v !== "records:read" && v !== "1")![1]);
    }
    // The honest form still works afterwards, and grants what was requested, not more.
    const tokens = await tokensAfter(
      clientId,
      page,
      await decide(h, page, "approve", { fields: ticked("records:read") }),
    );
    expect(tokens.scope).toBe("records:read");
  });

  it("scope values without the boxes' marker are still the choice; only a form with neither grants everything requested", async () => {
    const { clientId } = await registerClient(h);
    const page = await openConsent(h, { clientId, scope: "records:read records:write schema:read" });
    const scripted = await decide(h, page, "approve", { fields: [["scope", "records:read"]] });
    expect((await tokensAfter(clientId, page, scripted)).scope).toBe("records:read");

    // Read only applies to them too.
    const again = await openConsent(h, { clientId, scope: "records:read records:write schema:read" });
    const readOnly = await decide(h, again, "read_only", {
      fields: [
        ["scope", "records:write"],
        ["scope", "schema:read"],
      ],
    });
    expect((await tokensAfter(clientId, again, readOnly)).scope).toBe("schema:read");

    // Neither scope values nor the marker (a page from before the boxes, a script posting only the decision).
    const old = await openConsent(h, { clientId, scope: "records:read records:write schema:read" });
    expect((await tokensAfter(clientId, old, await decide(h, old, "approve"))).scope).toBe(
      "records:read records:write schema:read",
    );
  });

  it("nothing ticked: the page comes back with a note and the same form; ticking a box then goes on", async () => {
    const { clientId } = await registerClient(h);
    const page = await openConsent(h, { clientId, scope: "records:read records:write" });

    const empty = await decide(h, page, "approve", { fields: ticked() });
    expect(empty.status).toBe(400);
    expect(empty.headers.get("content-security-policy")).toContain("default-src 'none'");
    const shown: ConsentPage = { ...page, html: await empty.text() };
    expect(shown.html).toContain("Nothing is ticked. Tick at least one permission and press Allow, or press Deny.");
    expect(shown.html).toContain(`name="request_id" value="${page.requestId}"`);
    expect(shown.html).toContain(`name="csrf_token" value="${page.csrfToken}"`);
    expect(tickedOn(shown)).toEqual([]);

    // Read only with only the write ticked grants nothing either: the write stays ticked on the page shown again.
    const onlyWrite = await decide(h, page, "read_only", { fields: ticked("records:write") });
    expect(onlyWrite.status).toBe(400);
    const shownAgain = await onlyWrite.text();
    expect(shownAgain).toContain("Read only allows the ticked “See …” permissions, and none of them is ticked.");
    expect(tickedOn({ ...page, html: shownAgain })).toEqual(["records:write"]);

    const tokens = await tokensAfter(
      clientId,
      page,
      await decide(h, page, "approve", { fields: ticked("records:read") }),
    );
    expect(tokens.scope).toBe("records:read");
  });
});
