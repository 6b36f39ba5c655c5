import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAnnotatorLink, createFirstOwner, inviteTokenOf, signInInBrowser, TEST_PASSWORD, type Account } from "../helpers/accounts";
import { ApiAnnotator } from "../../harness/api-annotator";
import { useAppInBrowser } from "../helpers/app-in-browser";
import { readAppDatabase, startApp, type RunningApp } from "../../harness/app-server";
import { launchBrowser } from "../helpers/browser";
import { postForm, probe } from "../helpers/http-probe";
import { gotoHydrated } from "../helpers/page-state";

const demoStudy = 1;

// Tables the engine writes on its own schedule, and the migrator's bookkeeping: not a request's doing.
const NOT_REQUEST_DATA = new Set(["engine_snapshots", "engine_checkpoints", "__drizzle_migrations", "sqlite_sequence"]);

/**
 * Row counts of every table a request could write (accounts, sessions, invites, tokens, the audit log
 * and jobs included) and each study's status (a lifecycle action changes no count), to check that
 * refused requests wrote nothing.
 */
function appState(app: RunningApp): Record<string, unknown> {
  return readAppDatabase(app, (db) => {
    const tables = (db.prepare("select name from sqlite_master where type = 'table'").pluck().all() as string[]).filter(
      (table) => !NOT_REQUEST_DATA.has(table),
    );
    return {
      ...Object.fromEntries(tables.map((table) => [table, db.prepare(`select count(*) from "${table}"`).pluck().get() as number])),
      studyStatuses: db.prepare("select id, status from studies order by id").all(),
    };
  });
}

const countOf = (app: RunningApp, table: string) =>
  readAppDatabase(app, (db) => db.prepare(`select count(*) from "${table}"`).pluck().get() as number);

/** A page on another port of the same host, the issue's attack: same-site for the browser, so the Lax session cookie rides along. */
async function startAttackerSite(appUrl: string, joinPath: string) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://attacker");
    const form = (action: string, fields: Record<string, string>) =>
      `<form id="f" method="post" action="${appUrl}${action}">${Object.entries(fields)
        .map(([name, value]) => `<input name="${name}" value="${value}">`)
        .join("")}</form><script>document.getElementById("f").submit()</script>`;
    const pages: Record<string, string> = {
      "/join-data": form(`${joinPath}?_data=routes/join.$token`, { displayName: "Planted by attacker" }),
      "/join": form(joinPath, { displayName: "Planted by attacker" }),
      "/new-study": form("/studies/new", { name: "Attacker study", task: "pwn", model: "m", temperature: "0.7", maxTokens: "100", queriesText: "q" }),
      "/new-study-data": form("/studies/new.data", { name: "Attacker study", task: "pwn", model: "m", temperature: "0.7", maxTokens: "100" }),
      "/new-token": form(`/studies/${demoStudy}/tokens`, { intent: "create-token", name: "Attacker token", scope: "write", expiresInDays: "" }),
      "/pause-study": form(`/studies/${demoStudy}`, { statusAction: "pause" }),
      "/vote": `<script>
        fetch(${JSON.stringify(`${appUrl}/api/studies/${demoStudy}/votes`)}, {
          method: "POST", mode: "no-cors", credentials: "include",
          headers: { "Content-Type": "text/plain" },
          body: JSON.stringify({ assignmentId: Number(${JSON.stringify(url.searchParams.get("assignment") ?? "0")}), choice: "left" }),
        // Our Cross-Origin-Resource-Policy makes even the opaque answer a network error for this page.
        }).catch(() => undefined).finally(() => { document.title = "sent"; });
      </script>`,
    };
    res.writeHead(pages[url.pathname] ? 200 : 404, { "Content-Type": "text/html" });
    res.end(pages[url.pathname] ?? "no such page");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(resolve)) };
}

