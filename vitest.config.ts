import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const alias = { "~": fileURLToPath(new URL("./app", import.meta.url)) };
// Engine and job threads at the process's priority (app/utils/thread-priority.server.ts): at the
// product's nice 19 a loaded machine starves them, and a test waiting for the engine waits for the load.
// Servers the tests start inherit it through process.env.
const env = { BACKGROUND_THREAD_PRIORITY: "normal" };

export default defineConfig({
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: "unit",
          env,
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
          env,
          include: ["tests/e2e/**/*.e2e.test.ts"],
          setupFiles: ["tests/setup/fail-on-console-error.ts"],
          fileParallelism: false,
          // Ceilings for a very slow machine, not expectations: tests wait for states, never for a time.
          testTimeout: 300_000,
          hookTimeout: 120_000,
          // expect.poll's own default ceiling is 1 s, which a loaded machine overruns while a page hydrates or
          // revalidates: the same ceiling as Playwright's waits.
          expect: { poll: { timeout: 30_000 } },
        },
      },
    ],
  },
});
