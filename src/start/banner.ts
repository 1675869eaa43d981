import { settingsFileLine, settingsFileTypos, type SettingsFile } from "../shared/config.ts";
import { isLoopbackHost } from "../shared/loopback-host.ts";
import { READ_ONLY_BASE_NAME } from "../sandbox/demo-data.ts";

/**
 * What `npm start` prints for a person once it listens (plain text on stdout, beside the JSON log lines): the
 * URL to add to an MCP client, whether the Airtable behind it is the fake one, and how to switch to the real one.
 */

export interface BannerFacts {
  /** PUBLIC_URL. */
  publicUrl: string;
  /** The port this process listens on (PORT, or the OS's choice for PORT=0). */
  port: number;
  /** "embedded" (one process, state in dataDir) or "distributed" (Redis). */
  mode: "embedded" | "distributed";
  /** Absolute DATA_DIR (embedded mode). */
  dataDir?: string;
  /**
   * Present when the fake Airtable runs in this process; `readOnlyBase`: whether its read-only demo base is there
   * (the banner names it only then).
   */
  demo?: { userEmail: string; dataFile: string; readOnlyBase?: boolean };
  /**
   * What `npm start` read from .env: the note on PUBLIC_URL and PORT says which of them to change there, and a
   * name there that misspells a setting gets a note of its own (settingsFileTypos).
   */
  settingsFile?: SettingsFile;
  /** Names in the environment that misspell a setting, one sentence each (config.ts, environmentTypos). */
  environmentTypos?: readonly string[];
}

/** The banner's lines, without trailing newline. The first URL in it is the MCP endpoint. */
export function banner(facts: BannerFacts): string {
  const mcpUrl = `${facts.publicUrl}/mcp`;
  const lines = [
    "",
    `airtable-oauth-mcp is running${facts.mode === "embedded" ? ` (one process; its data is in ${facts.dataDir})` : ""}.`,
    "",
    `  Add this URL to your MCP client: ${mcpUrl}`,
    "    For example MCP Inspector: run `npx @modelcontextprotocol/inspector`, add a server (Add Servers,",
    '    Add manually) with transport "streamable-http" and this URL, connect, then Allow on the sign-in page.',
  ];
  const mismatch = publicUrlPortMismatch(facts.publicUrl, facts.port, facts.settingsFile);
  if (mismatch !== undefined) lines.push("", `  NOTE: ${mismatch}`);
  for (const typo of [...(facts.environmentTypos ?? []), ...settingsFileTypos(facts.settingsFile)]) {
    lines.push("", `  NOTE: ${typo}`);
  }
  if (facts.demo !== undefined) {
    lines.push(
      "",
      "  This is a FAKE Airtable: the project's sandbox, running inside this process with demo data",
      `  (base "Demo CRM"; kept in ${facts.demo.dataFile}). Nothing you do here reaches airtable.com.`,
      `  Sign-in is automatic, as the demo user ${facts.demo.userEmail}.` +
        (facts.demo.readOnlyBase === true ? ` A second base, "${READ_ONLY_BASE_NAME}",` : ""),
      ...(facts.demo.readOnlyBase === true
        ? [
            "  is shared with the demo user as read-only: a write there shows the refusal a too-low permission level gets.",
          ]
        : []),
      "",
      "  To use your real Airtable: register an OAuth integration at https://airtable.com/create/oauth with the",
      `  redirect URL ${facts.publicUrl}/oauth/callback and all six scopes (README: Registering the Airtable OAuth`,
      "  integration; Airtable refuses a sign-in asking for one the integration lacks), then start again with",
      "  AIRTABLE_CLIENT_ID=<its client id> (and AIRTABLE_CLIENT_SECRET=<its secret> if it has one), e.g. in .env.",
    );
  }
  lines.push("");
  return lines.join("\n");
}

/**
 * The sentence for a PUBLIC_URL on this machine (a loopback host: localhost, 127.0.0.1, [::1]) whose port (80 or
 * 443 when it names none) is not `port`, the one this process listens on: the URL the banner gives leads nowhere,
 * unless something on this machine forwards that port here (so a note, not an error). Undefined when they agree or
 * PUBLIC_URL is another host (a proxy or a load balancer in front is normal there). When `settingsFile` (npm
 * start's .env) set PUBLIC_URL or PORT, the sentence ends saying so: setting the other one in the shell is the
 * fix that works, but unsetting the file's one there changes nothing.
 */
export function publicUrlPortMismatch(
  publicUrl: string,
  port: number,
  settingsFile?: SettingsFile,
): string | undefined {
  const url = new URL(publicUrl);
  if (!isLoopbackHost(url.hostname)) return undefined;
  const named = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  if (named === port) return undefined;
  // Port 0 only ever comes from PORT=0 (the OS picks one): PUBLIC_URL is then the only thing to set.
  const fix = `set PUBLIC_URL to ${url.protocol}//${url.hostname}:${port}${named === 0 ? "" : `, or PORT to ${named}`}`;
  const fromFile = settingsFileLine(settingsFile, named === 0 ? ["PUBLIC_URL"] : ["PUBLIC_URL", "PORT"]);
  return (
    `PUBLIC_URL (${publicUrl}) names port ${named}, but this server listens on port ${port} (PORT). Unless ` +
    `something forwards ${named} to ${port}, clients find nothing there: ${fix}.${fromFile === undefined ? "" : ` ${fromFile}`}`
  );
}
