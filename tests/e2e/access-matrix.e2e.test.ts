import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_ROUTES, TEST_API_ROUTES } from "../../app/api/annotator-api.server";
import {
  createAnnotatorLink,
  createApiToken,
  createFirstOwner,
  inviteMember,
  inviteTokenOf,
  joinAsAnnotator,
  postForm,
  type Account,
} from "../helpers/accounts";
import { readAppDatabase, startApp, type RunningApp } from "../helpers/app-server";

// Issue 13's access matrix: every route of the built Remix manifest and every JSON API route, requested
// by every kind of actor, against the status this table expects. A route missing from the table fails
// the test, so no route ships without a decision. Form posts carry a body that fails validation, so an
// allowed actor gets 400 (and nothing is written) while a refused one gets its 302 / 401 / 403 / 404:
// the status says which layer answered. Study A is the demo study; B is another study of the same owner.

const ACTORS = ["anonymous", "annotatorA", "annotatorB", "viewer", "editor", "owner", "tokenReadA", "tokenWriteA", "tokenB"] as const;
type ActorName = (typeof ACTORS)[number];
type Expected = Record<ActorName, number>;

/** Statuses in ACTORS order, as the table is read. */
const row = (...statuses: number[]): Expected => {
  if (statuses.length !== ACTORS.length) throw new Error(`a matrix row needs ${ACTORS.length} statuses`);
  return Object.fromEntries(ACTORS.map((actor, i) => [actor, statuses[i]!])) as Expected;
};
const every = (status: number) => row(...ACTORS.map(() => status));

interface Check {
  method: "GET" | "POST" | "DELETE";
  /** `:A` is study A's id, `:B` study B's, `:link` the token of an annotator link to study A. */
  path: string;
  body?: Record<string, string> | object;
  expected: Expected;
  /** Ends the actor's session (sign-out): run after every other check. */
  last?: boolean;
}

//                                 anon annA annB view  edit owner tokR tokW tokB
const studyRead = row(302, 403, 404, 200, 200, 200, 200, 200, 404);
const studyAnnotate = row(302, 200, 404, 403, 200, 200, 403, 403, 404);
const studyAnnotatePost = row(302, 400, 404, 403, 400, 400, 403, 403, 404);
const studyEdit = row(302, 403, 404, 403, 200, 200, 403, 200, 404);
const studyEditPost = row(302, 403, 404, 403, 400, 400, 403, 400, 404);
const studyExport = row(302, 403, 404, 200, 200, 200, 200, 200, 404);
const studyManage = row(302, 403, 404, 403, 403, 200, 403, 403, 404);
const studyManagePost = row(302, 403, 404, 403, 403, 400, 403, 403, 404);
const accountPage = row(302, 403, 403, 200, 200, 200, 403, 403, 403);
const accountPost = row(302, 403, 403, 400, 400, 400, 403, 403, 403);
const BAD_FORM = { intent: "not-an-intent" };

