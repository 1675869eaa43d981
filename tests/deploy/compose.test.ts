/**
 * docker-compose.yml, validated without a Docker engine: parsed as compose parses it (YAML with merge keys, then
 * variable interpolation from the env file compose would read), checked against the official Compose Specification
 * JSON schema, then for the facts issue 5 asks for and for the configuration each service would really start with
 * (src/shared/config.ts's loadConfig, the same code the processes run).
 *
 * compose-spec.schema.json is schema/compose-spec.json of the compose-spec/compose-spec repository (Apache-2.0),
 * commit 170098ba07d9f53c383a41bfd4c5166b0a4529a6, unchanged except for formatting. Refresh it from there (the npm
 * package dclint ships a copy too) when compose gains a feature this file wants to use.
 */
import { existsSync, readFileSync } from "node:fs";
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { once } from "node:events";
import { Ajv } from "ajv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema, loadConfig } from "../../src/shared/config.ts";
import { interpolate, parseEnvFile, parseYaml, readRepoFile } from "./deploy-files.ts";

interface Healthcheck {
  test: string[];
  interval?: string;
}
interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string; dockerfile_inline?: string };
  command?: string[];
  env_file?: string | string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number };
  healthcheck?: Healthcheck;
  profiles?: string[];
  networks?: { default?: { aliases?: string[] } };
  stop_grace_period?: string;
}
interface ComposeFile {
  name: string;
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const raw = parseYaml(readRepoFile("docker-compose.yml"), "docker-compose.yml") as ComposeFile;
const envExample = parseEnvFile(readRepoFile(".env.example"));
const sandboxEnv = parseEnvFile(readRepoFile("deploy/sandbox.env"));

/** The file as compose sees it in normal use: `.env` (a copy of .env.example) for interpolation. */
const normal = interpolate(raw, envExample);
/** The demo: `--env-file deploy/sandbox.env`, which replaces .env for interpolation. */
const demo = interpolate(raw, sandboxEnv);

const service = (file: ComposeFile, name: string): Service => {
  const s = file.services[name];
  if (s === undefined) throw new Error(`docker-compose.yml has no service "${name}"`);
  return s;
};
const envFiles = (s: Service): string[] => (s.env_file === undefined ? [] : [s.env_file].flat());

/**
 * The environment a container gets: its env_file(s), then `environment:` on top (compose's precedence). `.env` is
 * read as the README makes it: a copy of .env.example.
 */
function containerEnv(file: ComposeFile, name: string): Record<string, string> {
  const s = service(file, name);
  const read = (f: string) => parseEnvFile(readRepoFile(f === ".env" ? ".env.example" : f));
  const fromFiles = Object.assign({}, ...envFiles(s).map(read)) as Record<string, string>;
  return { ...fromFiles, ...s.environment };
}

/** Pairs a flag list such as ["redis-server", "--appendonly", "yes"] into { appendonly: "yes" }. */
function flags(command: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  command.forEach((arg, i) => {
    if (arg.startsWith("--")) out[arg.slice(2)] = command[i + 1] ?? "";
  });
  return out;
}

function schemaValidator() {
  const schema = JSON.parse(readFileSync(new URL("./compose-spec.schema.json", import.meta.url), "utf8")) as object;
  // The schema names the https draft-07 meta-schema, which Ajv knows under its http id: skip meta-validation.
  const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: false });
  return ajv.compile(schema);
}

describe("docker-compose.yml against the Compose Specification schema", () => {
  const validate = schemaValidator();

  it("is valid as written, with .env and with deploy/sandbox.env interpolated", () => {
    for (const [label, file] of [
      ["as written", raw],
      ["with .env", normal],
      ["with deploy/sandbox.env", demo],
    ] as const) {
      const ok = validate(file);
      expect(ok, `${label}: ${JSON.stringify(validate.errors, null, 2)}`).toBe(true);
    }
  });

  it("the schema check is not vacuous: a misspelt key or an unknown value is refused", () => {
    const misspelt = structuredClone(raw) as unknown as { services: Record<string, Record<string, unknown>> };
    misspelt.services.server = { ...misspelt.services.server, helthcheck: { test: ["CMD", "true"] } };
    expect(validate(misspelt)).toBe(false);
    const unknownCondition = structuredClone(raw) as unknown as { services: Record<string, Record<string, unknown>> };
    unknownCondition.services.worker = {
      ...unknownCondition.services.worker,
      depends_on: { redis: { condition: "service_happy" } },
    };
    expect(validate(unknownCondition)).toBe(false);
  });
});

