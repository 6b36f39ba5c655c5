import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type BrowserContextOptions } from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Debian's chromium driven by playwright-core, with a fresh profile directory. Playwright refuses
 * --user-data-dir in args, hence a persistent context on a new temporary directory. `pageErrors`
 * collects uncaught page errors and CSP violations of every page (tests assert it stays empty).
 */
export async function launchBrowser(
  options: Pick<BrowserContextOptions, "viewport" | "hasTouch" | "isMobile" | "colorScheme"> = {},
): Promise<{ context: BrowserContext; pageErrors: string[]; close(): Promise<void> }> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "promptduel-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    viewport: { width: 1280, height: 900 },
    ...options,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  // Uncaught exceptions in any page (a server-only module bundled for the browser, a hydration
  // failure): tests assert there are none, since a page can look right and still be broken.
  const pageErrors: string[] = [];
  context.on("weberror", (webError) => pageErrors.push(`${webError.page()?.url() ?? "?"}: ${webError.error().message}`));
  // Anything the Content-Security-Policy blocked (an inline script without the nonce, a style
  // attribute, a remote image) counts the same: the page may look right and still be broken.
  await context.exposeBinding("__reportCspViolation", (source, violation: string) => {
    pageErrors.push(`${source.page?.url() ?? "?"}: CSP violation: ${violation}`);
  });
  await context.addInitScript({
    content: `document.addEventListener("securitypolicyviolation", (event) =>
      window.__reportCspViolation(event.violatedDirective + " blocked " + (event.blockedURI || "inline") + " at " + event.sourceFile + ":" + event.lineNumber));`,
  });
  return {
    context,
    pageErrors,
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A phone: 390 x 844 CSS pixels, touch, no hover (an iPhone 12-14 class screen). */
export const PHONE = { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true } as const;

/** Where tests put screenshots for people to look at (ignored by git). */
export function screenshotPath(name: string): string {
  const dir = path.resolve("test-results");
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}
