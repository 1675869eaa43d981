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
  {
    // src/shared is used by both processes; it must never reach into either of them.
    files: ["src/shared/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            // Relative imports only: package paths such as @modelcontextprotocol/sdk/server/… are fine.
            { regex: "^\\.{1,2}/(.*/)?(server|worker)/", message: "src/shared must not import from src/server or src/worker" },
          ],
        },
      ],
    },
  },
  {
    // The production code never imports the test sandbox.
    files: ["src/**/*.ts"],
    ignores: ["src/shared/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["**/tests/**"], message: "src must not import from tests" }] }],
    },
  },
);
