// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-console": "off",
    },
  },
  ...importBoundaries(),
);

/**
 * Import boundaries: src/shared never reaches into src/server or src/worker, and production code never
 * imports the test sandbox or helpers (test files and test harnesses inside src/ may).
 */
function importBoundaries() {
  const testFiles = ["src/**/*.test.ts", "src/**/*test-harness.ts", "src/**/*.contract.ts"];
  // Relative imports only: package paths such as @modelcontextprotocol/sdk/server/… are fine.
  const serverOrWorker = {
    regex: "^\\.{1,2}/(.*/)?(server|worker)/",
    message: "src/shared must not import from src/server or src/worker",
  };
  const testsDir = { regex: "^\\.{1,2}/(.*/)?tests/", message: "production code must not import from tests/" };
  const rule = (...patterns) => ({ "no-restricted-imports": ["error", { patterns }] });
  return [
    { files: ["src/**/*.ts"], ignores: ["src/shared/**", ...testFiles], rules: rule(testsDir) },
    { files: ["src/shared/**/*.ts"], ignores: testFiles, rules: rule(serverOrWorker, testsDir) },
    { files: testFiles.map((f) => f.replace("src/", "src/shared/")), rules: rule(serverOrWorker) },
  ];
}
