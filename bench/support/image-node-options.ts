import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * The `NODE_OPTIONS` a Dockerfile's final stage sets (`ENV NODE_OPTIONS=…`), or "" when it sets none. The
 * benchmarks run server processes with the server image's options so that CPU and RSS are measured in the shape
 * that is deployed (Dockerfile.server explains its flags). Throws when the file cannot be read.
 */
export function imageNodeOptions(dockerfile = "Dockerfile.server"): string {
  const path = fileURLToPath(new URL(`../../${dockerfile}`, import.meta.url));
  const stages = readFileSync(path, "utf8").split(/^FROM\s/m);
  const finalStage = stages[stages.length - 1] ?? "";
  let options = "";
  for (const line of finalStage.split("\n")) {
    const match = /^ENV\s+NODE_OPTIONS=(?:"([^"]*)"|(\S+))\s*$/.exec(line.trim());
    if (match !== null) options = match[1] ?? match[2] ?? "";
  }
  return options;
}
