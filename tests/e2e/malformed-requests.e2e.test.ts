import { execFileSync } from "node:child_process";
import http from "node:http";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAnnotatorLink, createFirstOwner, inviteTokenOf } from "../helpers/accounts";
import { ApiAnnotator } from "../../harness/api-annotator";
import { readAppDatabase, startApp, type RunningApp } from "../../harness/app-server";
import { probe } from "../helpers/http-probe";

interface BuiltRoute {
  id: string;
  path?: string;
  parentId?: string;
  action: boolean;
}

/** Every route of the built app (build/index.js), read in a child process so this test does not load the server bundle. */
function builtRoutes(): BuiltRoute[] {
  const script = `const build = await import(${JSON.stringify(new URL("../../build/index.js", import.meta.url).href)});
    console.log(JSON.stringify(Object.values(build.routes).map((r) => ({ id: r.id, path: r.path, parentId: r.parentId, action: Boolean(r.module.action) }))));`;
  return JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" })) as BuiltRoute[];
}

function fullPath(route: BuiltRoute, byId: Map<string, BuiltRoute>): string {
  const segments: string[] = [];
  for (let current: BuiltRoute | undefined = route; current; current = current.parentId ? byId.get(current.parentId) : undefined) {
    if (current.path) segments.unshift(current.path);
  }
  return `/${segments.join("/")}`;
}

// Tables the engine writes on its own schedule, and the migrator's bookkeeping: not a request's doing.
const NOT_REQUEST_DATA = new Set(["engine_snapshots", "engine_checkpoints", "__drizzle_migrations", "sqlite_sequence"]);

/** Row counts of every table a request could write (accounts, sessions, invites, tokens, the audit log and jobs included), and each study's status. */
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

interface Outcome {
  label: string;
  status: number;
}

/** A request through node:http; the status, or 0 when the server closed the connection without an answer. */
function send(
  app: RunningApp,
  label: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Buffer | string,
): Promise<Outcome> {
  const { hostname, port } = new URL(app.url);
  return new Promise((resolve) => {
    // Framed by Content-Length: without it node:http sends a DELETE's or OPTIONS' body unframed, a client error rather than a probe.
    const framing = body === undefined ? {} : { "Content-Length": String(Buffer.byteLength(body)) };
    const request = http.request({ hostname, port, path, method, headers: { ...framing, ...headers }, agent: false }, (response) => {
      response.resume();
      response.on("end", () => resolve({ label, status: response.statusCode ?? 0 }));
      response.on("error", () => resolve({ label, status: response.statusCode ?? 0 }));
    });
    request.on("error", () => resolve({ label, status: 0 }));
    request.end(body);
  });
}

/** Bytes written to a socket as they are (invalid UTF-8, bad request lines); the status of the answer, or 0 for a closed connection. */
function sendRaw(app: RunningApp, label: string, bytes: Buffer): Promise<Outcome> {
  const { hostname, port } = new URL(app.url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname);
    let received = "";
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("latin1");
      if (/\r\n\r\n/.test(received)) socket.end();
    });
    socket.on("close", () => resolve({ label, status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(received)?.[1] ?? 0) }));
    socket.on("error", () => undefined);
    socket.end(bytes);
  });
}

const ODD_IDS = ["0", "-1", "abc", "1.5", "1e3", "99999999999999999999", "%00", "%FF", "%2e%2e", "%D9%A1", "9".repeat(400), "1%20OR%201=1"];
const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"];

function multipart(boundary: string, parts: string): Buffer {
  return Buffer.from(parts.replaceAll("{b}", boundary), "latin1");
}