describe("docker-compose.yml: what issue 5 asks for", () => {
  it("runs Redis 7 with AOF on, noeviction, and its data on a named volume", () => {
    const redis = service(normal, "redis");
    expect(redis.image).toMatch(/^redis:7(\.|-|$)/);
    const f = flags(redis.command ?? []);
    expect(f.appendonly).toBe("yes");
    expect(f["maxmemory-policy"]).toBe("noeviction");
    const dataVolume = (redis.volumes ?? []).find((v) => v.endsWith(":/data"));
    expect(dataVolume, "a volume mounted at /data (the image's data directory)").toBeDefined();
    const volumeName = (dataVolume as string).split(":")[0] as string;
    expect(Object.keys(normal.volumes ?? {})).toContain(volumeName);
  });

  it("starts the server and two workers by default; the sandbox only with its profile", () => {
    for (const name of ["redis", "server", "worker"]) expect(service(normal, name).profiles).toBeUndefined();
    expect(service(normal, "worker").deploy?.replicas).toBe(2);
    expect(service(normal, "sandbox").profiles).toEqual(["sandbox"]);
  });

  it("builds the server and the worker from their Dockerfiles", () => {
    expect(service(normal, "server").build).toMatchObject({ context: ".", dockerfile: "Dockerfile.server" });
    expect(service(normal, "worker").build).toMatchObject({ context: ".", dockerfile: "Dockerfile.worker" });
  });

  it("gives the server and the workers .env, waits for a healthy Redis, and stops within Cloud Run's 10 s", () => {
    for (const name of ["server", "worker"]) {
      const s = service(normal, name);
      expect(envFiles(s), name).toEqual([".env"]);
      expect(s.depends_on?.redis?.condition, name).toBe("service_healthy");
      expect(s.stop_grace_period, name).toBe("10s");
    }
  });

  it("has a healthcheck on every service; server and workers probe /healthz on their own port", () => {
    for (const [name, s] of Object.entries(normal.services)) {
      expect(s.healthcheck?.test.length, `${name} healthcheck`).toBeGreaterThan(0);
    }
    const server = service(normal, "server");
    expect(server.healthcheck?.test.join(" ")).toContain(`:${server.environment?.PORT}/healthz`);
    const worker = service(normal, "worker");
    expect(worker.healthcheck?.test.join(" ")).toContain(`:${worker.environment?.HEALTH_PORT}/healthz`);
  });

  it("publishes the server's container port, and PUBLIC_URL of .env.example points at it", () => {
    const server = service(normal, "server");
    const port = server.environment?.PORT;
    expect(server.ports).toContain(`${port}:${port}`);
    expect(new URL(envExample.PUBLIC_URL as string).port).toBe(port);
  });

  it("names only variables src/shared/config.ts knows in the services' environment", () => {
    const known = new Set(Object.keys(configSchema.shape));
    for (const name of ["server", "worker"]) {
      for (const key of Object.keys(service(normal, name).environment ?? {})) expect(known, key).toContain(key);
    }
  });

  it("with .env.example copied to .env, only the two secrets the README asks for are missing", () => {
    for (const [name, role] of [
      ["server", "server"],
      ["worker", "worker"],
    ] as const) {
      const env = containerEnv(normal, name);
      expect(env.REDIS_URL, "compose's own Redis, not .env.example's 127.0.0.1").toBe("redis://redis:6379");
      const problems = (() => {
        try {
          loadConfig(env, role);
          return [];
        } catch (error) {
          return (error as { problems: string[] }).problems;
        }
      })();
      expect(problems.map((p) => p.split(":")[0]).sort(), name).toEqual(["AIRTABLE_CLIENT_ID", "TOKEN_ENCRYPTION_KEY"]);
      const filled = {
        ...env,
        AIRTABLE_CLIENT_ID: "abc",
        TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString("base64"),
      };
      expect(() => loadConfig(filled, role)).not.toThrow();
    }
  });
});

