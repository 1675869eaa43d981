import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { lastJsonLine, runNodeScript } from "../../helpers/processes.ts";

const fixture = fileURLToPath(new URL("../../fixtures/firestore-loading.ts", import.meta.url));

/**
 * The Firestore SDK costs ~45 MB of RSS per process once loaded: a server whose tokens live in Redis must never
 * load it, and one configured for Firestore loads it when the store is first used.
 */
describe("the Firestore SDK is loaded only for TOKEN_STORE=firestore", () => {
  it("is never loaded by the server with TOKEN_STORE=redis", async () => {
    const result = await runNodeScript(fixture, { TOKEN_STORE: "redis", USE_STORE: "0" });
    expect(lastJsonLine<{ firestoreLoaded: boolean }>(result)).toEqual({ firestoreLoaded: false });
  });

  it("is loaded on first use with TOKEN_STORE=firestore", async () => {
    const result = await runNodeScript(fixture, {
      TOKEN_STORE: "firestore",
      USE_STORE: "1",
      FIRESTORE_EMULATOR_HOST: "127.0.0.1:9",
    });
    expect(lastJsonLine<{ firestoreLoaded: boolean }>(result)).toEqual({ firestoreLoaded: true });
  });
});