/** Remix route id → the requests that exercise it. */
const ROUTE_MATRIX: Record<string, Check[] | { exempt: string }> = {
  root: { exempt: "the layout: its loader runs with every page below and only reads who is signed in, for the header" },
  "routes/_index": [{ method: "GET", path: "/", expected: row(302, 200, 200, 200, 200, 200, 403, 403, 403) }],
  "routes/login": [
    // Signed-in accounts are sent on (a document post renders the page, whose loader redirects them);
    // annotators and tokens may see the public form.
    { method: "GET", path: "/login", expected: row(200, 200, 200, 302, 302, 302, 200, 200, 200) },
    { method: "POST", path: "/login", body: {}, expected: row(400, 400, 400, 302, 302, 302, 400, 400, 400) },
  ],
  "routes/logout": [
    // A GET never changes state: 405, Allow: POST.
    { method: "GET", path: "/logout", expected: every(405) },
    { method: "POST", path: "/logout", body: {}, expected: every(302), last: true },
  ],
  "routes/setup.$token": [
    // An owner exists: the setup link is closed for everyone, whatever the token.
    { method: "GET", path: "/setup/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", expected: every(404) },
    { method: "POST", path: "/setup/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", body: {}, expected: every(404) },
  ],
  "routes/account": [
    { method: "GET", path: "/account", expected: accountPage },
    { method: "POST", path: "/account", body: BAD_FORM, expected: accountPost },
  ],
  "routes/join._index": [{ method: "GET", path: "/join", expected: every(200) }],
  "routes/join.$token": [
    // A's link: annotator A, already in, goes straight to annotating.
    { method: "GET", path: "/join/:link", expected: row(200, 302, 200, 200, 200, 200, 200, 200, 200) },
    { method: "GET", path: "/join/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", expected: every(404) },
    // Unknown token: anonymous fails on the missing name first; accounts and tokens may not join.
    {
      method: "POST",
      path: "/join/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
      body: {},
      expected: row(400, 404, 404, 403, 403, 403, 403, 403, 403),
    },
  ],
  "routes/invite.$token": [
    { method: "GET", path: "/invite/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", expected: every(404) },
    {
      method: "POST",
      path: "/invite/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
      body: {},
      expected: row(400, 400, 400, 404, 404, 404, 403, 403, 403),
    },
  ],
  "routes/studies.new": [
    { method: "GET", path: "/studies/new", expected: accountPage },
    { method: "POST", path: "/studies/new", body: {}, expected: accountPost },
  ],
  "routes/studies.$studyId._index": [
    { method: "GET", path: "/studies/:A", expected: studyRead },
    { method: "GET", path: "/studies/999999", expected: row(302, 404, 404, 404, 404, 404, 404, 404, 404) },
  ],
  "routes/studies.$studyId.annotate": [
    { method: "GET", path: "/studies/:A/annotate", expected: studyAnnotate },
    { method: "POST", path: "/studies/:A/annotate", body: BAD_FORM, expected: studyAnnotatePost },
  ],
  "routes/studies.$studyId.setup": [
    { method: "GET", path: "/studies/:A/setup", expected: studyEdit },
    { method: "POST", path: "/studies/:A/setup", body: BAD_FORM, expected: studyEditPost },
  ],
  "routes/studies.$studyId.generation": [
    { method: "GET", path: "/studies/:A/generation", expected: row(401, 403, 404, 200, 200, 200, 200, 200, 404) },
  ],
  "routes/studies.$studyId.export": [{ method: "GET", path: "/studies/:A/export", expected: studyExport }],
  "routes/studies.$studyId.export.download": [
    { method: "GET", path: "/studies/:A/export/download?format=jsonl", expected: studyExport },
    // An allowed actor's bad option is a 400: authorisation came first.
    { method: "GET", path: "/studies/:A/export/download?format=parquet", expected: row(302, 403, 404, 400, 400, 400, 400, 400, 404) },
  ],
  "routes/studies.$studyId.import-log": [
    { method: "GET", path: "/studies/:A/import-log", expected: studyEdit },
    { method: "POST", path: "/studies/:A/import-log", body: {}, expected: studyEditPost },
  ],
  "routes/studies.$studyId.annotators": [
    { method: "GET", path: "/studies/:A/annotators", expected: studyManage },
    { method: "POST", path: "/studies/:A/annotators", body: BAD_FORM, expected: studyManagePost },
  ],
  "routes/studies.$studyId.members": [
    { method: "GET", path: "/studies/:A/members", expected: studyManage },
    { method: "POST", path: "/studies/:A/members", body: BAD_FORM, expected: studyManagePost },
  ],
  "routes/studies.$studyId.tokens": [
    { method: "GET", path: "/studies/:A/tokens", expected: studyManage },
    { method: "POST", path: "/studies/:A/tokens", body: BAD_FORM, expected: studyManagePost },
  ],
  "routes/studies.$studyId.audit": [{ method: "GET", path: "/studies/:A/audit", expected: studyManage }],
  "routes/studies.$studyId.delete": [
    { method: "GET", path: "/studies/:A/delete", expected: studyManage },
    // No confirmName: an owner gets 400 and the study stays.
    { method: "POST", path: "/studies/:A/delete", body: {}, expected: studyManagePost },
  ],
};

//                               anon annA annB view  edit owner tokR tokW tokB
const apiRead = row(401, 403, 404, 200, 200, 200, 200, 200, 404);
/** API route (method + pattern source, as in API_ROUTES) → its checks. */
const API_MATRIX: Record<string, Check[]> = {
  // The body is checked first: without an inviteToken nobody joins anything.
  [`POST ${/^\/api\/session$/.source}`]: [{ method: "POST", path: "/api/session", body: {}, expected: every(400) }],
  [`DELETE ${/^\/api\/session$/.source}`]: [{ method: "DELETE", path: "/api/session", expected: every(200), last: true }],
  [`GET ${/^\/api\/studies\/([^/]+)$/.source}`]: [
    { method: "GET", path: "/api/studies/:A", expected: apiRead },
    { method: "GET", path: "/api/studies/999999", expected: row(401, 404, 404, 404, 404, 404, 404, 404, 404) },
  ],
  [`POST ${/^\/api\/studies\/([^/]+)\/assignments$/.source}`]: [
    { method: "POST", path: "/api/studies/:A/assignments", expected: row(401, 200, 404, 403, 200, 200, 403, 403, 404) },
  ],
  [`POST ${/^\/api\/studies\/([^/]+)\/votes$/.source}`]: [
    { method: "POST", path: "/api/studies/:A/votes", body: {}, expected: row(401, 400, 404, 403, 400, 400, 403, 403, 404) },
  ],
  [`POST ${/^\/api\/studies\/([^/]+)\/prompts$/.source}`]: [
    { method: "POST", path: "/api/studies/:A/prompts", body: {}, expected: row(401, 403, 404, 403, 400, 400, 403, 400, 404) },
  ],
  [`POST ${/^\/api\/studies\/([^/]+)\/queries$/.source}`]: [
    { method: "POST", path: "/api/studies/:A/queries", body: {}, expected: row(401, 403, 404, 403, 400, 400, 403, 400, 404) },
  ],
  // Test hooks exist only with PROMPTDUEL_TEST_HOOKS=1, which this server does not set.
  [`POST ${/^\/api\/test\/studies\/([^/]+)\/engine-idle$/.source}`]: [
    { method: "POST", path: "/api/test/studies/:A/engine-idle", expected: every(404) },
  ],
};

