/**
 * The fake Airtable of the embedded demo (`npm start` with no AIRTABLE_CLIENT_ID outside production): the
 * project's sandbox (src/sandbox), started in this process on a loopback port, seeded once with the demo base
 * and a second base the demo user may only read (permissionLevel read: demo-data.ts seedReadOnlyDemo; added to
 * the data of a run from before it existed), its data kept in DATA_DIR/fake-airtable.json, and every browser that reaches its sign-in signed in as the demo
 * user. The MCP server is pointed at it as if it were airtable.com.
 */
import path from "node:path";
import { DEMO_OWNER_EMAIL, DEMO_USER_EMAIL, seedDemo, seedReadOnlyDemo } from "../sandbox/demo-data.ts";
import { startSandbox, type Sandbox } from "../sandbox/index.ts";

/** The OAuth integration the demo registers at the fake Airtable (AIRTABLE_CLIENT_ID's stand-in). */
export const DEMO_CLIENT_ID = "embedded-demo";
/** The fake Airtable's data file inside DATA_DIR. */
export const DEMO_DATA_FILE = "fake-airtable.json";

export interface DemoAirtable {
  sandbox: Sandbox;
  /** Set instead of AIRTABLE_CLIENT_ID and the Airtable URLs. */
  settings: {
    AIRTABLE_CLIENT_ID: string;
    AIRTABLE_API_URL: string;
    AIRTABLE_AUTH_URL: string;
    AIRTABLE_CONTENT_URL: string;
  };
  userEmail: string;
  dataFile: string;
  /** Whether the data came from an earlier run (false: freshly seeded demo data). */
  restored: boolean;
  /** Whether the read-only demo base is there (seeded with the data, or added to an earlier run's: see below). */
  readOnlyBase: boolean;
}

/** `redirectUri`: the MCP server's Airtable callback (PUBLIC_URL/oauth/callback), registered for the demo client. */
export async function startDemoAirtable(opts: { dataDir: string; redirectUri: string }): Promise<DemoAirtable> {
  const dataFile = path.join(path.resolve(opts.dataDir), DEMO_DATA_FILE);
  const sandbox = await startSandbox({
    stateFile: dataFile,
    signInAs: DEMO_USER_EMAIL,
    oauthClients: [{ clientId: DEMO_CLIENT_ID, redirectUris: [opts.redirectUri] }],
  });
  if (!sandbox.restored) {
    const demo = seedDemo(sandbox, DEMO_USER_EMAIL);
    // Beside it, a base the demo user may only read, to try a refused write (README: Try it with the sandbox).
    seedReadOnlyDemo(sandbox, demo.user.id);
  } else if (sandbox.findUser(DEMO_OWNER_EMAIL) === undefined) {
    // Data kept from a run before the read-only base existed (session 31): its owner is no user yet, so the base is
    // not there; it is added beside the data kept, which stays as it is, so the banner naming it is true.
    const demoUser = sandbox.findUser(DEMO_USER_EMAIL);
    if (demoUser !== undefined) seedReadOnlyDemo(sandbox, demoUser.id);
  }
  return {
    sandbox,
    settings: {
      AIRTABLE_CLIENT_ID: DEMO_CLIENT_ID,
      AIRTABLE_API_URL: sandbox.url,
      AIRTABLE_AUTH_URL: sandbox.url,
      AIRTABLE_CONTENT_URL: sandbox.url,
    },
    userEmail: DEMO_USER_EMAIL,
    dataFile,
    restored: sandbox.restored,
    readOnlyBase: sandbox.findUser(DEMO_OWNER_EMAIL) !== undefined,
  };
}
