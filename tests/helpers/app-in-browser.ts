import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { startApp, type RunningApp } from "../../harness/app-server";
import { launchBrowser } from "./browser";

export interface AppInBrowser {
  app: RunningApp;
  browser: Awaited<ReturnType<typeof launchBrowser>>;
}

/**
 * Registers hooks that start the app (its environment plus `env()`) and a browser before the suite's
 * tests and stop both after it. The fields are set once the hooks have run: read them in hooks and
 * tests. Hooks registered earlier run before these and their cleanup after (vitest's hook stack), so a
 * fake provider started first outlives the app. After each test, no page may have thrown.
 */
export function useAppInBrowser(env: () => Record<string, string> = () => ({})): AppInBrowser {
  const suite = {} as AppInBrowser;
  beforeAll(async () => {
    suite.app = await startApp(env());
    suite.browser = await launchBrowser();
  });
  afterEach(() => {
    const errors = suite.browser?.pageErrors.splice(0) ?? [];
    expect(errors, "uncaught errors in the browser").toEqual([]);
  });
  afterAll(async () => {
    await suite.browser?.close();
    await suite.app?.stop();
  });
  return suite;
}