interface Credentials {
  cookie?: string;
  token?: string;
}

describe("the access matrix: every route × every actor", () => {
  let app: RunningApp;
  let routeIds: string[];
  const credentials = {} as Record<ActorName, Credentials>;
  let studyA = 0;
  let studyB = 0;
  let linkA = "";
  let secrets: string[] = [];
  const results: { route: string; method: string; path: string; statuses: Record<ActorName, number> }[] = [];

  beforeAll(async () => {
    const build = (await import(pathToFileURL(path.resolve("build/index.js")).href)) as { routes: Record<string, unknown> };
    routeIds = Object.keys(build.routes).sort();
    app = await startApp();
    const owner: Account = await createFirstOwner(app);
    studyA = readAppDatabase(app, (db) => db.prepare("select id from studies order by id limit 1").pluck().get() as number);
    const created = await postForm(
      app,
      "/studies/new",
      {
        name: "Study B",
        task: "Another task.",
        model: "m",
        temperature: "0.7",
        maxTokens: "100",
        seed: "",
        promptsText: "One.\n\nTwo.",
        queriesText: "Why?",
      },
      owner.cookie,
    );
    expect(created.status).toBe(302);
    studyB = Number(created.headers.get("location")!.match(/\/studies\/(\d+)\//)![1]);
    linkA = await createAnnotatorLink(app, owner, studyA);
    credentials.anonymous = {};
    credentials.annotatorA = { cookie: await joinAsAnnotator(app, linkA, "Annotator A") };
    credentials.annotatorB = { cookie: await joinAsAnnotator(app, await createAnnotatorLink(app, owner, studyB), "Annotator B") };
    credentials.viewer = { cookie: (await inviteMember(app, owner, studyA, "viewer")).cookie };
    credentials.editor = { cookie: (await inviteMember(app, owner, studyA, "editor")).cookie };
    credentials.owner = { cookie: owner.cookie };
    credentials.tokenReadA = { token: await createApiToken(app, owner, studyA, "read") };
    credentials.tokenWriteA = { token: await createApiToken(app, owner, studyA, "write") };
    credentials.tokenB = { token: await createApiToken(app, owner, studyB, "write") };
    // What no refused actor may ever see in an answer: study A's task and prompt texts.
    secrets = readAppDatabase(app, (db) => [
      db.prepare("select task from studies where id = ?").pluck().get(studyA) as string,
      ...(db.prepare("select text from prompts where study_id = ?").pluck().all(studyA) as string[]).map((text) => text.slice(0, 60)),
    ]);
  });

  afterAll(async () => {
    await app?.stop();
    if (results.length > 0) console.log(formatMatrix(results));
  });

  const concrete = (check: Check) => check.path.replace(":A", String(studyA)).replace(":B", String(studyB)).replace(":link", inviteTokenOf(linkA));

  async function request(check: Check, actor: ActorName): Promise<{ status: number; body: string }> {
    const { cookie, token } = credentials[actor];
    const api = check.path.startsWith("/api/");
    const headers: Record<string, string> = { Origin: app.url };
    if (cookie) headers.Cookie = cookie;
    if (token) headers.Authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (check.body !== undefined) {
      headers["Content-Type"] = api ? "application/json" : "application/x-www-form-urlencoded";
      body = api ? JSON.stringify(check.body) : new URLSearchParams(check.body as Record<string, string>).toString();
    }
    const response = await fetch(new URL(concrete(check), app.url), { method: check.method, headers, body, redirect: "manual" });
    return { status: response.status, body: await response.text() };
  }

  /** Requests the check as every actor; returns what differs from the table (every cell is run, so one failure shows them all). */
  async function run(route: string, check: Check): Promise<string[]> {
    const statuses = {} as Record<ActorName, number>;
    const problems: string[] = [];
    for (const actor of ACTORS) {
      const answer = await request(check, actor);
      statuses[actor] = answer.status;
      if (answer.status !== check.expected[actor])
        problems.push(`${check.method} ${check.path} as ${actor}: ${answer.status}, expected ${check.expected[actor]}`);
      if (answer.status !== 200 && answer.status !== 400 && secrets.some((secret) => answer.body.includes(secret))) {
        problems.push(`${check.method} ${check.path} as ${actor}: the refusal (${answer.status}) shows study A's task or a prompt`);
      }
      // The same page's Single Fetch data request (what client navigation asks for) must refuse alike.
      if (check.method === "GET" && !check.path.startsWith("/api/") && check.expected[actor] !== 200) {
        const data = await request({ ...check, path: dataPath(check.path) }, actor);
        if (secrets.some((secret) => data.body.includes(secret)))
          problems.push(`GET ${dataPath(check.path)} as ${actor}: the data request shows study A`);
      }
    }
    results.push({ route, method: check.method, path: check.path, statuses });
    return problems;
  }

  it("has an entry for every route of the Remix manifest and every API route, and none for routes that do not exist", () => {
    expect(
      routeIds.filter((id) => !(id in ROUTE_MATRIX)),
      "routes without an access-matrix entry",
    ).toEqual([]);
    expect(
      Object.keys(ROUTE_MATRIX).filter((id) => !routeIds.includes(id)),
      "matrix entries without a route",
    ).toEqual([]);
    const apiKeys = [...API_ROUTES, ...TEST_API_ROUTES].map((route) => `${route.method} ${route.pattern.source}`);
    expect(
      apiKeys.filter((key) => !(key in API_MATRIX)),
      "API routes without an access-matrix entry",
    ).toEqual([]);
    expect(
      Object.keys(API_MATRIX).filter((key) => !apiKeys.includes(key)),
      "matrix entries without an API route",
    ).toEqual([]);
  });

  it("answers every route as the table says for every actor, leaking nothing of study A to those refused", async () => {
    const counted = () =>
      readAppDatabase(app, (db) =>
        Object.fromEntries(
          ["studies", "prompts", "queries", "votes", "invites", "api_tokens", "study_members", "users", "audit_log"].map((table) => [
            table,
            db.prepare(`select count(*) from ${table}`).pluck().get(),
          ]),
        ),
      );
    const before = counted();
    // The leak checks can fail: the owner's answers, page and data request alike, do show the secrets.
    expect((await request({ method: "GET", path: "/studies/:A", expected: studyRead }, "owner")).body).toContain(secrets[1]);
    expect((await request({ method: "GET", path: dataPath("/studies/:A"), expected: studyRead }, "owner")).body).toContain(secrets[1]);
    const checks: [string, Check][] = [
      ...Object.entries(ROUTE_MATRIX).flatMap(([route, entry]) => ("exempt" in entry ? [] : entry.map((check): [string, Check] => [route, check]))),
      ...Object.entries(API_MATRIX).flatMap(([route, entry]) => entry.map((check): [string, Check] => [route, check])),
    ];
    const problems: string[] = [];
    // Sign-outs last: they end the sessions every other check uses.
    for (const [route, check] of checks.filter(([, check]) => !check.last)) problems.push(...(await run(route, check)));
    // Only the downloads (audit rows) and the pairs handed out (assignments, a member's annotator) may
    // have written anything: every refused request and every invalid form wrote nothing.
    const after = counted();
    expect({ ...after, audit_log: 0 }).toEqual({ ...before, audit_log: 0 });
    // One audit row per allowed download: viewer, editor, owner and both tokens of A.
    expect(after.audit_log).toBe((before.audit_log as number) + 5);
    for (const [route, check] of checks.filter(([, check]) => check.last)) problems.push(...(await run(route, check)));
    expect(problems).toEqual([]);
  });
});

/** The Single Fetch URL of a page (`/studies/1.data`, `/_root.data` for the home page). */
function dataPath(pagePath: string): string {
  const [pathname, query] = pagePath.split("?") as [string, string | undefined];
  return `${pathname === "/" ? "/_root" : pathname}.data${query ? `?${query}` : ""}`;
}

/** The matrix as a markdown table (printed after the run, for the issue's closing note). */
function formatMatrix(results: { method: string; path: string; statuses: Record<ActorName, number> }[]): string {
  const header = `| request | ${ACTORS.join(" | ")} |`;
  const rule = `| --- | ${ACTORS.map(() => "---").join(" | ")} |`;
  const lines = results.map((result) => `| ${result.method} ${result.path} | ${ACTORS.map((actor) => result.statuses[actor]).join(" | ")} |`);
  return [header, rule, ...lines].join("\n");
}
