/**
 * Readers for the deployment files (Dockerfiles, compose, Cloud Run YAML, env files), shared by tests/deploy. They
 * parse the way the real tools do where it matters: YAML with merge keys (`<<:`, as compose does), compose-style
 * `${VAR:-default}` interpolation, Dockerfile stages split on FROM.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseDocument } from "yaml";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

export function readRepoFile(path: string): string {
  return readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");
}

/** Parses YAML strictly: any syntax error or duplicate key throws, naming the file. */
export function parseYaml(text: string, name: string): unknown {
  const doc = parseDocument(text, { merge: true, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) throw new Error(`${name}: ${doc.errors.map((e) => e.message).join("\n")}`);
  return doc.toJS({ maxAliasCount: 100 });
}

export function readYaml<T = Record<string, unknown>>(path: string): T {
  return parseYaml(readRepoFile(path), path) as T;
}

/** A `KEY=VALUE` env file as compose's env_file and `--env-file` read it (comment lines and blank lines skipped). */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) throw new Error(`not a KEY=VALUE line: ${line}`);
    env[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return env;
}

/**
 * Compose variable interpolation over every string of a parsed compose file: `$VAR`, `${VAR}`, `${VAR:-default}`
 * (default when unset or empty), `${VAR-default}` (when unset), `$$` for a literal `$`.
 */
export function interpolate<T>(value: T, vars: Record<string, string>): T {
  if (typeof value === "string") {
    return value.replace(
      /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
      (match, braced: string | undefined, op: string | undefined, fallback: string | undefined, bare?: string) => {
        if (match === "$$") return "$";
        const name = (braced ?? bare) as string;
        const current = vars[name];
        if (op === ":-") return current === undefined || current === "" ? (fallback ?? "") : current;
        if (op === "-") return current === undefined ? (fallback ?? "") : current;
        return current ?? "";
      },
    ) as T;
  }
  if (Array.isArray(value)) return value.map((v: unknown) => interpolate(v, vars)) as T;
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, vars)])) as T;
  }
  return value;
}

export interface DockerStage {
  /** The FROM line's image after ARG substitution. */
  image: string;
  name: string | undefined;
  /** Instructions with continuation lines joined, comments dropped. */
  instructions: { keyword: string; args: string }[];
}

/** Splits a Dockerfile into stages, resolving `ARG NAME=default` used in FROM lines. */
export function parseDockerfile(text: string): DockerStage[] {
  const lines: string[] = [];
  let pending = "";
  for (const raw of text.split("\n")) {
    if (pending === "" && /^\s*#/.test(raw)) continue;
    const line = pending + raw.trim();
    if (line.endsWith("\\")) pending = `${line.slice(0, -1)} `;
    else {
      pending = "";
      if (line !== "") lines.push(line);
    }
  }
  const args: Record<string, string> = {};
  const stages: DockerStage[] = [];
  for (const line of lines) {
    const [keyword = "", ...rest] = line.split(/\s+/);
    const argsText = rest.join(" ");
    const upper = keyword.toUpperCase();
    if (upper === "ARG" && stages.length === 0) {
      const [name = "", def = ""] = argsText.split("=");
      args[name] = def;
    } else if (upper === "FROM") {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(argsText);
      if (m === null) throw new Error(`unreadable FROM line: ${line}`);
      const image = (m[1] as string).replace(
        /\$\{(\w+)\}|\$(\w+)/g,
        (_, a?: string, b?: string) => args[a ?? b ?? ""] ?? "",
      );
      stages.push({ image, name: m[2], instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (stage === undefined) throw new Error(`instruction before the first FROM: ${line}`);
      stage.instructions.push({ keyword: upper, args: argsText });
    }
  }
  return stages;
}

/** The exec-form JSON array of a HEALTHCHECK / CMD instruction's arguments (after HEALTHCHECK's options). */
export function execForm(args: string): string[] {
  const start = args.indexOf("[");
  if (start < 0) throw new Error(`not in exec (JSON array) form: ${args}`);
  return JSON.parse(args.slice(start)) as string[];
}
