import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiAnnotator } from "../helpers/api-annotator";
import { useAppInBrowser } from "../helpers/app-in-browser";
import { readAppDatabase, startApp, type RunningApp } from "../helpers/app-server";
import { postForm, probe, tableCounts } from "../helpers/http-probe";

const demoStudy = 1;

/** A page on another port of the same host, the issue's attack: same-site for the browser, so the Lax session cookie rides along. */
async function startAttackerSite(appUrl: string) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://attacker");
    const form = (action: string, fields: Record<string, string>) =>
      `<form id="f" method="post" action="${appUrl}${action}">${Object.entries(fields)
        .map(([name, value]) => `<input name="${name}" value="${value}">`)
        .join("")}</form><script>document.getElementById("f").submit()</script>`;
    const pages: Record<string, string> = {
      "/join-data": form("/join?_data=routes/join", { displayName: "Planted by attacker", redirectTo: "/" }),
      "/join": form("/join", { displayName: "Planted by attacker", redirectTo: "/" }),
      "/new-study": form("/studies/new", { name: "Attacker study", task: "pwn", model: "m", temperature: "0.7", maxTokens: "100", queriesText: "q" }),
      "/new-study-data": form("/studies/new.data", { name: "Attacker study", task: "pwn", model: "m", temperature: "0.7", maxTokens: "100" }),
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
  let attacker: Awaited<ReturnType<typeof startAttackerSite>>;
  beforeAll(async () => {
    attacker = await startAttackerSite(suite.app.url);
  });
  afterAll(async () => {
    await attacker?.close();
  });

  it("refuses form posts (with and without ?_data, to pages and .data URLs) and API votes from another port, writing nothing", async () => {
    const page = await suite.browser.context.newPage();
    // The victim joins and holds an open pair, as an annotator mid-study would.
    await page.goto(`${suite.app.url}/studies/${demoStudy}/annotate`);
    await page.getByLabel("Display name").fill("Victim");
    await page.getByRole("button", { name: /continue/i }).click();
    await page.getByRole("button", { name: /start annotating/i }).click();
    await page.getByRole("article", { name: "Response A" }).waitFor();
    const assignmentId = await page.locator('.pair-form input[name="assignmentId"]').inputValue();
    const before = tableCounts(suite.app);

    for (const attack of ["/join-data", "/join", "/new-study", "/new-study-data"]) {
      const attackPage = await suite.browser.context.newPage();
      const refused = attackPage.waitForResponse((response) => response.url().startsWith(suite.app.url) && response.request().method() === "POST");
      await attackPage.goto(`${attacker.url}${attack}`);
      const response = await refused;
      expect(response.status(), attack).toBe(403);
      expect(await response.text()).toMatch(/^Cross-site request refused: this POST came from another site \(Sec-Fetch-Site: same-site\)/);
      // The post carried the victim's session (same-site, so SameSite=Lax lets it ride): only the server's check stopped it.
      expect((await response.request().allHeaders()).cookie).toContain("__promptduel_session=");
      await attackPage.close();
    }
    const votePage = await suite.browser.context.newPage();
    const voteRequest = votePage.waitForRequest((request) => request.url().endsWith("/votes"));
    await votePage.goto(`${attacker.url}/vote?assignment=${assignmentId}`);
    await votePage.waitForFunction(() => document.title === "sent");
    // The answer itself is a network error for that page (our Cross-Origin-Resource-Policy), so only the request is seen here.
    expect((await voteRequest).method()).toBe("POST");
    await votePage.close();

    expect(tableCounts(suite.app)).toEqual(before);
    // The victim's own page still works: the vote from the real page is recorded.
    await page.keyboard.press("ArrowLeft");
    await page.waitForFunction(
      // The pair's form, not the Undo form that now holds the previous assignment.
      (previous) => document.querySelector<HTMLInputElement>('.pair-form input[name="assignmentId"]')?.value !== previous,
      assignmentId,
    );
    expect(tableCounts(suite.app).votes).toBe(before.votes! + 1);
  });

  it("serves pages under a CSP with a fresh nonce on every inline script, and reports what the CSP blocks", async () => {
    const first = await probe(suite.app, "/");
    const second = await probe(suite.app, "/");
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
    await page.goto(suite.app.url);
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
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it("refuses cross-site posts by Sec-Fetch-Site or Origin on every action, ?_data or not, writing nothing", async () => {
    const before = tableCounts(app);
    const actions = ["/join", `/studies/${demoStudy}/annotate`, "/studies/new", `/studies/${demoStudy}/setup`, `/studies/${demoStudy}/import-log`];
    const origins: Record<string, string>[] = [
      { "Sec-Fetch-Site": "cross-site", Origin: "https://evil.example" },
      { "Sec-Fetch-Site": "same-site", Origin: new URL(app.url).origin.replace(/:\d+$/, ":1") },
      { Origin: "https://evil.example" },
      { Origin: "null" },
    ];
    for (const action of actions) {
      for (const suffix of ["", "?_data=routes/join", "?_data=root", ".data", "?index"]) {
        for (const headers of origins) {
          const path = suffix === ".data" ? `${action}.data` : `${action}${suffix}`;
          const response = await postForm(app, path, { displayName: "Planted", name: "x", task: "y", intent: "start" }, headers);
          expect(response.status, `${path} ${JSON.stringify(headers)}`).toBe(403);
          expect(response.text).toMatch(/^Cross-site request refused/);
        }
      }
    }
    expect(tableCounts(app)).toEqual(before);
    // ?_data is a protocol this app does not speak, even from its own origin.
    expect(await postForm(app, "/join?_data=routes/join", { displayName: "Data" })).toMatchObject({ status: 400 });
    expect(tableCounts(app)).toEqual(before);
  });

  it("answers only the methods a route declares, 405 with Allow otherwise", async () => {
    const routes: [string, string][] = [
      ["/join", "GET, HEAD, POST"],
      [`/studies/${demoStudy}/annotate`, "GET, HEAD, POST"],
      ["/", "GET, HEAD"],
      // The dashboard posts the owner's study status controls.
      [`/studies/${demoStudy}`, "GET, HEAD, POST"],
      [`/studies/${demoStudy}/export/download`, "GET, HEAD"],
    ];
    for (const [path, allow] of routes) {
      for (const method of ["PUT", "PATCH", "DELETE", "OPTIONS", ...(allow.includes("POST") ? [] : ["POST"])]) {
        const response = await probe(app, path, { method, headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: "displayName=x" });
        expect(response.status, `${method} ${path}`).toBe(405);
        expect(response.headers.get("allow")).toBe(allow);
      }
    }
    expect((await probe(app, "/join", { method: "HEAD" })).status).toBe(200);
  });

  it("answers a body of the wrong type with 415 and a broken form with 400, never 500", async () => {
    const before = tableCounts(app);
    for (const path of [
      "/join",
      `/studies/${demoStudy}/annotate`,
      "/studies/new",
      `/studies/${demoStudy}/setup`,
      `/studies/${demoStudy}/import-log`,
    ]) {
      for (const [contentType, body] of [
        ["application/json", JSON.stringify({ displayName: "Json" })],
        ["text/plain", "displayName=Text"],
        ["text/plain; a=application/x-www-form-urlencoded", "displayName=Text"],
      ]) {
        expect((await probe(app, path, { method: "POST", headers: { "Content-Type": contentType! }, body })).status, `${contentType} ${path}`).toBe(
          415,
        );
      }
      expect((await probe(app, path, { method: "POST", body: "displayName=None" })).status, `no type ${path}`).toBe(415);
      for (const [contentType, body] of [
        ["multipart/form-data", "displayName=x"],
        ["multipart/form-data; boundary=zzz", '--zzz\r\nContent-Disposition: form-data; name="displayName"\r\n\r\nTruncated'],
        ["multipart/form-data; boundary=zzz", "not multipart at all"],
      ]) {
        const response = await probe(app, path, { method: "POST", headers: { "Content-Type": contentType! }, body });
        expect(response.status, `${contentType} ${path}`).toBe(400);
        expect(response.text).toBe("The form body could not be read as its Content-Type says.");
      }
    }
    expect(tableCounts(app)).toEqual(before);
  });

  it("caps form bodies per route (413) while uploads keep their own file limit", async () => {
    const before = tableCounts(app);
    const big = (bytes: number) => "x".repeat(bytes);
    const joinTooLarge = await postForm(app, "/join", { displayName: "Big", padding: big(70_000) });
    expect(joinTooLarge).toMatchObject({ status: 413, text: "The form is larger than this page accepts (65,536 bytes)." });
    // 1 MB is refused by /join but within the import page's cap: the page hands it to an import job (ADR 0010),
    // which then fails with its own error.
    const megabyte = new FormData();
    megabyte.append("log", new Blob([big(1_000_000)]), "log.jsonl");
    expect((await probe(app, "/join", { method: "POST", body: megabyte })).status).toBe(413);
    const imported = await probe(app, `/studies/${demoStudy}/import-log`, { method: "POST", body: megabyte });
    expect(imported.status).toBe(202);
    const importJob = () =>
      readAppDatabase(app, (db) =>
        db.prepare("select state, errors from jobs where kind = 'import-log' and study_id = ? order by id desc limit 1").get(demoStudy),
      ) as { state: string; errors: string | null } | undefined;
    await expect.poll(() => importJob()?.state, { timeout: 60_000 }).toBe("failed");
    expect(importJob()!.errors).toContain("line 1");
    // A setup file over its 5 MB limit is a field error; a body over the page's 20 MB cap is a 413.
    const sixMegabytes = new FormData();
    sixMegabytes.append("intent", "import-responses");
    sixMegabytes.append("responsesFile", new Blob([big(6_000_000)]), "responses.jsonl");
    const overFileLimit = await probe(app, `/studies/${demoStudy}/setup`, { method: "POST", body: sixMegabytes });
    expect(overFileLimit.status).toBe(400);
    expect(overFileLimit.text).toContain("The file is larger than 5 MB.");
    const overBodyCap = new FormData();
    overBodyCap.append("name", "Huge");
    overBodyCap.append("promptsText", big(21_000_000));
    expect((await probe(app, "/studies/new", { method: "POST", body: overBodyCap })).status).toBe(413);
    expect(tableCounts(app)).toEqual(before);
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
      const response = await postForm(app, "/join", { displayName: "Redirected", redirectTo: redirectTo! });
      expect(response.status, redirectTo).toBe(302);
      expect(response.headers.get("location"), redirectTo).toBe(location);
      expect(response.headers.get("set-cookie")).not.toContain("planted");
    }
    const page = await probe(app, `/join?redirectTo=${encodeURIComponent("/\t/evil.example/x")}`);
    expect(page.text).toContain('name="redirectTo" value="/"');
  });
});

