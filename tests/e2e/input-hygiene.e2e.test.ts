import { randomBytes } from "node:crypto";
import type Database from "better-sqlite3";
import { beforeAll, describe, expect, it } from "vitest";
import { createFirstOwner, signInInBrowser } from "../helpers/accounts";
import { useAppInBrowser } from "../helpers/app-in-browser";
import { readAppDatabase } from "../../harness/app-server";
import { screenshotPath } from "../helpers/browser";
import { gotoHydrated } from "../helpers/page-state";

describe("input hygiene in a real browser", () => {
  const suite = useAppInBrowser();
  const readDb = <T>(read: (db: Database.Database) => T): T => readAppDatabase(suite.app, read);

  // The study's owner, signed in once for the whole browser context (its pages share the cookie).
  beforeAll(async () => {
    const page = await suite.browser.context.newPage();
    await signInInBrowser(page, suite.app, await createFirstOwner(suite.app));
    await page.close();
  });

  it("refuses binary uploads as queries or prompts and adds nothing", async () => {
    const studyId = readDb((db) => db.prepare("select id from studies order by id limit 1").pluck().get() as number);
    const counts = () => readDb((db) => db.prepare("select (select count(*) from queries) || '/' || (select count(*) from prompts)").pluck().get());
    const before = counts();
    const page = await suite.browser.context.newPage();
    await gotoHydrated(page, `${suite.app.url}/studies/${studyId}/setup`);
    await page.locator("#queriesFile").setInputFiles({ name: "queries.txt", mimeType: "text/plain", buffer: randomBytes(3_000) });
    await page.getByRole("button", { name: "Add queries" }).click();
    await page.getByText(/queries\.txt: this (is a binary file|is not valid UTF-8)/).waitFor();
    const png = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]),
      randomBytes(2_000),
    ]);
    await page.locator("#promptsFile").setInputFiles({ name: "logo.png", mimeType: "image/png", buffer: png });
    await page.getByRole("button", { name: "Add prompts" }).click();
    await page.getByText(/logo\.png: this (is a binary file|is not valid UTF-8)/).waitFor();
    expect(counts()).toBe(before);
    // The page stays its normal width.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1280);
    await page.screenshot({ path: screenshotPath("setup-binary-refused.png"), fullPage: false });
    await page.close();
  });

  it("shows a 404 page with a way home, and serves a favicon", async () => {
    const page = await suite.browser.context.newPage();
    const response = await gotoHydrated(page, `${suite.app.url}/nope`);
    expect(response?.status()).toBe(404);
    await page.getByRole("heading", { name: "Page not found" }).waitFor();
    await expect(page.getByText("There is no page at /nope.").isVisible()).resolves.toBe(true);
    await page.getByRole("link", { name: "Go to the studies list" }).click();
    await page.getByRole("heading", { name: "Studies" }).waitFor();
    const icon = await fetch(`${suite.app.url}/favicon.ico`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get("content-type")).toContain("image/svg+xml");
    await page.close();
  });
});
