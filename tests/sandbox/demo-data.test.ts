import { describe, expect, it } from "vitest";
import { seedDemo, seedReadOnlyDemo } from "../../src/sandbox/demo-data.ts";
import { startSandbox } from "../../src/sandbox/index.ts";

describe("demo data", () => {
  it("seeds a CRM base reachable with the printed token", async () => {
    const sandbox = await startSandbox();
    try {
      const demo = seedDemo(sandbox);
      const res = await fetch(`${sandbox.url}/v0/${demo.base.id}/Contacts?pageSize=100`, {
        headers: { authorization: `Bearer ${demo.token}` },
      });
      const body = (await res.json()) as { records: unknown[] };
      expect(res.status).toBe(200);
      expect(body.records).toHaveLength(30);
    } finally {
      await sandbox.close();
    }
  });

  it("links contacts to companies, with the inverse link, a lookup, a count, a rollup and a formula", async () => {
    const sandbox = await startSandbox();
    try {
      const demo = seedDemo(sandbox);
      const companies = sandbox.listRecordsDirect(demo.base.id, "Companies");
      const contacts = sandbox.listRecordsDirect(demo.base.id, "Contacts");
      const acme = companies.find((c) => c.fields.Name === "Acme");
      const ofAcme = contacts.filter((c) => (c.fields.Company as string[])[0] === acme?.id);
      expect(ofAcme.map((c) => c.fields.Name)).toEqual([
        "Ada Park",
        "Grace Park",
        "Chloe Park",
        "Ines Park",
        "Emma Park",
      ]);
      expect(acme?.fields).toMatchObject({
        Contacts: ofAcme.map((c) => c.id),
        "Number of contacts": 5,
        "Total deal size": ofAcme.reduce((sum, c) => sum + (c.fields["Deal size"] as number), 0),
      });
      expect(ofAcme[0]?.fields).toMatchObject({
        "Company name": ["Acme"],
        "Company industry": ["Software"],
        Label: "Ada Park (Lead)",
      });
      // Every contact has exactly one company; every company has its contacts.
      expect(contacts.every((c) => (c.fields.Company as string[]).length === 1)).toBe(true);
      expect(companies.map((c) => c.fields["Number of contacts"])).toEqual([5, 5, 5, 5, 5, 5]);
    } finally {
      await sandbox.close();
    }
  });

  it("adds a base the demo user may only read: listed with permissionLevel read, readable, writes refused (403)", async () => {
    const sandbox = await startSandbox();
    try {
      const demo = seedDemo(sandbox);
      const readOnly = seedReadOnlyDemo(sandbox, demo.user.id);
      const as = (path: string, init: RequestInit = {}) =>
        fetch(`${sandbox.url}${path}`, {
          ...init,
          headers: { authorization: `Bearer ${demo.token}`, "content-type": "application/json" },
        });
      const listed = (await (await as("/v0/meta/bases")).json()) as { bases: unknown[] };
      expect(listed.bases).toEqual([
        { id: demo.base.id, name: "Demo CRM", permissionLevel: "create" },
        { id: readOnly.base.id, name: "Demo Price List (read-only)", permissionLevel: "read" },
      ]);
      const read = await as(`/v0/${readOnly.base.id}/Products`);
      expect(((await read.json()) as { records: unknown[] }).records).toHaveLength(5);
      const write = await as(`/v0/${readOnly.base.id}/Products`, {
        method: "POST",
        body: JSON.stringify({ records: [{ fields: { Name: "Enterprise plan" } }] }),
      });
      expect(write.status).toBe(403);
      expect(((await write.json()) as { error: { type: string } }).error.type).toBe("INVALID_PERMISSIONS");
      expect(readOnly.owner.email).toBe("owner@example.com");
    } finally {
      await sandbox.close();
    }
  });
});