describe("cross-site requests in a real browser", () => {
  const suite = useAppInBrowser();
  let owner: Account;
  let joinLink: string;
  let attacker: Awaited<ReturnType<typeof startAttackerSite>>;
  beforeAll(async () => {
    owner = await createFirstOwner(suite.app);
    joinLink = await createAnnotatorLink(suite.app, owner, demoStudy);
    attacker = await startAttackerSite(suite.app.url, new URL(joinLink).pathname);
  });
  afterAll(async () => {
    await attacker?.close();
  });

  /** Opens each attack page in `victim`'s browser and checks that the server alone refused the post it made, session and all. */
  async function expectRefused(victim: { context: Awaited<ReturnType<typeof launchBrowser>>["context"] }, attacks: string[]) {
    for (const attack of attacks) {
      const attackPage = await victim.context.newPage();
      const refused = attackPage.waitForResponse((response) => response.url().startsWith(suite.app.url) && response.request().method() === "POST");
      // The attacker's page, not the app's: it posts as it loads.
      // eslint-disable-next-line no-restricted-syntax
      await attackPage.goto(`${attacker.url}${attack}`);
      const response = await refused;
      expect(response.status(), attack).toBe(403);
      expect(await response.text()).toMatch(/^Cross-site request refused: this POST came from another site \(Sec-Fetch-Site: same-site\)/);
      // The post carried the victim's session (same-site, so SameSite=Lax lets it ride): only the server's check stopped it.
      expect((await response.request().allHeaders()).cookie).toContain("__promptduel_session=");
      await attackPage.close();
    }
  }

  it("refuses form posts (with and without ?_data, to pages and .data URLs) and API votes from another port, writing nothing", async () => {
    const page = await suite.browser.context.newPage();
    // The victim joins by invite and holds an open pair, as an annotator mid-study would.
    await gotoHydrated(page, joinLink);
    await page.getByLabel("Display name").fill("Victim");
    await page.getByRole("button", { name: /join and start/i }).click();
    await page.getByRole("button", { name: /start annotating/i }).click();
    await page.getByRole("article", { name: "Response A" }).waitFor();
    const assignmentId = await page.locator('.pair-form input[name="assignmentId"]').inputValue();
    // A second victim: the owner, signed in in a browser of their own, on whose pages a forged post would do the most harm.
    const ownerBrowser = await launchBrowser();
    try {
      await signInInBrowser(await ownerBrowser.context.newPage(), suite.app, owner);
      const before = appState(suite.app);

      await expectRefused(suite.browser, ["/join-data", "/join"]);
      await expectRefused(ownerBrowser, ["/new-study", "/new-study-data", "/new-token", "/pause-study"]);
      const votePage = await suite.browser.context.newPage();
      const voteRequest = votePage.waitForRequest((request) => request.url().endsWith("/votes"));
      // The attacker's page, not the app's: it posts as it loads.
      // eslint-disable-next-line no-restricted-syntax
      await votePage.goto(`${attacker.url}/vote?assignment=${assignmentId}`);
      await votePage.waitForFunction(() => document.title === "sent");
      // The answer itself is a network error for that page (our Cross-Origin-Resource-Policy), so only the request is seen here.
      expect((await voteRequest).method()).toBe("POST");
      await votePage.close();

      expect(appState(suite.app)).toEqual(before);
      expect(ownerBrowser.pageErrors).toEqual([]);
      // The victim's own page still works: the vote from the real page is recorded.
      await page.keyboard.press("ArrowLeft");
      await page.waitForFunction(
        (previous) => document.querySelector<HTMLInputElement>('.pair-form input[name="assignmentId"]')?.value !== previous,
        assignmentId,
      );
      expect(countOf(suite.app, "votes")).toBe((before.votes as number) + 1);
    } finally {
      await ownerBrowser.close();
    }
  });

  it("serves pages under a CSP with a fresh nonce on every inline script, and reports what the CSP blocks", async () => {
    // The owner's studies page: the app's own layout with every script of a signed-in page.
    const first = await probe(suite.app, "/", { headers: { Cookie: owner.cookie } });
    const second = await probe(suite.app, "/", { headers: { Cookie: owner.cookie } });
    expect(first.status).toBe(200);
    const csp = first.headers.get("content-security-policy")!;
    for (const directive of [
      "default-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      "object-src 'none'",
      "base-uri 'none'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ]) {
      expect(csp.split(";")).toContain(directive);
    }
    const nonce = /script-src 'self' 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)![1]!;
    expect(second.headers.get("content-security-policy")).not.toContain(nonce);
    const scripts = [...first.text.matchAll(/<script([^>]*)>/g)].map((match) => match[1]!);
    expect(scripts.length).toBeGreaterThan(1);
    for (const attributes of scripts) {
      // Inline scripts carry the nonce; module scripts load from /build (script-src 'self').
      if (!/\ssrc=/.test(attributes)) expect(attributes).toContain(`nonce="${nonce}"`);
    }
    expect(first.text).not.toMatch(/\sstyle="/);
    expect(first.headers.get("x-content-type-options")).toBe("nosniff");
    expect(first.headers.get("referrer-policy")).toBe("same-origin");
    expect(first.headers.get("x-frame-options")).toBe("DENY");
    // Static files get the headers too.
    const stylesheet = /href="(\/build\/[^"]+\.css)"/.exec(first.text)![1]!;
    expect((await probe(suite.app, stylesheet)).headers.get("x-content-type-options")).toBe("nosniff");

    // The browser helper turns any CSP violation into a test failure: a remote image is one.
    const page = await suite.browser.context.newPage();
    await gotoHydrated(page, suite.app.url);
    await page.evaluate(() => {
      const image = document.createElement("img");
      image.src = "http://127.0.0.1:9/pixel.png";
      document.body.append(image);
    });
    await expect.poll(() => suite.browser.pageErrors.length, { timeout: 30_000 }).toBeGreaterThan(0);
    expect(suite.browser.pageErrors.splice(0)).toEqual([expect.stringMatching(/CSP violation: img-src blocked http:\/\/127\.0\.0\.1:9\/pixel\.png/)]);
  });
});

