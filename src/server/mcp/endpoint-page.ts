import type { Request, Response } from "express";

/**
 * What a person sees who opens the MCP URL in a browser (the banner prints `http://localhost:PORT/mcp`, and
 * opening it is the natural first check): a short page saying what the URL is for, instead of the JSON-RPC 405
 * an MCP client gets. The status and `Allow: POST` stay the same, so nothing changes for anything that reads them.
 *
 * Who gets it (`opensInBrowser`): a GET (or HEAD) whose Accept prefers `text/html` to `text/event-stream` and
 * `application/json`, as a browser's navigation does (`text/html,…,*\/*;q=0.8`). An MCP client's GET lists
 * `text/event-stream` (MCP 2025-11-25, basic/transports, "Listening for Messages from the Server": the client
 * MUST list it in Accept; the server MUST answer an event stream or 405, and this stateless server has no stream;
 * 2026-07-28 removed the GET stream altogether), so it keeps the JSON-RPC 405. So does a request with no Accept or
 * `*\/*` alone (curl): on a tie Express's `req.accepts` picks the first type offered, `text/event-stream`.
 */
export function opensInBrowser(req: Request): boolean {
  if (req.method !== "GET" && req.method !== "HEAD") return false;
  return req.accepts(["text/event-stream", "application/json", "text/html"]) === "text/html";
}

/**
 * The page: fixed text, nothing of the request in it (no reflected input), no script or style, and a policy that
 * would refuse them anyway. The link to `./` (the server's own `GET /`, which names the full URL to add) is
 * relative, so it stays right behind a proxy that serves the server under a path.
 */
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>airtable-oauth-mcp: MCP endpoint</title>
</head>
<body>
<h1>This is an MCP endpoint</h1>
<p>This address is for MCP clients, not for a browser. Add it (the URL in the address bar) to your MCP client
(Claude, ChatGPT, Cursor, VS Code, the MCP Inspector...) as a remote MCP server (Streamable HTTP): the client
signs you in with Airtable when it first connects.</p>
<p>How to add it in each client: the project's README, section "Connecting clients".</p>
<p><a href="./">About this server</a></p>
</body>
</html>
`;

/** Answers the page with the 405 every GET /mcp gets (the caller has set `Allow`). */
export function sendEndpointPage(res: Response): void {
  res
    .status(405)
    .set({
      "Content-Security-Policy": "default-src 'none'",
      "X-Content-Type-Options": "nosniff",
    })
    .type("html")
    .send(PAGE);
}