/** Bodies no route may accept: each is malformed, of the wrong type, or invalid for every form of the app. */
const BODIES: { name: string; contentType?: string; body: Buffer | string }[] = [
  { name: "empty form", contentType: "application/x-www-form-urlencoded", body: "" },
  { name: "form without fields", contentType: "application/x-www-form-urlencoded", body: "&&&==&%%%&intent=%ZZ" },
  {
    name: "form with invalid UTF-8",
    contentType: "application/x-www-form-urlencoded",
    body: Buffer.from([0x69, 0x6e, 0x74, 0x65, 0x6e, 0x74, 0x3d, 0xff, 0xfe, 0xc3]),
  },
  {
    name: "form with blank name",
    contentType: "application/x-www-form-urlencoded",
    body: "displayName=%20%20&intent=vote&assignmentId=-1&choice=sideways",
  },
  {
    name: "form with repeated odd fields",
    contentType: "application/x-www-form-urlencoded",
    body: "intent=vote&intent=elect&assignmentId=1e309&choice=&__proto__=x",
  },
  { name: "form with a 61-character name", contentType: "application/x-www-form-urlencoded", body: `displayName=${"n".repeat(61)}` },
  { name: "JSON", contentType: "application/json", body: '{"intent":"start","displayName":"","assignmentId":0}' },
  { name: "JSON with charset", contentType: "application/json; charset=utf-16", body: "[1,2,3]" },
  { name: "deep JSON", contentType: "application/json", body: "[".repeat(50_000) + "]".repeat(50_000) },
  { name: "broken JSON", contentType: "application/json", body: '{"assignmentId": 1, "choice": "left"' },
  {
    name: "JSON of the wrong shape",
    contentType: "application/json",
    body: '{"assignmentId":"1; drop table votes","choice":["left"],"next":"yes","displayName":123}',
  },
  { name: "JSON with invalid UTF-8", contentType: "application/json", body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]) },
  { name: "text", contentType: "text/plain", body: "displayName=Text" },
  { name: "text posing as JSON", contentType: "text/plain; a=application/json", body: '{"displayName":"Smuggled"}' },
  { name: "no content type", body: "displayName=Untyped" },
  { name: "malformed content type", contentType: "multipart/form-data; boundary", body: "x" },
  { name: "unknown content type", contentType: "application/x-unknown+evil", body: "\u0000\u0001\u0002" },
  { name: "multipart without boundary", contentType: "multipart/form-data", body: "--x\r\n\r\n" },
  {
    name: "multipart, wrong boundary",
    contentType: "multipart/form-data; boundary=abc",
    body: multipart("xyz", '--{b}\r\nContent-Disposition: form-data; name="intent"\r\n\r\nvote\r\n--{b}--\r\n'),
  },
  {
    name: "multipart, truncated",
    contentType: "multipart/form-data; boundary=abc",
    body: multipart("abc", '--{b}\r\nContent-Disposition: form-data; name="log"; filename="a.jsonl"\r\n\r\n{"vote_id":'),
  },
  {
    name: "multipart, part without disposition",
    contentType: "multipart/form-data; boundary=abc",
    body: multipart("abc", "--{b}\r\nX-Nothing: 1\r\n\r\nvalue\r\n--{b}--\r\n"),
  },
  {
    name: "multipart, header without end",
    contentType: "multipart/form-data; boundary=abc",
    body: multipart("abc", `--{b}\r\nContent-Disposition: form-data; name="${"n".repeat(20_000)}`),
  },
  {
    name: "multipart, NUL in file name",
    contentType: "multipart/form-data; boundary=abc",
    body: multipart("abc", '--{b}\r\nContent-Disposition: form-data; name="log"; filename="a\u0000.jsonl"\r\n\r\n\u00ff\u00fe\r\n--{b}--\r\n'),
  },
  {
    name: "multipart with garbage fields",
    contentType: "multipart/form-data; boundary=abc",
    body: multipart(
      "abc",
      '--{b}\r\nContent-Disposition: form-data; name="intent"\r\n\r\nadd-prompts\r\n--{b}\r\nContent-Disposition: form-data; name="log"\r\n\r\nnot a file\r\n--{b}--\r\n',
    ),
  },
  { name: "oversized form", contentType: "application/x-www-form-urlencoded", body: `padding=${"x".repeat(200_000)}` },
];

const ODD_PATHS = [
  "/%",
  "/%FF",
  "/%00",
  "/%c0%ae%c0%ae/",
  "//",
  "//evil.example/",
  "/\\evil.example",
  "/..%2f..%2fetc%2fpasswd",
  "/build/..%2f..%2fserver.js",
  "/build/%2e%2e/%2e%2e/package.json",
  "/studies/%2e%2e/annotate",
  "/studies/1/annotate/extra/segments",
  "/studies//annotate",
  "/studies/1/export/download?format=%FF",
  "/studies/1/export/download?format=jsonl&from=9999-99-99&to=0000-00-00",
  "/studies/1/export/download?format=csv&annotator=a,b,%00&duplicates=maybe&system=%FF",
  "/join?redirectTo=%FF%FE",
  "/join?redirectTo=%0d%0aSet-Cookie:x=1",
  "/login?redirectTo=%FF%FE",
  "/login?redirectTo=%0d%0aSet-Cookie:x=1",
  "/join/%FF",
  "/join/a/b",
  "/setup/%00",
  "/_root.data",
  "/.data",
  "/studies/1/.data",
  "/studies/1.data?_routes=%FF",
  "/__manifest",
  "/__manifest?p=%FF&version=x",
  "/__manifest?p=/&p=//&version=" + "v".repeat(8000),
  "/api/%FF",
  "/api/studies/%00/votes",
  "/api/studies/1/votes/extra",
  "/api/",
  "/api/test/rate-limit-clock",
  "/api/test/studies/1/engine-idle",
  "/" + "a".repeat(8_000),
];

