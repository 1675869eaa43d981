/**
 * Dockerfile.server, Dockerfile.worker and .dockerignore, checked as text without a Docker engine: the stage layout
 * and the facts issue 5 asks for, that every COPY source exists and gets through .dockerignore, that the entrypoints
 * are the package's start scripts, and that the HEALTHCHECK commands work (run here against a stand-in server).
 * That the final stage's install really starts the processes is tests/deploy/packed-install.test.ts.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execForm, parseDockerfile, readRepoFile, type DockerStage } from "./deploy-files.ts";

const pkg = JSON.parse(readRepoFile("package.json")) as {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

const images = [
  { file: "Dockerfile.server", script: "start:server", portVar: "PORT", port: "8080" },
  { file: "Dockerfile.worker", script: "start:worker", portVar: "HEALTH_PORT", port: "8081" },
] as const;

const args = (stage: DockerStage, keyword: string): string[] =>
  stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);

/** .dockerignore as Docker applies it: later lines win, `!` re-includes; enough of the syntax for this file. */
function dockerignored(path: string): boolean {
  let ignored = false;
  for (const raw of readRepoFile(".dockerignore").split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const negate = line.startsWith("!");
    const pattern = (negate ? line.slice(1) : line).replace(/\/$/, "");
    const body = pattern
      .split("**")
      .map((part) => part.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*"))
      .join(".*");
    const regex = new RegExp(`^${body}(/.*)?$`);
    if (regex.test(path)) ignored = !negate;
  }
  return ignored;
}

describe.each(images)("$file", ({ file, script, portVar, port }) => {
  const stages = parseDockerfile(readRepoFile(file));
  const final = stages.at(-1) as DockerStage;

  it("is multi-stage on node:24-slim: a build stage, then a runtime stage", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage.image).toBe("node:24-slim");
    const build = stages.find((s) => s.name === "build") as DockerStage;
    expect(args(build, "RUN")).toContain("npm ci --no-audit --no-fund");
    expect(args(build, "RUN")).toContain("npm run build");
    expect(args(final, "COPY")).toContain("--from=build /app/dist/src ./dist/src");
  });

  it("installs production dependencies only, from the manifests alone (no install-time patching to miss)", () => {
    const install = args(final, "RUN").find((r) => r.includes("npm ci")) as string;
    expect(install).toMatch(/npm ci --omit=dev\b/);
    // The install needs nothing but package.json and the lockfile: no install step patches a dependency (a
    // patch-package postinstall used to fix Bottleneck's Redis datastore, and failed `npx` installs; the limiter no
    // longer uses that datastore, see docs/architecture.md).
    expect(args(final, "COPY")).toContain("package.json package-lock.json ./");
    expect(args(final, "COPY").some((c) => c.includes("patches"))).toBe(false);
    expect(pkg.scripts.postinstall).toBeUndefined();
    expect(Object.keys(pkg.dependencies)).not.toContain("patch-package");
  });

  it("runs with NODE_ENV=production as the non-root user node", () => {
    expect(args(final, "ENV")).toContain("NODE_ENV=production");
    const users = args(final, "USER");
    expect(users).toEqual(["node"]);
    const order = final.instructions.map((i) => i.keyword);
    expect(order.indexOf("USER")).toBeLessThan(order.indexOf("CMD"));
  });

  it(`starts the same file as npm run ${script}, with node itself as PID 1`, () => {
    const cmd = execForm(args(final, "CMD")[0] as string);
    expect(cmd.join(" ")).toBe(pkg.scripts[script]);
    expect(cmd[0]).toBe("node");
    expect(args(final, "ENTRYPOINT")).toEqual([]);
  });

  it("server: sizes V8's heap itself (16 MB semi-spaces, 256 MB old space) instead of deriving it from the container's memory", () => {
    // Derived, the young generation is 2 MB in the 512 MiB Cloud Run service: +25 % CPU per read call; without a
    // memory limit the old space may grow to ~4 GB (README, "Performance under many users"). The worker image has
    // no such measurement yet and sets none.
    const nodeOptions = args(final, "ENV").filter((e) => e.startsWith("NODE_OPTIONS="));
    expect(nodeOptions).toEqual(
      file === "Dockerfile.server" ? ['NODE_OPTIONS="--max-semi-space-size=16 --max-old-space-size=256"'] : [],
    );
  });

  it(`sets ${portVar}=${port}, exposes it, and has a HEALTHCHECK on /healthz there`, () => {
    expect(args(final, "ENV")).toContain(`${portVar}=${port}`);
    expect(args(final, "EXPOSE")).toEqual([port]);
    const healthcheck = args(final, "HEALTHCHECK")[0] as string;
    expect(healthcheck).toMatch(/--interval=\d+s/);
    const command = execForm(healthcheck);
    expect(command.slice(0, 2)).toEqual(["node", "-e"]);
    expect(command[2]).toContain(`process.env.${portVar}`);
    expect(command[2]).toContain("/healthz");
  });

  it("COPYs only files that exist and that .dockerignore lets into the build context", () => {
    for (const stage of stages) {
      for (const copy of args(stage, "COPY")) {
        if (copy.startsWith("--from=")) continue;
        const sources = copy.split(/\s+/).slice(0, -1);
        for (const source of sources) {
          expect(existsSync(new URL(`../../${source}`, import.meta.url)), source).toBe(true);
          expect(dockerignored(source), `${source} is excluded by .dockerignore`).toBe(false);
        }
      }
    }
  });
});

describe(".dockerignore", () => {
  it("keeps secrets, host builds, VCS data and tests out of the build context", () => {
    for (const path of [".env", "deploy/sandbox.env", ".git", "node_modules", "dist", "tests", "bench", "README.md"]) {
      expect(dockerignored(path), path).toBe(true);
    }
    for (const path of ["package.json", "package-lock.json", "src/server/main.ts"]) {
      expect(dockerignored(path), path).toBe(false);
    }
  });
});

describe("the HEALTHCHECK commands", () => {
  let server: Server;
  let port: number;
  let status = 200;
  beforeAll(async () => {
    server = createServer((req, res) => {
      res.statusCode = req.url === "/healthz" ? status : 404;
      res.end();
    }).listen(0, "127.0.0.1");
    await once(server, "listening");
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => server.close());

  const run = (file: string, env: Record<string, string>): Promise<number | null> => {
    const final = parseDockerfile(readRepoFile(file)).at(-1) as DockerStage;
    const [node, ...rest] = execForm(args(final, "HEALTHCHECK")[0] as string);
    expect(node).toBe("node");
    return new Promise((resolve) => {
      execFile(process.execPath, rest, { env, timeout: 10_000 }, (error) =>
        resolve(error === null ? 0 : typeof error.code === "number" ? error.code : null),
      );
    });
  };

  it.each(images)(
    "$file: exit 0 on 200 from /healthz on $portVar, 1 on an error status or no answer",
    async (image) => {
      status = 200;
      expect(await run(image.file, { [image.portVar]: String(port) })).toBe(0);
      status = 503;
      expect(await run(image.file, { [image.portVar]: String(port) })).toBe(1);
      const spare = createServer().listen(0, "127.0.0.1");
      await once(spare, "listening");
      const unused = (spare.address() as AddressInfo).port;
      spare.close();
      await once(spare, "close");
      expect(await run(image.file, { [image.portVar]: String(unused) })).toBe(1);
    },
  );
});
