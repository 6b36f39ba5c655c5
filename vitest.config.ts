import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const alias = { "~": fileURLToPath(new URL("./app", import.meta.url)) };

export default defineConfig({
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: "unit",
          include: ["{app,db,bandit,quality,harness,scripts,tests}/**/*.test.ts"],
          exclude: ["tests/e2e/**", "node_modules/**"],
          setupFiles: ["tests/setup/fail-on-console-error.ts"],
          // A ceiling for a very slow machine, not an expectation (the engine tests train networks).
          testTimeout: 120_000,
        },
      },
      {
        resolve: { alias },
        test: {
          name: "e2e",
          include: ["tests/e2e/**/*.e2e.test.ts"],
          setupFiles: ["tests/setup/fail-on-console-error.ts"],
          fileParallelism: false,
          // Ceilings for a very slow machine, not expectations: tests wait for states, never for a time.
          testTimeout: 300_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
