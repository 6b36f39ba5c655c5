import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { startApp, type RunningApp } from "../../harness/app-server";
import { startFakeOpenAI, type FakeOpenAI } from "../../harness/fake-openai";
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

export interface AppWithFakeProvider extends AppInBrowser {
  fake: FakeOpenAI;
}

/**
 * useAppInBrowser with the app's provider pointed at a fake OpenAI-compatible server started before it (and closed
 * after it): chat model "fake-chat", embedding model "fake-embed", plus `env()`.
 */
export function useAppWithFakeProvider(
  env: () => Record<string, string> = () => ({}),
  fakeOptions: Parameters<typeof startFakeOpenAI>[0] = {},
): AppWithFakeProvider {
  let fake: FakeOpenAI | null = null;
  beforeAll(async () => {
    fake = await startFakeOpenAI(fakeOptions);
  });
  afterAll(async () => {
    await fake?.close();
  });
  const suite = useAppInBrowser(() => ({
    OPENAI_BASE_URL: fake!.baseURL,
    OPENAI_API_KEY: "test-key",
    OPENAI_CHAT_MODEL: "fake-chat",
    OPENAI_EMBEDDING_MODEL: "fake-embed",
    ...env(),
  })) as AppWithFakeProvider;
  beforeAll(() => {
    suite.fake = fake!;
  });
  return suite;
}
