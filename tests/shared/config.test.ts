import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runNodeScript } from "../helpers/processes.ts";
import {
  ConfigError,
  settingsFileHint,
  settingsFileOf,
  settingsFileTypos,
  loadConfig,
  startPlanOf,
} from "../../src/shared/config.ts";

const key = Buffer.alloc(32, 7).toString("base64");
const serverEnv = {
  PUBLIC_URL: "https://mcp.example.com/",
  REDIS_URL: "redis://127.0.0.1:6379",
  AIRTABLE_CLIENT_ID: "client-123",
  TOKEN_ENCRYPTION_KEY: key,
};

describe("loadConfig", () => {
  it("applies defaults and trims trailing slashes from URLs", () => {
    const config = loadConfig(serverEnv, "server");
    expect(config.PUBLIC_URL).toBe("https://mcp.example.com");
    expect(config.PORT).toBe(8080);
    expect(config.AIRTABLE_API_URL).toBe("https://api.airtable.com");
    expect(config.AIRTABLE_AUTH_URL).toBe("https://airtable.com");
    expect(config.AIRTABLE_CONTENT_URL).toBe("https://content.airtable.com");
    expect(config.LOG_LEVEL).toBe("info");
    expect(config.TOKEN_ENCRYPTION_KEY).toEqual(Buffer.alloc(32, 7));
    // Refresh reuse: 120 s (hosts retry 33–76 s after the first use, comet-ml/opik#8287).
    expect(config.REFRESH_REUSE_GRACE_SECONDS).toBe(120);
  });

  it("PUBLIC_URL must be an origin: a path is refused at start beside the other problems, naming the fix", () => {
    let error: unknown;
    try {
      loadConfig({ ...serverEnv, PUBLIC_URL: "http://localhost:8080/mcp", PORT: "abc" }, "server");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems } = error as ConfigError;
    expect(problems.map((p) => p.split(":")[0]).sort()).toEqual(["PORT", "PUBLIC_URL"]);
    // What to write, not how zod parsed it ("expected number, received NaN").
    expect(problems.find((p) => p.startsWith("PORT"))).toBe('PORT: must be a number (got "abc")');
    expect(() => loadConfig({ ...serverEnv, PORT: "8080.5" }, "server")).toThrow(
      'PORT: must be a whole number (got "8080.5")',
    );
    expect(problems.find((p) => p.startsWith("PUBLIC_URL"))).toContain(
      "must be an origin such as https://mcp.example.com (no path, query, fragment or user info; /mcp is added by the server)",
    );
    for (const almost of ["https://x.example/?", "https://x.example#", "https://user:pw@x.example"]) {
      expect(() => loadConfig({ ...serverEnv, PUBLIC_URL: almost }, "server"), almost).toThrow(
        /PUBLIC_URL: must be an origin/,
      );
    }
    // A trailing slash is still an origin.
    expect(loadConfig({ ...serverEnv, PUBLIC_URL: "https://mcp.example.com/" }, "server").PUBLIC_URL).toBe(
      "https://mcp.example.com",
    );
  });

  it("lists every problem at once, naming each variable and the fix", () => {
    let error: unknown;
    try {
      loadConfig(
        {
          PORT: "eighty",
          PUBLIC_URL: "not a url",
          LOG_LEVEL: "loud",
          TOKEN_ENCRYPTION_KEY: "short",
          AIRTABLE_CLIENT_SECRET: "s3cret",
        },
        "server",
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { message, problems } = error as ConfigError;
    for (const name of ["PORT", "PUBLIC_URL", "LOG_LEVEL", "TOKEN_ENCRYPTION_KEY", "REDIS_URL", "AIRTABLE_CLIENT_ID"]) {
      expect(message).toContain(`${name}:`);
    }
    expect(problems.length).toBe(6);
    expect(message).toContain("openssl rand -base64 32");
    expect(message).not.toContain("short"); // secrets are never echoed
    expect(message).toContain(".env.example");
  });

  it("names a REDIS_URL that is no URL at all (no scheme: 127.0.0.1:6379) as such, not with a TypeError", () => {
    // The database-number check reads the URL's path: it must not parse what the URL check already refused.
    for (const value of ["127.0.0.1:6379", "not a url", "redis://[::1"]) {
      let error: unknown;
      try {
        loadConfig({ REDIS_URL: value }, "worker");
      } catch (e) {
        error = e;
      }
      expect(error, value).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toContain(
        `REDIS_URL: must be a redis:// or rediss:// URL such as redis://127.0.0.1:6379`,
      );
      expect((error as ConfigError).message).not.toContain("is not a database number");
    }
  });

  it("treats empty strings as unset and requires only what the process needs", () => {
    expect(() => loadConfig({ AIRTABLE_TOKEN: "pat123", REDIS_URL: "" }, "stdio")).not.toThrow();
    expect(() => loadConfig({}, "stdio")).toThrow(/AIRTABLE_TOKEN: required for the stdio process/);
    // …and where to get one.
    expect(() => loadConfig({}, "stdio")).toThrow(/https:\/\/airtable\.com\/create\/tokens.*npm run sandbox/);
  });

  it("an Airtable URL copied with the path the server adds (/v0, /oauth2/v1) is refused at start: what to drop and what to use", () => {
    // Airtable's docs write https://api.airtable.com/v0/… and https://airtable.com/oauth2/v1/authorize; the server
    // adds those paths itself, so such a value sent every request to …/v0/v0/… (404: "the base does not exist").
    let error: unknown;
    try {
      loadConfig(
        {
          ...serverEnv,
          AIRTABLE_API_URL: "https://api.airtable.com/v0",
          AIRTABLE_AUTH_URL: "https://airtable.com/oauth2/v1/authorize",
          AIRTABLE_CONTENT_URL: "https://content.airtable.com/v0/",
          PORT: "x",
        },
        "server",
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'PORT: must be a number (got "x")',
      "AIRTABLE_API_URL: drop the /v0: the server adds /v0/… to every request itself (this URL would send them to " +
        '…/v0/v0/…); use https://api.airtable.com (got "https://api.airtable.com/v0")',
      "AIRTABLE_AUTH_URL: drop the /oauth2/v1/authorize: the server adds /oauth2/v1/authorize and /oauth2/v1/token " +
        'itself; use https://airtable.com (got "https://airtable.com/oauth2/v1/authorize")',
      "AIRTABLE_CONTENT_URL: drop the /v0: the server adds /v0/… to every request itself (this URL would send them " +
        'to …/v0/v0/…); use https://content.airtable.com (got "https://content.airtable.com/v0/")',
    ]);
    // A base's URL from the API docs, and the sandbox's URL with /v0, name the value to use.
    expect(() =>
      loadConfig({ AIRTABLE_API_URL: "https://api.airtable.com/v0/appABCDEFGHIJKLMN/Tasks" }, "any"),
    ).toThrow(/AIRTABLE_API_URL: drop the \/v0\/appABCDEFGHIJKLMN\/Tasks: .*; use https:\/\/api\.airtable\.com \(got/);
    expect(() => loadConfig({ AIRTABLE_API_URL: "http://127.0.0.1:8787/v0" }, "any")).toThrow(
      /use http:\/\/127\.0\.0\.1:8787 \(got/,
    );
    // Airtable's hosts are exact (another Airtable host, http, a path); a proxy keeps its path prefix.
    expect(() => loadConfig({ AIRTABLE_CONTENT_URL: "https://api.airtable.com" }, "any")).toThrow(
      "AIRTABLE_CONTENT_URL: Airtable serves attachment uploads at https://content.airtable.com exactly: use that " +
        '(or leave AIRTABLE_CONTENT_URL unset, it is the default) (got "https://api.airtable.com")',
    );
    expect(() => loadConfig({ AIRTABLE_API_URL: "http://api.airtable.com" }, "any")).toThrow(
      /AIRTABLE_API_URL: Airtable serves/,
    );
    expect(() => loadConfig({ AIRTABLE_API_URL: "https://proxy.example.com/airtable/v0" }, "any")).toThrow(
      /drop the \/v0: .*; use https:\/\/proxy\.example\.com\/airtable \(got/,
    );
    expect(() => loadConfig({ AIRTABLE_API_URL: "https://api.airtable.com/?x=1" }, "any")).toThrow(
      /AIRTABLE_API_URL: must be scheme, host and port .*no query, fragment or user info/,
    );
    // A proxy route with a v0 or oauth2 segment of its own, not followed by Airtable's path, is the proxy's: kept.
    expect(loadConfig({ AIRTABLE_API_URL: "https://gw.example.com/v0/airtable" }, "any").AIRTABLE_API_URL).toBe(
      "https://gw.example.com/v0/airtable",
    );
    // Each setting is checked for the path the server appends to it only: the OAuth endpoints' URL gets no /v0.
    expect(loadConfig({ AIRTABLE_AUTH_URL: "https://gw.example.com/v0" }, "any").AIRTABLE_AUTH_URL).toBe(
      "https://gw.example.com/v0",
    );
    expect(() => loadConfig({ AIRTABLE_AUTH_URL: "https://airtable.com/v0" }, "any")).toThrow(
      /AIRTABLE_AUTH_URL: Airtable serves the OAuth endpoints at https:\/\/airtable\.com exactly/,
    );
    expect(loadConfig({ AIRTABLE_AUTH_URL: "https://gw.example.com/oauth2/airtable" }, "any").AIRTABLE_AUTH_URL).toBe(
      "https://gw.example.com/oauth2/airtable",
    );
    expect(() => loadConfig({ AIRTABLE_API_URL: "https://gw.example.com/v0/appABCDEFGHIJKLMN" }, "any")).toThrow(
      /drop the \/v0\/appABCDEFGHIJKLMN: .*; use https:\/\/gw\.example\.com \(got/,
    );
    // Airtable's host written another way is Airtable's own value (stdio's 401 wording compares with it).
    expect(loadConfig({ AIRTABLE_API_URL: "https://API.Airtable.com:443/" }, "any").AIRTABLE_API_URL).toBe(
      "https://api.airtable.com",
    );
    const proxied = loadConfig(
      { AIRTABLE_API_URL: "https://proxy.example.com/airtable/", AIRTABLE_AUTH_URL: "http://sandbox.localhost:8787" },
      "any",
    );
    expect([proxied.AIRTABLE_API_URL, proxied.AIRTABLE_AUTH_URL]).toEqual([
      "https://proxy.example.com/airtable",
      "http://sandbox.localhost:8787",
    ]);
  });

  it("AIRTABLE_TOKEN written with Bearer, quotes or inner spaces is refused at start, one problem each, the token never echoed; whitespace around it is trimmed", () => {
    const pat = `patAbCdEfGhIjKlMn.${"0123456789abcdef".repeat(4)}`;
    const problemsOf = (token: string): string[] => {
      try {
        loadConfig({ AIRTABLE_TOKEN: token }, "stdio");
      } catch (error) {
        expect((error as ConfigError).message).not.toContain("AbCdEfGhIjKlMn");
        return (error as ConfigError).problems;
      }
      return [];
    };
    const bearer =
      'AIRTABLE_TOKEN: starts with "Bearer": give the token alone (pat…); the server sends "Authorization: Bearer" ' +
      'itself (got "<redacted>")';
    const quotes =
      'AIRTABLE_TOKEN: is wrapped in quotes that became part of the value (docker --env-file, systemd and a JSON "env" ' +
      'keep quotes as written): remove them (got "<redacted>")';
    expect(problemsOf(`Bearer ${pat}`)).toEqual([bearer]);
    expect(problemsOf(`bearer  ${pat}`)).toEqual([bearer]);
    // Whitespace around the token (a line end copied along, a file's final newline) is trimmed, not refused: such a
    // token worked before these checks (fetch trims a header value's trailing whitespace) and still does.
    for (const padded of [`${pat}\n`, ` ${pat}`, `\t${pat} \r\n`]) {
      expect(problemsOf(padded)).toEqual([]);
      expect(loadConfig({ AIRTABLE_TOKEN: padded }, "stdio").AIRTABLE_TOKEN).toBe(pat);
    }
    expect(problemsOf(`"${pat}"`)).toEqual([quotes]);
    expect(problemsOf(`'${pat}'`)).toEqual([quotes]);
    expect(problemsOf(`"Bearer ${pat}"\n`)).toEqual([bearer, quotes]);
    expect(problemsOf(`${pat.slice(0, 20)} ${pat.slice(20)}`)).toEqual([
      'AIRTABLE_TOKEN: has a space or line break inside: a token is one word; copy it again (got "<redacted>")',
    ]);
    expect(problemsOf(`\u201c${pat}\u201d`)[0]).toMatch(/^AIRTABLE_TOKEN: has characters no token has/);
    expect(problemsOf("keyAbCdEfGhIjKlMn")[0]).toMatch(/^AIRTABLE_TOKEN: is an Airtable API key .* retired/);
    // Anything else of one word goes to Airtable: OAuth access tokens and the sandbox's have other shapes.
    for (const ok of [pat, "pat123", "oaaAbCdEf.v1.ghIJ-_kl", "patNOTVALID.123"])
      expect(problemsOf(ok), ok).toEqual([]);
  });

  it("ALLOWED_ORIGINS takes origins (normalized as browsers send them) or *, and names an entry that is neither", () => {
    expect(
      loadConfig({ ...serverEnv, ALLOWED_ORIGINS: "https://App.Example.com/, http://localhost:6274" }, "server"),
    ).toMatchObject({ ALLOWED_ORIGINS: ["https://app.example.com", "http://localhost:6274"] });
    expect(loadConfig({ ...serverEnv, ALLOWED_ORIGINS: "*" }, "server").ALLOWED_ORIGINS).toEqual(["*"]);
    expect(loadConfig(serverEnv, "server").ALLOWED_ORIGINS).toEqual([]);
    expect(() =>
      loadConfig({ ...serverEnv, ALLOWED_ORIGINS: "https://ok.example, https://app.example.com/mcp" }, "server"),
    ).toThrow(/ALLOWED_ORIGINS: "https:\/\/app\.example\.com\/mcp" is not an origin: give scheme, host and port only/);
    expect(() => loadConfig({ ...serverEnv, ALLOWED_ORIGINS: "app.example.com" }, "server")).toThrow(/ALLOWED_ORIGINS/);
  });

  it("refuses limits above Airtable's and a Firestore store without a project", () => {
    expect(() => loadConfig({ ...serverEnv, AIRTABLE_BASE_RPS: "6" }, "server")).toThrow(/AIRTABLE_BASE_RPS/);
    expect(() => loadConfig({ ...serverEnv, TOKEN_STORE: "firestore" }, "server")).toThrow(/FIRESTORE_PROJECT_ID/);
  });
});

describe("loadConfigOrExit in the processes' entrypoints", () => {
  it.each(["server", "worker"])("%s: a bad environment prints every problem, no stack, and exits 1", async (role) => {
    const main = fileURLToPath(new URL(`../../src/${role}/main.ts`, import.meta.url));
    const result = await runNodeScript(main, {
      REDIS_URL: "",
      PUBLIC_URL: "",
      AIRTABLE_CLIENT_ID: "",
      TOKEN_ENCRYPTION_KEY: "too-short",
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Invalid configuration \(\d+ problems\):/);
    expect(result.stderr).toMatch(/REDIS_URL: required for the \w+ process but not set/);
    expect(result.stderr).toMatch(/TOKEN_ENCRYPTION_KEY/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stdout).toBe("");
  });
});

describe("loadConfig for npm start (role start)", () => {
  it("needs nothing without REDIS_URL: the embedded mode, with the fake Airtable when AIRTABLE_CLIENT_ID is unset", () => {
    const config = loadConfig({}, "start");
    expect(config.DATA_DIR).toBe("./data");
    expect(config.ROLE).toBe("all");
    expect(config.TOKEN_STORE).toBeUndefined();
    expect(startPlanOf(config)).toEqual({ mode: "embedded", role: "all", sandbox: true });
    expect(startPlanOf(loadConfig({ AIRTABLE_CLIENT_ID: "cli" }, "start"))).toEqual({
      mode: "embedded",
      role: "all",
      sandbox: false,
    });
  });

  it("NODE_ENV=production without AIRTABLE_CLIENT_ID is one clear problem, in either mode", () => {
    for (const env of [{ NODE_ENV: "production" }, { ...serverEnv, AIRTABLE_CLIENT_ID: "", NODE_ENV: "production" }]) {
      let error: unknown;
      try {
        loadConfig(env, "start");
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      const { problems, message } = error as ConfigError;
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^AIRTABLE_CLIENT_ID: required when NODE_ENV=production/);
      expect(message).toContain("never runs in production");
      expect(message).toContain("https://airtable.com/create/oauth");
    }
    // With it, production runs on one machine without Redis (a self-hoster's deployment), never the sandbox.
    const selfHosted = loadConfig({ NODE_ENV: "production", AIRTABLE_CLIENT_ID: "cli" }, "start");
    expect(startPlanOf(selfHosted)).toEqual({ mode: "embedded", role: "all", sandbox: false });
  });

  it("validates ROLE, and refuses a server or worker role without REDIS_URL", () => {
    expect(() => loadConfig({ ROLE: "both" }, "start")).toThrow(/ROLE: must be all, server or worker \(got "both"\)/);
    expect(() => loadConfig({ ROLE: "worker" }, "start")).toThrow(/ROLE: worker needs REDIS_URL/);
    expect(() => loadConfig({ ROLE: "server" }, "start")).toThrow(/ROLE: server needs REDIS_URL/);
    expect(() => loadConfig({ TOKEN_STORE: "redis" }, "start")).toThrow(/TOKEN_STORE: redis needs REDIS_URL/);
  });

  it("with REDIS_URL needs what the separate processes need, naming the embedded way out", () => {
    let error: unknown;
    try {
      loadConfig({ REDIS_URL: "redis://127.0.0.1:6379" }, "start");
    } catch (e) {
      error = e;
    }
    const { problems } = error as ConfigError;
    expect(problems.map((p) => p.split(":")[0])).toEqual(["PUBLIC_URL", "AIRTABLE_CLIENT_ID", "TOKEN_ENCRYPTION_KEY"]);
    expect(problems.join("\n")).toContain("unset REDIS_URL to run everything in one process");
    // A worker needs no PUBLIC_URL.
    const { PUBLIC_URL: _unused, ...workerEnv } = serverEnv;
    const worker = loadConfig({ ...workerEnv, ROLE: "worker" }, "start");
    expect(startPlanOf(worker)).toEqual({ mode: "distributed", role: "worker", sandbox: false });
    expect(startPlanOf(loadConfig(serverEnv, "start"))).toEqual({ mode: "distributed", role: "all", sandbox: false });
    expect(() => loadConfig({ ...serverEnv, TOKEN_STORE: "sqlite" }, "start")).toThrow(/TOKEN_STORE: sqlite is for/);
    expect(() => loadConfig({ ...serverEnv, TOKEN_STORE: "sqlite" }, "server")).toThrow(/TOKEN_STORE: sqlite is for/);
  });

  it("npm start's entrypoint prints the production problem alone and exits 1, before starting anything", async () => {
    const main = fileURLToPath(new URL("../../src/main.ts", import.meta.url));
    const result = await runNodeScript(main, { NODE_ENV: "production", REDIS_URL: "", AIRTABLE_CLIENT_ID: "" });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^Invalid configuration \(1 problem\):\n {2}- AIRTABLE_CLIENT_ID: required when NODE_ENV=production/,
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stdout).toBe("");
  });
});

describe("settings read from .env (npm start)", () => {
  const problemsOf = (env: Record<string, string>) => {
    try {
      loadConfig(env, "start");
    } catch (error) {
      return error as ConfigError;
    }
    throw new Error("expected a ConfigError");
  };

  it("names only the file's variables that count as set and that a problem names, whatever else the file holds", () => {
    const parsed = {
      REDIS_URL: "redis://127.0.0.1:6379",
      AIRTABLE_CLIENT_ID: "",
      "C++_FLAGS": "-O2",
      "x(y": "1",
      LOG_LEVEL: "warn",
      PORT: "8080",
    };
    const file = settingsFileOf(".env", parsed, { PORT: "9000" });
    // Empty (unset, like any empty variable) and environment-set (the environment wins) values are not the file's.
    expect([...file.names].sort()).toEqual(["C++_FLAGS", "LOG_LEVEL", "REDIS_URL", "x(y"]);
    const error = problemsOf({ REDIS_URL: "redis://127.0.0.1:6379", LOG_LEVEL: "warn" });
    expect(settingsFileHint(error, file)).toBe(
      "\nREDIS_URL was read from .env (variables set in the environment win over it): change or remove it there.",
    );
    expect(settingsFileHint(error, undefined)).toBe("");
    expect(settingsFileHint(error, settingsFileOf(".env", { LOG_LEVEL: "warn" }, {}))).toBe("");
  });

  it("names a misspelt setting in the file and the one it likely meant; other programs' variables are left alone", () => {
    const file = settingsFileOf(
      ".env",
      {
        AIRTABLE_CLIENTID: "abc", // a letter short
        LOG_LEVLE: "debug", // two letters swapped
        port: "9000", // another case
        "PUBLIC-URL": "http://localhost:9000", // another separator
        REDIS_URL: "redis://127.0.0.1:6379", // a setting
        NODE_OPTIONS: "--max-old-space-size=512",
        AIRTABLE_PAT: "pat123",
        HOST: "0.0.0.0", // two edits from PORT, too far for a 4-letter name
        DEBUG: "*",
        ADMIN_TOKN: "", // empty: unset, so not the file's
      },
      {},
    );
    expect(settingsFileTypos(file)).toEqual([
      ".env sets AIRTABLE_CLIENTID, which is not a setting of airtable-oauth-mcp (ignored): did you mean AIRTABLE_CLIENT_ID?",
      ".env sets LOG_LEVLE, which is not a setting of airtable-oauth-mcp (ignored): did you mean LOG_LEVEL?",
      ".env sets port, which is not a setting of airtable-oauth-mcp (ignored): did you mean PORT?",
      ".env sets PUBLIC-URL, which is not a setting of airtable-oauth-mcp (ignored): did you mean PUBLIC_URL?",
    ]);
    expect(settingsFileTypos(undefined)).toEqual([]);
  });
});
