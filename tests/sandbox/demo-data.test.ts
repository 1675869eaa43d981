import { describe, expect, it } from "vitest";
import { seedDemo } from "../../src/sandbox/demo-data.ts";
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
});