describe("rate limits through Express and on the /api fast path", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp({ PROMPTDUEL_TEST_HOOKS: "1", RATE_LIMIT_JOIN_IP: "3/1h", RATE_LIMIT_VOTES_SESSION: "3/1h" });
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

  it("counts joins per address across the form, its .data URL and the API, answers 429 with Retry-After, and recovers", async () => {
    const before = tableCounts(app).users!;
    expect((await postForm(app, "/join", { displayName: "One" })).status).toBe(302);
    expect((await postForm(app, "/join.data", { displayName: "Two" })).status).toBe(202);
    const api = new ApiAnnotator(app.url, demoStudy);
    await api.signIn("Three");
    const refused = await postForm(app, "/join", { displayName: "Four" });
    expect(refused.status).toBe(429);
    expect(refused.text).toMatch(/^Too many joins from this address: try again in \d+ seconds\.$/);
    expect(Number(refused.headers.get("retry-after"))).toBe(1200);
    const refusedApi = await probe(app, "/api/session", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: '{"displayName":"Five"}',
    });
    expect(refusedApi.status).toBe(429);
    expect(refusedApi.headers.get("retry-after")).toBe("1200");
    expect(JSON.parse(refusedApi.text)).toEqual({ error: expect.stringMatching(/^Too many joins from this address/) });
    expect(tableCounts(app).users).toBe(before + 3);

    // One token back after a third of the hour: exactly one more join.
    expect((await advanceClock(20 * 60_000)).status).toBe(200);
    expect((await postForm(app, "/join", { displayName: "Six" })).status).toBe(302);
    expect((await postForm(app, "/join", { displayName: "Seven" })).status).toBe(429);
    expect(tableCounts(app).users).toBe(before + 4);

    // Votes are counted per session on the annotate page too; another annotator is not held back.
    const cookie = api.cookieHeader();
    const other = new ApiAnnotator(app.url, demoStudy);
    await advanceClock(20 * 60_000);
    await other.signIn("Other");
    const vote = (session: string) =>
      postForm(app, `/studies/${demoStudy}/annotate`, { intent: "vote", assignmentId: "999999", choice: "left" }, { Cookie: session });
    for (let i = 0; i < 3; i++) expect((await vote(cookie)).status).toBe(404);
    expect(await vote(cookie)).toMatchObject({ status: 429, text: expect.stringMatching(/^Too many votes in this session/) });
    expect((await vote(other.cookieHeader())).status).toBe(404);
    api.close();
    other.close();
  });
});