describe("requests that do not fit their route", () => {
  let app: RunningApp;
  let owner: Account;
  let joinPath: string;
  /** Every action of the app, each with the session that would get furthest there if the checks let it through. */
  let actions: { path: string; cookie: string }[];
  beforeAll(async () => {
    // Rate limits run before these checks (and have their own tests below): here they would only answer 429 sooner.
    app = await startApp({
      RATE_LIMIT_SIGN_IN_IP: "off",
      RATE_LIMIT_SIGN_IN_ACCOUNT: "off",
      RATE_LIMIT_SETUP_IP: "off",
      RATE_LIMIT_TOKENS_IP: "off",
      RATE_LIMIT_TOKENS_SESSION: "off",
    });
    owner = await createFirstOwner(app);
    joinPath = new URL(await createAnnotatorLink(app, owner, demoStudy)).pathname;
    const anonymous = ["/login", joinPath, "/invite/not-a-real-invite", "/setup/not-a-real-setup-link"];
    const ownerPages = [
      "/logout",
      "/account",
      "/studies/new",
      `/studies/${demoStudy}`,
      `/studies/${demoStudy}/annotate`,
      `/studies/${demoStudy}/setup`,
      `/studies/${demoStudy}/import-log`,
      `/studies/${demoStudy}/annotators`,
      `/studies/${demoStudy}/members`,
      `/studies/${demoStudy}/tokens`,
      `/studies/${demoStudy}/delete`,
    ];
    actions = [...anonymous.map((path) => ({ path, cookie: "" })), ...ownerPages.map((path) => ({ path, cookie: owner.cookie }))];
  });
  afterAll(async () => {
    await app?.stop();
  });
  const session = (cookie: string): Record<string, string> => (cookie ? { Cookie: cookie } : {});

  it("refuses cross-site posts by Sec-Fetch-Site or Origin on every action, ?_data or not, writing nothing", async () => {
    const before = appState(app);
    const origins: Record<string, string>[] = [
      { "Sec-Fetch-Site": "cross-site", Origin: "https://evil.example" },
      { "Sec-Fetch-Site": "same-site", Origin: new URL(app.url).origin.replace(/:\d+$/, ":1") },
      { Origin: "https://evil.example" },
      { Origin: "null" },
    ];
    for (const { path: action, cookie } of actions) {
      for (const suffix of ["", "?_data=routes/join.$token", "?_data=root", ".data", "?index"]) {
        for (const headers of origins) {
          const path = suffix === ".data" ? `${action}.data` : `${action}${suffix}`;
          const response = await postForm(
            app,
            path,
            { displayName: "Planted", name: "x", task: "y", intent: "start", statusAction: "pause" },
            { ...headers, ...session(cookie) },
          );
          expect(response.status, `${path} ${JSON.stringify(headers)}`).toBe(403);
          expect(response.text).toMatch(/^Cross-site request refused/);
        }
      }
    }
    expect(appState(app)).toEqual(before);
    // ?_data is a protocol this app does not speak, even from its own origin: a valid join through a real invite is still refused.
    expect(await postForm(app, `${joinPath}?_data=routes/join.$token`, { displayName: "Data" }, { Origin: app.url })).toMatchObject({ status: 400 });
    expect(appState(app)).toEqual(before);
  });

  it("answers only the methods a route declares, 405 with Allow otherwise", async () => {
    const routes: [string, string][] = [
      // Without a token, /join only explains where invite links come from; the link itself takes the post.
      ["/join", "GET, HEAD"],
      [joinPath, "GET, HEAD, POST"],
      [`/studies/${demoStudy}/annotate`, "GET, HEAD, POST"],
      ["/", "GET, HEAD"],
      // The study page takes its lifecycle actions (start, pause, close, ...) as posts.
      [`/studies/${demoStudy}`, "GET, HEAD, POST"],
      [`/studies/${demoStudy}/export`, "GET, HEAD"],
      [`/studies/${demoStudy}/audit`, "GET, HEAD"],
      [`/studies/${demoStudy}/export/download`, "GET, HEAD"],
    ];
    for (const [path, allow] of routes) {
      for (const method of ["PUT", "PATCH", "DELETE", "OPTIONS", ...(allow.includes("POST") ? [] : ["POST"])]) {
        const response = await probe(app, path, {
          method,
          headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: owner.cookie },
          body: "displayName=x",
        });
        expect(response.status, `${method} ${path}`).toBe(405);
        expect(response.headers.get("allow")).toBe(allow);
      }
    }
    expect((await probe(app, "/join", { method: "HEAD" })).status).toBe(200);
    expect((await probe(app, joinPath, { method: "HEAD" })).status).toBe(200);
  });

  it("answers a body of the wrong type with 415 and a broken form with 400, never 500", async () => {
    const before = appState(app);
    for (const { path, cookie } of actions) {
      for (const [contentType, body] of [
        ["application/json", JSON.stringify({ displayName: "Json" })],
        ["text/plain", "displayName=Text"],
        ["text/plain; a=application/x-www-form-urlencoded", "displayName=Text"],
      ]) {
        const response = await probe(app, path, {
          method: "POST",
          headers: { "Content-Type": contentType!, Origin: app.url, ...session(cookie) },
          body,
        });
        expect(response.status, `${contentType} ${path}`).toBe(415);
      }
      expect((await probe(app, path, { method: "POST", headers: session(cookie), body: "displayName=None" })).status, `no type ${path}`).toBe(415);
      for (const [contentType, body] of [
        ["multipart/form-data", "displayName=x"],
        ["multipart/form-data; boundary=zzz", '--zzz\r\nContent-Disposition: form-data; name="displayName"\r\n\r\nTruncated'],
        ["multipart/form-data; boundary=zzz", "not multipart at all"],
      ]) {
        const response = await probe(app, path, {
          method: "POST",
          headers: { "Content-Type": contentType!, Origin: app.url, ...session(cookie) },
          body,
        });
        expect(response.status, `${contentType} ${path}`).toBe(400);
        expect(response.text).toBe("The form body could not be read as its Content-Type says.");
      }
    }
    expect(appState(app)).toEqual(before);
  });

  it("caps form bodies per route (413) while uploads keep their own file limit", async () => {
    const before = appState(app);
    const asOwner = { Cookie: owner.cookie, Origin: app.url };
    const big = (bytes: number) => "x".repeat(bytes);
    const joinTooLarge = await postForm(app, joinPath, { displayName: "Big", padding: big(70_000) }, { Origin: app.url });
    expect(joinTooLarge).toMatchObject({ status: 413, text: "The form is larger than this page accepts (65,536 bytes)." });
    // 1 MB is refused by the join link but within the import page's cap: that form takes it, and its import job finds the problem.
    const megabyte = new FormData();
    megabyte.append("log", new Blob([big(1_000_000)]), "log.jsonl");
    expect((await probe(app, joinPath, { method: "POST", headers: { Origin: app.url }, body: megabyte })).status).toBe(413);
    const imported = await probe(app, `/studies/${demoStudy}/import-log`, { method: "POST", headers: asOwner, body: megabyte });
    expect(imported.status).toBe(202);
    const importJob = readAppDatabase(app, (db) => db.prepare("select max(id) from jobs where kind = 'import-log'").pluck().get() as number);
    const jobOutcome = () =>
      readAppDatabase(
        app,
        (db) => db.prepare("select state, errors from jobs where id = ?").get(importJob) as { state: string; errors: string | null },
      );
    await expect.poll(() => jobOutcome().state, { timeout: 60_000, interval: 100 }).toBe("failed");
    expect(JSON.parse(jobOutcome().errors!)).toEqual([expect.stringMatching(/^line 1\b/)]);
    const importPage = await probe(app, `/studies/${demoStudy}/import-log`, { headers: asOwner });
    expect(importPage.text).toContain("Nothing was written:");
    expect(importPage.text).toContain("line 1");
    // A setup file over its 5 MB limit is a field error; a body over the page's 20 MB cap is a 413.
    const sixMegabytes = new FormData();
    sixMegabytes.append("intent", "import-responses");
    sixMegabytes.append("responsesFile", new Blob([big(6_000_000)]), "responses.jsonl");
    const overFileLimit = await probe(app, `/studies/${demoStudy}/setup`, { method: "POST", headers: asOwner, body: sixMegabytes });
    expect(overFileLimit.status).toBe(400);
    expect(overFileLimit.text).toContain("The file is larger than 5 MB.");
    const overBodyCap = new FormData();
    overBodyCap.append("name", "Huge");
    overBodyCap.append("promptsText", big(21_000_000));
    expect((await probe(app, "/studies/new", { method: "POST", headers: asOwner, body: overBodyCap })).status).toBe(413);
    // Only the failed import job was written, with nothing it would have imported.
    expect(appState(app)).toEqual({ ...before, jobs: (before.jobs as number) + 1 });
  });

  it("never lets redirectTo leave the site or break the answer (line breaks, tabs, non-Latin-1)", async () => {
    for (const [redirectTo, location] of [
      ["/\t/evil.example/x", "/"],
      ["/%09/evil.example/x", "/"],
      ["/\r\nSet-Cookie: planted=1", "/"],
      ["/\\evil.example", "/"],
      ["//evil.example", "/"],
      ["https://evil.example", "/"],
      ["/studies/1/annotate?é=✓", "/studies/1/annotate?%C3%A9=%E2%9C%93"],
      ["/ünïcødé", "/%C3%BCn%C3%AFc%C3%B8d%C3%A9"],
    ]) {
      const response = await postForm(app, "/login", { email: owner.email, password: TEST_PASSWORD, redirectTo: redirectTo! }, { Origin: app.url });
      expect(response.status, redirectTo).toBe(302);
      expect(response.headers.get("location"), redirectTo).toBe(location);
      expect(response.headers.get("set-cookie")).not.toContain("planted");
    }
    const page = await probe(app, `/login?redirectTo=${encodeURIComponent("/\t/evil.example/x")}`);
    expect(page.text).toContain('name="redirectTo" value="/"');
  });
});

