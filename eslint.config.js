// Lint rules for the whole repository (`npm run lint`, part of `npm test`). Formatting is Prettier's
// job (`npm run format`), so no stylistic rule lives here.
import js from "@eslint/js";
import jsxA11y from "eslint-plugin-jsx-a11y";
import react from "eslint-plugin-react";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "build/", "public/build/", "data/", "bench/results/", ".cache/"] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: { globals: { ...globals.node } },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", ignoreRestSiblings: true }],
      // Kept off on purpose. tsconfig has noUncheckedIndexedAccess, so every index read (typed-array
      // kernels, rows[0], Map.get) is `T | undefined`; a `!` marks a read the surrounding code
      // guarantees (a loop bound, a row just inserted, an arm index the policy produced). Checking
      // each one at run time would cost in the engine's inner loops and say nothing more; the
      // type-aware no-unnecessary-type-assertion below removes any `!` the compiler does not need.
      "@typescript-eslint/no-non-null-assertion": "off",
    },
  },
  {
    files: ["**/*.ts", "**/*.tsx"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Type-aware checks worth their cost: a forgotten await, a promise where a callback is expected,
      // awaiting a non-promise, and a `!` or cast the compiler does not need.
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { attributes: false } }],
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/no-unnecessary-type-assertion": "error",
    },
  },
  {
    // One import convention: app modules import each other through "~/" (or "./" in the same folder),
    // never "../"; db/, bandit/ and tests/ lie outside app/ and are reached by relative paths.
    files: ["app/*/**/*.ts", "app/*/**/*.tsx"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ regex: "^\\.\\./(?!\\.\\./)", message: "Import app modules through ~/ (one import convention)." }] },
      ],
    },
  },
  {
    // Layers point one way: the benchmarks and the shared harness (real HTTP clients, the fake OpenAI
    // server, starting the app) never reach into tests/; tests may use them.
    files: ["scripts/**/*.ts", "harness/**/*.ts"],
    ignores: ["**/*.test.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ regex: "(^|/)tests/", message: "Benchmarks and harness/ import nothing from tests/." }] }],
    },
  },
  {
    // Browser tests wait for states, never for a time. A page is opened or reloaded through tests/helpers/page-state.ts,
    // which waits for hydration: a key pressed or a form posted after "load" but before hydration is lost or posts
    // natively, the flake of a loaded machine. A page that is only read, or not the app's, says so in a disable comment.
    files: ["tests/e2e/**/*.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector: "CallExpression[callee.property.name=/^(goto|reload)$/]",
          message: "Open the app's pages with gotoHydrated / reloadHydrated (tests/helpers/page-state.ts).",
        },
        {
          selector: "CallExpression[callee.property.name='waitForTimeout'], CallExpression[callee.name='setTimeout']",
          message: "Wait for a state (a locator, expect.poll, waitForIdleRevalidation), never for a time.",
        },
      ],
    },
  },
  {
    files: ["app/**/*.tsx"],
    ...react.configs.flat.recommended,
    languageOptions: { ...react.configs.flat.recommended.languageOptions, globals: { ...globals.browser } },
    settings: { react: { version: "18.3" } },
  },
  { files: ["app/**/*.tsx"], ...react.configs.flat["jsx-runtime"] },
  { files: ["app/**/*.tsx"], ...jsxA11y.flatConfigs.recommended },
  { files: ["app/**/*.tsx"], plugins: { "react-hooks": reactHooks }, rules: reactHooks.configs.recommended.rules },
);
