/**
 * Listening on a configured port, with the failure as a sentence for the person who set it up.
 */
import { once } from "node:events";
import type { Server } from "node:http";

/**
 * `server.listen(port)`, resolving once it listens. Rejects with an Error naming the port, the cause (EADDRINUSE:
 * another process has it) and the setting that changes it (`setting`: PORT, HEALTH_PORT), e.g. "Cannot listen on
 * port 8081 (HEALTH_PORT): address already in use. Stop what uses it, or set HEALTH_PORT to a free port."; the
 * original error is its `cause`.
 */
export async function listenOn(server: Server, port: number, setting: string): Promise<void> {
  server.listen(port);
  try {
    await once(server, "listening");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const [why, fix] =
      code === "EADDRINUSE"
        ? [
            "address already in use (another process listens there)",
            `Stop what uses it, or set ${setting} to a free port.`,
          ]
        : code === "EACCES"
          ? ["permission denied (ports below 1024 need privileges)", `Set ${setting} to a port above 1023.`]
          : [(error as Error).message, `Set ${setting} to a free port this machine can listen on.`];
    throw new Error(`Cannot listen on port ${port} (${setting}): ${why}. ${fix}`, { cause: error });
  }
}
