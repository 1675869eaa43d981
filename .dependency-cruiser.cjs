/**
 * The layering rules `npm test` enforces (npm run check:deps), beside eslint's per-file import rules:
 * no import cycles anywhere in src/, production code never imports tests/, src/shared never imports the
 * processes that use it (src/server, src/worker, src/stdio), and the Airtable sandbox (a fake Airtable that
 * the embedded demo starts) stands alone: it imports nothing of the product and the product's core
 * (shared, worker) imports nothing of it.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "Import cycles make load order matter and layers blur; break the cycle by moving the shared part.",
      from: { path: "^(src|tests|bench)/" },
      to: { circular: true },
    },
    {
      name: "src-not-to-tests",
      severity: "error",
      comment: "Production code must not import test code; test support lives under tests/.",
      from: { path: "^src/" },
      to: { path: "^tests/" },
    },
    {
      name: "shared-not-to-processes",
      severity: "error",
      comment: "src/shared is used by every process and must not depend on one of them.",
      from: { path: "^src/shared/" },
      to: { path: "^src/(server|worker|stdio)/" },
    },
    {
      name: "sandbox-stands-alone",
      severity: "error",
      comment: "The sandbox imitates Airtable from the outside: it must not borrow the product's code.",
      from: { path: "^src/sandbox/" },
      to: { path: "^src/(server|worker|stdio|shared)/" },
    },
    {
      name: "core-not-to-sandbox",
      severity: "error",
      comment: "Only composition roots may start the fake Airtable; shared code and workers never reach it.",
      from: { path: "^src/(shared|worker)/" },
      to: { path: "^src/sandbox/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsConfig: { fileName: "tsconfig.json" },
    tsPreCompilationDeps: true,
  },
};
