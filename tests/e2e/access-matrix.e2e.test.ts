import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_ROUTES, TEST_API_ROUTES } from "../../app/api/annotator-api.server";
import {
  createAnnotatorLink,
  createApiToken,
  createFirstOwner,
  createStudy,
  inviteMember,
  inviteTokenOf,
  joinAsAnnotator,
  postForm,
  type Account,
} from "../helpers/accounts";
import { readAppDatabase, startApp, type RunningApp } from "../../harness/app-server";

// Issue 13's access matrix: every route of the built Remix manifest and every JSON API route, requested
// by every kind of actor, against the status this table expects. A route missing from the table fails
// the test, so no route ships without a decision. Form posts carry a body that fails validation, so an
// allowed actor gets 400 (and nothing is written) while a refused one gets its 302 / 401 / 403 / 404:
// the status says which layer answered. Study A is the demo study; B is another study of the same owner.
// The server asks for a confirmation above one response, so the owner's addition to B (job :jobB) and
// their creation of study C (job :jobC) wait for one: job intents naming them through study A's pages,
// or through another account's new-study page, must be refused as jobs of no business there (400).

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
  /**
   * `:A` is study A's id, `:B` study B's, `:link` the token of an annotator link to study A, `:jobB` an
   * addition to study B and `:jobC` the creation of study C (both waiting for the owner's confirmation).
   */
  path: string;
  body?: Record<string, string> | object;
  expected: Expected;
  /** What an allowed actor's 400 or 409 must say: the refusal is about that job or item, not a form that never works. */
  answer?: RegExp;
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
  // The icon is public: a redirect to /favicon.svg for everyone, whoever is signed in.
  "routes/favicon[.]ico": [{ method: "GET", path: "/favicon.ico", expected: every(301) }],
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
    // Another account's study being created: the page shows the blank form, never the job (its
    // creator sees it: 200 too, as it still waits for them). A study's job is no creation at all.
    { method: "GET", path: "/studies/new?job=:jobC", expected: accountPage },
    {
      method: "POST",
      path: "/studies/new",
      body: { intent: "confirm-job", jobId: ":jobB" },
      expected: accountPost,
      answer: /No study of yours is being created as job #\d+/,
    },
    {
      method: "POST",
      path: "/studies/new",
      body: { intent: "retry-job", jobId: ":jobC" },
      expected: accountPost,
      answer: /No study of yours|cannot be retried/,
    },
  ],
  "routes/studies.$studyId._index": [
    { method: "GET", path: "/studies/:A", expected: studyRead },
    { method: "GET", path: "/studies/999999", expected: row(302, 404, 404, 404, 404, 404, 404, 404, 404) },
    // The study's life (start, pause, close, archive...) is part of editing it; no statusAction: 400.
    { method: "POST", path: "/studies/:A", body: BAD_FORM, expected: studyEditPost },
    {
      method: "POST",
      path: "/studies/:A",
      body: { statusAction: "start" },
      expected: row(302, 403, 404, 403, 409, 409, 403, 409, 404),
      answer: /A running study cannot start/,
    },
    { method: "POST", path: "/studies/999999", body: { statusAction: "pause" }, expected: row(302, 404, 404, 404, 404, 404, 404, 404, 404) },
  ],
  "routes/studies.$studyId.annotate": [
    { method: "GET", path: "/studies/:A/annotate", expected: studyAnnotate },
    { method: "POST", path: "/studies/:A/annotate", body: BAD_FORM, expected: studyAnnotatePost },
  ],
  "routes/studies.$studyId.setup": [
    { method: "GET", path: "/studies/:A/setup", expected: studyEdit },
    { method: "POST", path: "/studies/:A/setup", body: BAD_FORM, expected: studyEditPost },
    // Job intents reach only study A's own jobs: B's waiting addition and C's creation are not found here.
    {
      method: "POST",
      path: "/studies/:A/setup",
      body: { intent: "confirm-job", jobId: ":jobB" },
      expected: studyEditPost,
      // The write token is refused before the job is looked up: tokens never confirm.
      answer: /Job #\d+ is not waiting for a confirmation|An API token cannot confirm a job/,
    },
    {
      method: "POST",
      path: "/studies/:A/setup",
      body: { intent: "cancel-job", jobId: ":jobB" },
      expected: studyEditPost,
      answer: /Job #\d+ is not waiting for a confirmation/,
    },
    {
      method: "POST",
      path: "/studies/:A/setup",
      body: { intent: "cancel-job", jobId: ":jobC" },
      expected: studyEditPost,
      answer: /Job #\d+ is not waiting for a confirmation/,
    },
    {
      method: "POST",
      path: "/studies/:A/setup",
      body: { intent: "retry-job", jobId: ":jobB" },
      expected: studyEditPost,
      answer: /Job #\d+ cannot be retried/,
    },
    // A disabled item of another study is not this study's to touch.
    {
      method: "POST",
      path: "/studies/:A/setup",
      body: { intent: "set-active", kind: "prompt", id: ":promptB", active: "false" },
      expected: studyEditPost,
      answer: /No prompt #\d+ in this study/,
    },
  ],
  "routes/studies.$studyId.generation": [
    { method: "GET", path: "/studies/:A/generation", expected: row(401, 403, 404, 200, 200, 200, 200, 200, 404) },
  ],
  // The owner's per-query pages (ADR 0029): read like the dashboard; tags are edited like the setup.
  "routes/studies.$studyId.responses": [
    { method: "GET", path: "/studies/:A/responses", expected: studyRead },
    { method: "GET", path: "/studies/:A/responses?page=0&prompts=:promptB", expected: row(302, 403, 404, 400, 400, 400, 400, 400, 404) },
  ],
  "routes/studies.$studyId.where-leader-loses": [{ method: "GET", path: "/studies/:A/where-leader-loses", expected: studyRead }],
  "routes/studies.$studyId.queries.$queryId": [
    { method: "GET", path: "/studies/:A/queries/:queryA", expected: studyRead },
    // Another study's query through study A: not found, for those who may read A.
    { method: "GET", path: "/studies/:A/queries/:queryB", expected: row(302, 403, 404, 404, 404, 404, 404, 404, 404) },
    { method: "POST", path: "/studies/:A/queries/:queryA", body: BAD_FORM, expected: studyEditPost },
    {
      method: "POST",
      path: "/studies/:A/queries/:queryB",
      body: { intent: "set-query-tags", tags: "billing" },
      expected: row(302, 403, 404, 403, 404, 404, 403, 404, 404),
    },
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
    {
      method: "POST",
      path: "/studies/:A/import-log",
      body: { intent: "cancel-job", jobId: ":jobB" },
      expected: studyEditPost,
      answer: /Job #\d+ is not waiting for a confirmation/,
    },
    {
      method: "POST",
      path: "/studies/:A/import-log",
      body: { intent: "confirm-job", jobId: ":jobC" },
      expected: studyEditPost,
      // The write token is refused before the job is looked up: tokens never confirm.
      answer: /Job #\d+ is not waiting for a confirmation|An API token cannot confirm a job/,
    },
  ],
  "routes/studies.$studyId.quality": [
    { method: "GET", path: "/studies/:A/quality", expected: studyManage },
    { method: "POST", path: "/studies/:A/quality", body: BAD_FORM, expected: studyManagePost },
  ],
  // The LLM judge (ADR 0032): owners only, as whether its votes count is an exclusion.
  "routes/studies.$studyId.judge": [
    { method: "GET", path: "/studies/:A/judge", expected: studyManage },
    { method: "POST", path: "/studies/:A/judge", body: BAD_FORM, expected: studyManagePost },
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
    // A valid addition above the confirmation threshold: 409 with the plan (the setup page confirms it), nothing written.
    {
      method: "POST",
      path: "/api/studies/:A/prompts",
      body: { prompts: [{ text: "Sneaky." }] },
      expected: row(401, 403, 404, 403, 409, 409, 403, 409, 404),
      answer: /"plan":\{.*"newResponses":/,
    },
  ],
  [`POST ${/^\/api\/studies\/([^/]+)\/queries$/.source}`]: [
    { method: "POST", path: "/api/studies/:A/queries", body: {}, expected: row(401, 403, 404, 403, 400, 400, 403, 400, 404) },
    {
      method: "POST",
      path: "/api/studies/:A/queries",
      body: { queries: [{ text: "Sneaky?" }] },
      expected: row(401, 403, 404, 403, 409, 409, 403, 409, 404),
      answer: /"plan":\{.*"newResponses":/,
    },
  ],
  // Test hooks exist only with PROMPTDUEL_TEST_HOOKS=1, which this server does not set.
  [`POST ${/^\/api\/test\/studies\/([^/]+)\/engine-idle$/.source}`]: [
    { method: "POST", path: "/api/test/studies/:A/engine-idle", expected: every(404) },
  ],
  [`POST ${/^\/api\/test\/studies\/([^/]+)\/engine-stats-current$/.source}`]: [
    { method: "POST", path: "/api/test/studies/:A/engine-stats-current", expected: every(404) },
  ],
  [`POST ${/^\/api\/test\/rate-limit-clock$/.source}`]: [
    { method: "POST", path: "/api/test/rate-limit-clock", body: { advanceMs: 600_000 }, expected: every(404) },
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
  let jobB = 0;
  let jobC = 0;
  let promptB = 0;
  let queryA = 0;
  let queryB = 0;
  let accounts: Record<"owner" | "viewer" | "editor", Account>;
  let secrets: string[] = [];
  const results: { route: string; method: string; path: string; statuses: Record<ActorName, number> }[] = [];

  beforeAll(async () => {
    const build = (await import(pathToFileURL(path.resolve("build/index.js")).href)) as { routes: Record<string, unknown> };
    routeIds = Object.keys(build.routes).sort();
    // Any addition of two or more responses waits for the owner's confirmation.
    app = await startApp({ CONFIRM_RESPONSES_ABOVE: "1" });
    const owner: Account = await createFirstOwner(app);
    studyA = readAppDatabase(app, (db) => db.prepare("select id from studies order by id limit 1").pluck().get() as number);
    studyB = await createStudy(
      app,
      owner,
      { name: "Study B", task: "Another task.", promptsText: "One.\n\nTwo.", queriesText: "Why?" },
      { confirm: true },
    );
    promptB = readAppDatabase(app, (db) => db.prepare("select min(id) from prompts where study_id = ?").pluck().get(studyB) as number);
    queryA = readAppDatabase(app, (db) => db.prepare("select min(id) from queries where study_id = ?").pluck().get(studyA) as number);
    queryB = readAppDatabase(app, (db) => db.prepare("select min(id) from queries where study_id = ?").pluck().get(studyB) as number);
    const newestJob = () =>
      readAppDatabase(app, (db) => db.prepare("select id, state from jobs order by id desc limit 1").get()) as { id: number; state: string };
    expect((await postForm(app, `/studies/${studyB}/setup`, { intent: "add-queries", queriesText: "How?" }, owner.cookie)).status).toBe(200);
    jobB = newestJob().id;
    const pendingC = await postForm(
      app,
      "/studies/new",
      {
        name: "Study C",
        task: "A third task.",
        model: "m",
        temperature: "0.7",
        maxTokens: "100",
        seed: "",
        promptsText: "Uno.\n\nDos.",
        queriesText: "Qué?",
      },
      owner.cookie,
    );
    expect(pendingC.status).toBe(302);
    jobC = newestJob().id;
    expect(
      readAppDatabase(app, (db) =>
        db.prepare("select id, study_id as studyId, kind, state from jobs where id in (?, ?) order by id").all(jobB, jobC),
      ),
    ).toEqual([
      { id: jobB, studyId: studyB, kind: "add-to-study", state: "awaiting_confirmation" },
      { id: jobC, studyId: null, kind: "create-study", state: "awaiting_confirmation" },
    ]);
    linkA = await createAnnotatorLink(app, owner, studyA);
    credentials.anonymous = {};
    credentials.annotatorA = { cookie: await joinAsAnnotator(app, linkA, "Annotator A") };
    credentials.annotatorB = { cookie: await joinAsAnnotator(app, await createAnnotatorLink(app, owner, studyB), "Annotator B") };
    accounts = { owner, viewer: await inviteMember(app, owner, studyA, "viewer"), editor: await inviteMember(app, owner, studyA, "editor") };
    credentials.viewer = { cookie: accounts.viewer.cookie };
    credentials.editor = { cookie: accounts.editor.cookie };
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

  /** The check's path or body value with its placeholders filled in. */
  const concrete = (template: string) =>
    template
      .replace(":jobB", String(jobB))
      .replace(":jobC", String(jobC))
      .replace(":promptB", String(promptB))
      .replace(":queryA", String(queryA))
      .replace(":queryB", String(queryB))
      .replace(":A", String(studyA))
      .replace(":B", String(studyB))
      .replace(":link", inviteTokenOf(linkA));

  async function request(check: Check, actor: ActorName): Promise<{ status: number; body: string }> {
    const { cookie, token } = credentials[actor];
    const api = check.path.startsWith("/api/");
    const headers: Record<string, string> = { Origin: app.url };
    if (cookie) headers.Cookie = cookie;
    if (token) headers.Authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (check.body !== undefined) {
      headers["Content-Type"] = api ? "application/json" : "application/x-www-form-urlencoded";
      body = api
        ? JSON.stringify(check.body)
        : new URLSearchParams(Object.entries(check.body as Record<string, string>).map(([key, value]) => [key, concrete(value)])).toString();
    }
    const response = await fetch(new URL(concrete(check.path), app.url), { method: check.method, headers, body, redirect: "manual" });
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
      else if (check.answer && [400, 409].includes(answer.status) && !check.answer.test(answer.body))
        problems.push(`${check.method} ${check.path} as ${actor}: the ${answer.status} does not say ${check.answer}`);
      // 200, 400 and 409 answer allowed actors (a valid request, an invalid form, a change the study's state refuses).
      if (![200, 400, 409].includes(answer.status) && secrets.some((secret) => answer.body.includes(secret))) {
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

  // The matrix proves refusals; this proves the same requests do work for whom they should, so the
  // matrix's 400s and 403s are answers about those jobs and that study, not forms that never work.
  it("lets a study's editors run its jobs and life, its owner alone delete it, and a creation only its account", async () => {
    const { owner, viewer, editor } = accounts;
    const jobOf = (id: number) =>
      readAppDatabase(app, (db) => db.prepare("select state from jobs where id = ?").pluck().get(id)) as string | undefined;
    const statusOf = (id: number) => readAppDatabase(app, (db) => db.prepare("select status from studies where id = ?").pluck().get(id));
    const lastAudit = () =>
      readAppDatabase(app, (db) => db.prepare("select study_id as studyId, actor, action, details from audit_log order by id desc limit 1").get());
    const post = (path: string, fields: Record<string, string>, who: Credentials) =>
      fetch(new URL(path, app.url), {
        method: "POST",
        redirect: "manual",
        headers: {
          Origin: app.url,
          "Content-Type": "application/x-www-form-urlencoded",
          ...(who.cookie ? { Cookie: who.cookie } : {}),
          ...(who.token ? { Authorization: `Bearer ${who.token}` } : {}),
        },
        body: new URLSearchParams(fields),
      });

    // A job of study A waiting for a confirmation: a viewer may not cancel it, an editor may, audited.
    expect((await post(`/studies/${studyA}/setup`, { intent: "add-queries", queriesText: "Is it on?" }, credentials.owner)).status).toBe(200);
    const jobA = readAppDatabase(app, (db) => db.prepare("select max(id) from jobs where study_id = ?").pluck().get(studyA)) as number;
    expect(jobOf(jobA)).toBe("awaiting_confirmation");
    expect((await post(`/studies/${studyA}/setup`, { intent: "cancel-job", jobId: String(jobA) }, credentials.viewer)).status).toBe(403);
    expect((await post(`/studies/${studyA}/import-log`, { intent: "cancel-job", jobId: String(jobA) }, credentials.tokenReadA)).status).toBe(403);
    expect((await post(`/studies/${studyB}/setup`, { intent: "cancel-job", jobId: String(jobA) }, credentials.tokenB)).status).toBe(400);
    // A write token may queue and cancel, but its figures are confirmed by a person, not a script.
    const byToken = await post(`/studies/${studyA}/setup`, { intent: "confirm-job", jobId: String(jobA) }, credentials.tokenWriteA);
    expect(byToken.status).toBe(400);
    expect(await byToken.text()).toContain("An API token cannot confirm a job");
    expect(jobOf(jobA)).toBe("awaiting_confirmation");
    expect((await post(`/studies/${studyA}/setup`, { intent: "cancel-job", jobId: String(jobA) }, credentials.editor)).status).toBe(200);
    expect(jobOf(jobA)).toBeUndefined();
    expect(lastAudit()).toEqual({
      studyId: studyA,
      actor: expect.stringContaining("editor"),
      action: "job.cancelled",
      details: JSON.stringify({ jobId: jobA }),
    });

    // The study's life: editors and write tokens, not viewers, read tokens or annotators.
    for (const refused of ["viewer", "tokenReadA", "annotatorA"] as const)
      expect((await post(`/studies/${studyA}`, { statusAction: "pause" }, credentials[refused])).status, refused).toBe(403);
    expect(statusOf(studyA)).toBe("running");
    expect((await post(`/studies/${studyA}`, { statusAction: "pause" }, credentials.editor)).status).toBe(200);
    expect(statusOf(studyA)).toBe("paused");
    expect((await post(`/studies/${studyA}`, { statusAction: "resume" }, credentials.tokenWriteA)).status).toBe(200);
    expect(statusOf(studyA)).toBe("running");
    expect(lastAudit()).toMatchObject({ studyId: studyA, action: "study.status_changed", details: JSON.stringify({ action: "resume" }) });

    // A creation waiting for a confirmation is its account's alone: the owner of study A cannot see,
    // confirm or cancel the editor's, and the editor's own page shows it and cancels it.
    const pendingD = await post(
      "/studies/new",
      {
        name: "Study D",
        task: "The editor's own.",
        model: "m",
        temperature: "0.7",
        maxTokens: "100",
        seed: "",
        promptsText: "Ja.\n\nNein.",
        queriesText: "Wie?",
      },
      { cookie: editor.cookie },
    );
    const jobD = Number(pendingD.headers.get("location")?.match(/job=(\d+)$/)?.[1]);
    expect(jobOf(jobD)).toBe("awaiting_confirmation");
    const ownerView = await (await fetch(new URL(`/studies/new?job=${jobD}`, app.url), { headers: { Cookie: owner.cookie } })).text();
    const editorView = await (await fetch(new URL(`/studies/new?job=${jobD}`, app.url), { headers: { Cookie: editor.cookie } })).text();
    expect(editorView).toContain("Creating the study");
    expect(ownerView).not.toContain("Creating the study");
    for (const intent of ["confirm-job", "cancel-job"]) {
      expect((await post("/studies/new", { intent, jobId: String(jobD) }, { cookie: owner.cookie })).status, intent).toBe(400);
      expect((await post("/studies/new", { intent, jobId: String(jobD) }, { cookie: viewer.cookie })).status, intent).toBe(400);
    }
    expect(jobOf(jobD)).toBe("awaiting_confirmation");
    expect((await post("/studies/new", { intent: "cancel-job", jobId: String(jobD) }, { cookie: editor.cookie })).status).toBe(302);
    expect(jobOf(jobD)).toBeUndefined();
    expect(lastAudit()).toMatchObject({ studyId: null, action: "job.cancelled", details: JSON.stringify({ jobId: jobD }) });

    // Deleting: an editor of A is refused even with the right name; the editor's own study E is theirs
    // to delete, and study A's owner, no member of E, cannot even see it.
    const nameA = readAppDatabase(app, (db) => db.prepare("select name from studies where id = ?").pluck().get(studyA)) as string;
    expect((await post(`/studies/${studyA}/delete`, { confirmName: nameA }, credentials.editor)).status).toBe(403);
    expect((await post(`/studies/${studyA}/delete`, { confirmName: nameA }, credentials.tokenWriteA)).status).toBe(403);
    expect(statusOf(studyA)).toBe("running");
    const studyE = await createStudy(
      app,
      editor,
      { name: "Study E", task: "Short-lived.", promptsText: "Eins.\n\nZwei.", queriesText: "Was?" },
      { confirm: true },
    );
    expect((await post(`/studies/${studyE}/delete`, { confirmName: "Study E" }, credentials.owner)).status).toBe(404);
    expect((await post(`/studies/${studyE}/delete`, { confirmName: "Study F" }, { cookie: editor.cookie })).status).toBe(400);
    expect(statusOf(studyE)).toBe("draft");
    expect((await post(`/studies/${studyE}/delete`, { confirmName: "Study E" }, { cookie: editor.cookie })).status).toBe(302);
    expect(statusOf(studyE)).toBeUndefined();
  });

  it("answers every route as the table says for every actor, leaking nothing of study A to those refused", async () => {
    // Row counts, and the state a refused or invalid request could flip without adding a row: a study's
    // status or name, an item disabled, a job confirmed or cancelled (the jobs' rows and states).
    const counted = () =>
      readAppDatabase(app, (db) => ({
        counts: Object.fromEntries(
          ["studies", "prompts", "queries", "responses", "votes", "invites", "api_tokens", "study_members", "users", "audit_log"].map((table) => [
            table,
            db.prepare(`select count(*) from ${table}`).pluck().get() as number,
          ]),
        ),
        studyStates: db.prepare("select id, name, status from studies order by id").all(),
        inactiveItems: db
          .prepare("select 'prompt' as kind, id from prompts where not active union all select 'query', id from queries where not active")
          .all(),
        jobStates: db.prepare("select id, state from jobs order by id").all(),
      }));
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
    const withoutAudit = (state: typeof before) => ({ ...state, counts: { ...state.counts, audit_log: 0 } });
    expect(withoutAudit(after)).toEqual(withoutAudit(before));
    // One audit row per allowed download: viewer, editor, owner and both tokens of A.
    expect(after.counts.audit_log).toBe(before.counts.audit_log! + 5);
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
