import type { Page, Response } from "playwright-core";

// Browser tests wait for the page's state, never for a time. "load" is not enough before a key press or a form
// post: until React has hydrated the document, hotkeys do not listen, a <Form> posts natively (no `replace`, a new
// document that is not hydrated either) and a value typed into an input can be lost to the hydration. The app's
// root marks both states on <html> (app/root.tsx): data-hydrated and data-router-state.

/** Waits until React has hydrated the page's current document (hotkeys listen, forms submit client-side). */
export async function waitForHydration(page: Page): Promise<void> {
  await page.locator("html[data-hydrated]").waitFor({ state: "attached" });
}

/** page.goto, then waits for the document to hydrate. Returns goto's response (its status, for a refused page). */
export async function gotoHydrated(page: Page, url: string): Promise<Response | null> {
  const response = await page.goto(url);
  await waitForHydration(page);
  return response;
}

/** page.reload, then waits for the new document to hydrate. */
export async function reloadHydrated(page: Page): Promise<Response | null> {
  const response = await page.reload();
  await waitForHydration(page);
  return response;
}

/**
 * Waits until the page is hydrated and no navigation, revalidation or fetcher is under way: it shows its loaders' latest
 * data, an input keyed by that data has remounted, and the effects of that render have run. Call it once the page shows
 * a state the awaited work produced (a status line): just after a click the work may not have started yet, and the
 * page still reads idle from before it.
 */
export async function waitForIdleRevalidation(page: Page): Promise<void> {
  await page.locator('html[data-router-state="idle"]').waitFor({ state: "attached" });
}