describe("docker-compose.yml with deploy/sandbox.env (npm run demo)", () => {
  const sandbox = service(demo, "sandbox");
  const sandboxEnvVars = sandbox.environment ?? {};

  it("is what `npm run demo` runs, and that file selects itself and the sandbox profile", () => {
    const pkg = JSON.parse(readRepoFile("package.json")) as { scripts: Record<string, string> };
    expect(pkg.scripts.demo).toMatch(/^docker compose --env-file deploy\/sandbox\.env --profile sandbox up\b/);
    expect(sandboxEnv.COMPOSE_PROFILES?.split(",")).toContain("sandbox");
    // A project of its own: `down -v` on the demo never deletes a real deployment's Redis volume.
    expect(sandboxEnv.COMPOSE_PROJECT_NAME).toMatch(/sandbox/);
    expect(sandboxEnv.COMPOSE_PROJECT_NAME).not.toBe(raw.name);
    for (const name of ["server", "worker"])
      expect(envFiles(service(demo, name)), name).toEqual(["deploy/sandbox.env"]);
  });

  it("is labelled as a sandbox", () => {
    expect(readRepoFile("docker-compose.yml")).toMatch(/SANDBOX ONLY/);
    expect(readRepoFile("deploy/sandbox.env")).toMatch(/SANDBOX DEMO ONLY/);
  });

  it("builds the sandbox from src/sandbox and runs its main.ts on all interfaces", () => {
    const context = sandbox.build?.context as string;
    expect(existsSync(new URL(`../../${context}/main.ts`, import.meta.url))).toBe(true);
    expect(sandbox.build?.dockerfile_inline).toMatch(/CMD \["node", "main\.ts"\]/);
    expect(sandboxEnvVars.HOST).toBe("0.0.0.0");
  });

  it("registers the OAuth client the server uses, with the server's callback, and signs the browser in", () => {
    const serverEnv = containerEnv(demo, "server");
    expect(sandboxEnvVars.SANDBOX_CLIENT_ID).toBe(serverEnv.AIRTABLE_CLIENT_ID);
    expect(sandboxEnvVars.SANDBOX_REDIRECT_URIS?.split(",")).toContain(`${serverEnv.PUBLIC_URL}/oauth/callback`);
    expect(sandboxEnvVars.SANDBOX_SIGN_IN_AS).toBe("demo@example.com");
  });

  it("has the server and workers reach the sandbox under one URL the host's browser reaches too", () => {
    const containerPort = sandboxEnvVars.PORT as string;
    const aliases = sandbox.networks?.default?.aliases ?? [];
    for (const name of ["server", "worker"]) {
      const env = containerEnv(demo, name);
      for (const key of ["AIRTABLE_API_URL", "AIRTABLE_AUTH_URL", "AIRTABLE_CONTENT_URL"]) {
        const url = new URL(env[key] as string);
        // Containers: the name resolves through the compose network alias to the sandbox, on its container port.
        expect([...aliases, "sandbox"], `${name} ${key}`).toContain(url.hostname);
        expect(url.port, `${name} ${key}`).toBe(containerPort);
        // Browsers: *.localhost resolves to loopback (RFC 6761), where the same port number is published.
        expect(url.hostname, `${name} ${key}`).toMatch(/\.localhost$/);
        expect(sandbox.ports).toContain(`${url.port}:${containerPort}`);
      }
    }
  });

  it("gives the server and the workers a complete, valid configuration", () => {
    expect(() => loadConfig(containerEnv(demo, "server"), "server")).not.toThrow();
    expect(() => loadConfig(containerEnv(demo, "worker"), "worker")).not.toThrow();
  });
});

describe("the healthcheck commands of docker-compose.yml", () => {
  let server: Server;
  let port: number;
  let status = 200;
  beforeAll(async () => {
    server = createServer((req, res) => {
      res.statusCode = req.url === "/healthz" || req.url === "/v0/meta/whoami" ? status : 404;
      res.end();
    }).listen(0, "127.0.0.1");
    await once(server, "listening");
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => server.close());

  /** Runs a service's `node -e` healthcheck against the local stand-in (its fixed port swapped for ours). */
  async function runNodeCheck(name: string, target = port): Promise<number | null> {
    const test = service(normal, name).healthcheck?.test ?? [];
    expect(test.slice(0, 3), name).toEqual(["CMD", "node", "-e"]);
    const script = (test[3] as string).replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${target}`);
    // Asynchronously: the stand-in server answers from this very process.
    return new Promise((resolve) => {
      execFile(process.execPath, ["-e", script], { timeout: 10_000 }, (error) =>
        resolve(error === null ? 0 : typeof error.code === "number" ? error.code : null),
      );
    });
  }

  it("pass on 200 and fail on an error status (the sandbox's passes on any answer)", async () => {
    for (const name of ["server", "worker", "sandbox"]) {
      status = 200;
      expect(await runNodeCheck(name), name).toBe(0);
    }
    status = 503;
    expect(await runNodeCheck("server")).toBe(1);
    expect(await runNodeCheck("worker")).toBe(1);
    expect(await runNodeCheck("sandbox"), "any answer means the sandbox is up").toBe(0);
  });

  it("fail when nothing listens", async () => {
    const spare = createServer().listen(0, "127.0.0.1");
    await once(spare, "listening");
    const unused = (spare.address() as AddressInfo).port;
    spare.close();
    await once(spare, "close");
    expect(await runNodeCheck("server", unused)).toBe(1);
    expect(await runNodeCheck("worker", unused)).toBe(1);
    expect(await runNodeCheck("sandbox", unused)).toBe(1);
  });
});
