/**
 * What `npm start` prints for a person once it listens (plain text on stdout, beside the JSON log lines): the
 * URL to add to an MCP client, whether the Airtable behind it is the fake one, and how to switch to the real one.
 */

export interface BannerFacts {
  /** PUBLIC_URL. */
  publicUrl: string;
  /** "embedded" (one process, state in dataDir) or "distributed" (Redis). */
  mode: "embedded" | "distributed";
  /** Absolute DATA_DIR (embedded mode). */
  dataDir?: string;
  /** Present when the fake Airtable runs in this process. */
  demo?: { userEmail: string; dataFile: string };
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
  if (facts.demo !== undefined) {
    lines.push(
      "",
      "  This is a FAKE Airtable: the project's sandbox, running inside this process with demo data",
      `  (base "Demo CRM"; kept in ${facts.demo.dataFile}). Nothing you do here reaches airtable.com.`,
      `  Sign-in is automatic, as the demo user ${facts.demo.userEmail}.`,
      "",
      "  To use your real Airtable: register an OAuth integration at https://airtable.com/create/oauth with the",
      `  redirect URL ${facts.publicUrl}/oauth/callback and the scopes you need, then start again with`,
      "  AIRTABLE_CLIENT_ID=<its client id> (and AIRTABLE_CLIENT_SECRET=<its secret> if it has one), e.g. in .env.",
    );
  }
  lines.push("");
  return lines.join("\n");
}
