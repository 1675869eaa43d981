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
});