describe("a few hundred malformed requests against every route of the built app", () => {
  let app: RunningApp;
  let inviteToken = "";
  let joinPath = "";
  let annotatorCookie = "";
  let ownerCookie = "";
  beforeAll(async () => {
    // The rate limits come before every other check (tested in http-hardening): here they would only turn the
    // fuzz of the sign-in, setup, join and token pages into 429s before their bodies are looked at.
    app = await startApp({
      RATE_LIMIT_SIGN_IN_IP: "off",
      RATE_LIMIT_SIGN_IN_ACCOUNT: "off",
      RATE_LIMIT_SETUP_IP: "off",
      RATE_LIMIT_JOIN_IP: "off",
      RATE_LIMIT_TOKENS_IP: "off",
      RATE_LIMIT_TOKENS_SESSION: "off",
    });
    const owner = await createFirstOwner(app);
    ownerCookie = owner.cookie;
    const link = await createAnnotatorLink(app, owner, 1);
    joinPath = new URL(link).pathname;
    inviteToken = inviteTokenOf(link);
    const annotator = new ApiAnnotator(app.url, 1);
    await annotator.join(inviteToken, "Fuzz session");
    annotatorCookie = annotator.cookieHeader();
    annotator.close();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it("answers none of them with a 5xx and writes no row", async () => {
    const routes = builtRoutes();
    const byId = new Map(routes.map((route) => [route.id, route]));
    // Parameters other than the study and the link token (a query's id, say) take the first row's id.
    const withOtherIds = (path: string) => path.replace(/:(?!studyId\b|token\b)\w+/g, "1");
    const templates = [...new Set(routes.map((route) => withOtherIds(fullPath(route, byId))))];
    // Tokens in paths (invite, setup links) are the real invite's: a body that gets past the checks meets a live link.
    const actionPaths = routes
      .filter((route) => route.action)
      .map((route) => withOtherIds(fullPath(route, byId)).replace(":studyId", "1").replace(":token", inviteToken));
    // The API's own routes come from its table in ADR 0007.
    expect(actionPaths.length).toBeGreaterThanOrEqual(15);
    const apiTemplates = ["/api/session", "/api/studies/:studyId/assignments", "/api/studies/:studyId/votes"];
    const paths = [...templates, ...apiTemplates].flatMap((template) => {
      const parameter = /:(studyId|token)/.exec(template)?.[0];
      if (!parameter) return [template];
      return [parameter === ":studyId" ? "1" : inviteToken, ...ODD_IDS].map((value) => template.replace(parameter, value));
    });
    expect(paths.some((path) => /:\w/.test(path))).toBe(false);
    const before = appState(app);
    const outcomes: Outcome[] = [];
    const run = async (pending: Promise<Outcome>[]) => outcomes.push(...(await Promise.all(pending)));

    // 1. Every path (each id variant) with every method, unsafe methods carrying one of the bodies in turn.
    let turn = 0;
    for (const path of paths) {
      await run(
        METHODS.map((method) => {
          const body = BODIES[turn++ % BODIES.length]!;
          const hasBody = method !== "GET" && method !== "HEAD" && method !== "TRACE";
          const headers: Record<string, string> = hasBody && body.contentType ? { "Content-Type": body.contentType } : {};
          return send(app, `${method} ${path} (${hasBody ? body.name : "no body"})`, method, path, headers, hasBody ? body.body : undefined);
        }),
      );
    }
    // 2. Every body to every action and API endpoint, without a session and with an annotator's and the owner's (owner pages
    //    and the annotate page need one to reach their body), as a document post, a .data post and ?index.
    for (const path of [...actionPaths, "/api/session", "/api/studies/1/votes", "/api/studies/1/assignments"]) {
      for (const [variant, target] of [
        ["", path],
        [".data", path.startsWith("/api/") ? `${path}?index` : `${path}.data`],
      ] as const) {
        await run(
          BODIES.flatMap((body) =>
            // A session asking for its next pair, or signing out, makes a real request whatever body it sends: those go without.
            (path.endsWith("/assignments") || path === "/logout" ? [{}] : [{}, { Cookie: annotatorCookie }, { Cookie: ownerCookie }]).map(
              (cookie: { Cookie?: string }) =>
                send(
                  app,
                  `POST ${target} (${body.name}${cookie.Cookie === undefined ? "" : cookie.Cookie === ownerCookie ? ", owner" : ", annotator"}${variant})`,
                  "POST",
                  target,
                  {
                    ...(body.contentType ? { "Content-Type": body.contentType } : {}),
                    ...cookie,
                  },
                  body.body,
                ),
            ),
          ),
        );
      }
    }
    // 3. Odd paths and query strings, read and posted.
    await run(
      ODD_PATHS.flatMap((path) => [
        send(app, `GET ${path.slice(0, 80)}`, "GET", path, {}),
        send(app, `POST ${path.slice(0, 80)}`, "POST", path, { "Content-Type": "application/x-www-form-urlencoded" }, "intent=%ZZ"),
      ]),
    );
    // 4. Odd headers: huge, forged or malformed cookies, hostile forwarding headers and hosts.
    const oddHeaders: Record<string, string>[] = [
      { "X-Padding": "x".repeat(20_000) },
      { Cookie: "__promptduel_session=%FF%FE%00" },
      { Cookie: "__promptduel_session=eyJ1c2VySWQiOjF9.forged-signature" },
      { Cookie: `__promptduel_session=${"a".repeat(7_000)}` },
      { Cookie: Array.from({ length: 300 }, (_, i) => `c${i}=${i}`).join("; ") },
      { "X-Forwarded-For": "not-an-ip, ::::, 999.999.999.999", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "gopher" },
      { Host: "evil.example/../../" },
      { Host: "" },
      { Host: "[::1" },
      { Origin: "http://" + "o".repeat(5_000) },
      { "Sec-Fetch-Site": "\u00ff\u00fe" },
      { "Content-Length": "0", "Content-Type": "multipart/form-data; boundary=" + "b".repeat(5_000) },
      { Accept: "text/x-script" },
      { "Content-Type": "application/x-www-form-urlencoded; charset=utf-7" },
    ];
    await run(
      oddHeaders.flatMap((headers, index) =>
        [joinPath, "/studies/1/annotate", "/api/studies/1/votes", "/"].map((path) =>
          send(
            app,
            `POST ${path} (odd headers ${index})`,
            "POST",
            path,
            { "Content-Type": "application/x-www-form-urlencoded", ...headers },
            "intent=%ZZ",
          ),
        ),
      ),
    );
    // 5. Raw bytes no well-behaved client library would send.
    const host = new URL(app.url).host;
    const raw = (text: string, extra: number[] = []) => Buffer.concat([Buffer.from(text, "latin1"), Buffer.from(extra)]);
    await run(
      [
        raw("GET /studies/\xff\xfe/annotate HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n"),
        raw("GET /api/studies/\xc3\x28/votes HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n"),
        raw(
          `POST ${joinPath} HTTP/1.1\r\nHost: ` +
            host +
            "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 14\r\nConnection: close\r\n\r\ndisplayName=\xff\xfe",
        ),
        raw(
          `POST ${joinPath} HTTP/1.1\r\nHost: ` + host + "\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n",
        ),
        raw(`POST ${joinPath} HTTP/1.1\r\nHost: ` + host + "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nZZ\r\nxx\r\n0\r\n\r\n"),
        raw("GET http://evil.example/ HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"),
        raw("GET * HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n"),
        raw("OPTIONS * HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n"),
        raw("GET / HTTP/9.9\r\nHost: " + host + "\r\n\r\n"),
        raw("GET / HTTP/1.0\r\n\r\n"),
        raw("BREW /join HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n"),
        raw("GET / HTTP/1.1\r\nHost: " + host + "\r\nX-Bad: a\x00b\r\nConnection: close\r\n\r\n"),
        raw("GET / HTTP/1.1\r\nHost: " + host + "\r\nX-Bad\r\nConnection: close\r\n\r\n"),
        raw("GET /\r\n\r\n"),
        raw("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
        raw(
          "POST /api/session HTTP/1.1\r\nHost: " + host + "\r\nContent-Type: application/json\r\nContent-Length: 8\r\nConnection: close\r\n\r\n",
          [0x7b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x3a, 0x7d],
        ),
      ].map((bytes, index) => sendRaw(app, `raw ${index}`, bytes)),
    );

    const statuses = new Map<number, number>();
    for (const outcome of outcomes) statuses.set(outcome.status, (statuses.get(outcome.status) ?? 0) + 1);
    console.log(
      `${outcomes.length} malformed requests; statuses: ${[...statuses]
        .sort(([a], [b]) => a - b)
        .map(([status, count]) => `${status === 0 ? "closed" : status} ×${count}`)
        .join(", ")}`,
    );
    expect(outcomes.length).toBeGreaterThan(500);
    expect(outcomes.filter((outcome) => outcome.status >= 500)).toEqual([]);
    // Only requests the HTTP parser itself refuses may end with a closed connection instead of an answer.
    expect(outcomes.filter((outcome) => outcome.status === 0 && !outcome.label.startsWith("raw ")).map((outcome) => outcome.label)).toEqual([]);
    expect(appState(app)).toEqual(before);
    // And the server is still there, answering, with the fuzz's sessions still signed in.
    expect((await probe(app, "/login")).status).toBe(200);
    expect((await probe(app, "/", { headers: { Cookie: ownerCookie } })).status).toBe(200);
    expect((await probe(app, "/", { headers: { Cookie: annotatorCookie } })).status).toBe(200);
  });
});
