// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/", ".dependency-cruiser.cjs"] },
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
 * Import boundaries (dependency-cruiser checks the same and cycles in `npm run check:deps`): src/shared never
 * reaches into src/server or src/worker, and src/ never imports tests/ (test code lives only under tests/).
 */
function importBoundaries() {
  // Relative imports only: package paths such as @modelcontextprotocol/sdk/server/… are fine.
  const serverOrWorker = {
    regex: "^\\.{1,2}/(.*/)?(server|worker)/",
    message: "src/shared must not import from src/server or src/worker",
  };
  const testsDir = { regex: "^\\.{1,2}/(.*/)?tests/", message: "production code must not import from tests/" };
  const rule = (...patterns) => ({ "no-restricted-imports": ["error", { patterns }] });
  return [
    { files: ["src/**/*.ts"], ignores: ["src/shared/**"], rules: rule(testsDir) },
    { files: ["src/shared/**/*.ts"], rules: rule(serverOrWorker, testsDir) },
  ];
}