describe("rate limits through Express and on the /api fast path", () => {
  let app: RunningApp;
  let joinPath: string;
  beforeAll(async () => {
    app = await startApp({ PROMPTDUEL_TEST_HOOKS: "1", RATE_LIMIT_JOIN_IP: "3/1h", RATE_LIMIT_VOTES_SESSION: "3/1h" });
    const owner = await createFirstOwner(app);
    joinPath = new URL(await createAnnotatorLink(app, owner, demoStudy)).pathname;
  });
  afterAll(async () => {
    await app?.stop();
  });
  const advanceClock = (ms: number) =>
    probe(app, "/api/test/rate-limit-clock", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ advanceMs: ms }),
    });

  it("counts joins per address across the invite form, its .data URL and the API, answers 429 with Retry-After, and recovers", async () => {
    const before = countOf(app, "annotators");
    expect((await postForm(app, joinPath, { displayName: "One" })).status).toBe(302);
    expect((await postForm(app, `${joinPath}.data`, { displayName: "Two" })).status).toBe(202);
    const api = new ApiAnnotator(app.url, demoStudy);
    await api.join(inviteTokenOf(joinPath), "Three");
    const refused = await postForm(app, joinPath, { displayName: "Four" });
    expect(refused.status).toBe(429);
    expect(refused.text).toMatch(/^Too many joins from this address: try again in \d+ seconds\.$/);
    expect(Number(refused.headers.get("retry-after"))).toBe(1200);
    const refusedApi = await probe(app, "/api/session", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ inviteToken: inviteTokenOf(joinPath), displayName: "Five" }),
    });
    expect(refusedApi.status).toBe(429);
    expect(refusedApi.headers.get("retry-after")).toBe("1200");
    expect(JSON.parse(refusedApi.text)).toEqual({ error: expect.stringMatching(/^Too many joins from this address/) });
    expect(countOf(app, "annotators")).toBe(before + 3);

    // One token back after a third of the hour: exactly one more join.
    expect((await advanceClock(20 * 60_000)).status).toBe(200);
    expect((await postForm(app, joinPath, { displayName: "Six" })).status).toBe(302);
    expect((await postForm(app, joinPath, { displayName: "Seven" })).status).toBe(429);
    expect(countOf(app, "annotators")).toBe(before + 4);

    // Votes are counted per session on the annotate page too; another annotator is not held back.
    const cookie = api.cookieHeader();
    const other = new ApiAnnotator(app.url, demoStudy);
    await advanceClock(20 * 60_000);
    await other.join(inviteTokenOf(joinPath), "Other");
    const vote = (session: string) =>
      postForm(app, `/studies/${demoStudy}/annotate`, { intent: "vote", assignmentId: "999999", choice: "left" }, { Cookie: session });
    for (let i = 0; i < 3; i++) expect((await vote(cookie)).status).toBe(404);
    expect(await vote(cookie)).toMatchObject({ status: 429, text: expect.stringMatching(/^Too many votes in this session/) });
    expect((await vote(other.cookieHeader())).status).toBe(404);
    api.close();
    other.close();
  });
});
