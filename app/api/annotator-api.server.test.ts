import http from "node:http";
import type { AddressInfo } from "node:net";
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  annotators as annotatorsTable,
  apiTokens as apiTokensTable,
  assignments,
  prompts,
  queries as queriesTable,
  studies,
  votes,
} from "../../db/schema";
import { useTempAppDatabase } from "../../tests/helpers/temp-database";
import { ApiAnnotator } from "../../harness/api-annotator";
import { apiToken, signedInOwner } from "../../tests/helpers/in-process-actors";
import { authorizeStudy } from "~/auth/authorize.server";
import { db } from "~/db.server";
import { advanceRateLimitClock } from "~/http/rate-limiter.server";
import { planResponses } from "~/llm/response-plan.server";
import { providerConfig } from "~/llm/runtime.server";
import { parseThreadStarted, stopParseThread } from "~/models/setup-parse.server";
import { createStudy } from "~/models/study-setup.server";
import { getStudy } from "~/models/study.server";
import { revokeApiTokenAs } from "~/services/api-tokens.server";
import { createAnnotatorInvite } from "~/services/invites.server";
import { removeAnnotatorAs } from "~/services/members.server";
import { handleApiHttp } from "./node-http.server";

// The API over real HTTP on loopback: handleApiHttp is exactly what server.js mounts.
describe("annotator JSON API", () => {
  useTempAppDatabase();
  let server: http.Server;
  let baseUrl = "";
  let studyId = 0;
  let inviteToken = "";
  let owner: Awaited<ReturnType<typeof signedInOwner>>;

  beforeAll(async () => {
    server = http.createServer(handleApiHttp);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    studyId = db().select({ id: studies.id }).from(studies).get()!.id;
    owner = await signedInOwner();
    inviteToken = createAnnotatorInvite(authorizeStudy(owner.actor, studyId, "study:manage"), {
      label: "API",
      maxUses: null,
      expiresInDays: null,
    }).token;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const voteCount = () => db().select({ n: count() }).from(votes).get()!.n;

  async function call(
    method: string,
    path: string,
    options: { body?: string; contentType?: string; cookie?: string; token?: string; headers?: Record<string, string> } = {},
  ) {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      body: options.body,
      headers: {
        ...options.headers,
        ...(options.contentType ? { "Content-Type": options.contentType } : {}),
        ...(options.cookie ? { Cookie: options.cookie } : {}),
        ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
      },
    });
    return { status: response.status, headers: response.headers, json: (await response.json()) as Record<string, unknown> };
  }

  async function signedInCookie(name: string) {
    const response = await call("POST", "/api/session", {
      body: JSON.stringify({ inviteToken, displayName: name }),
      contentType: "application/json",
    });
    expect(response.status).toBe(201);
    return response.headers.get("set-cookie")!.split(";")[0]!;
  }

  it("joins with an invite token, hands out a blind pair, records a vote once and answers the next pair in the same request", async () => {
    const annotator = new ApiAnnotator(baseUrl, studyId);
    try {
      await annotator.join(inviteToken, "API tester");
      const pair = await annotator.nextPair();
      expect(Object.keys(pair).sort()).toEqual(["assignmentId", "left", "query", "right"]);
      expect(await annotator.nextPair()).toEqual(pair);
      const before = voteCount();
      const answer = await annotator.voteAndNext(pair.assignmentId, "left");
      expect(answer.status).toBe("recorded");
      expect(answer.next!.assignmentId).not.toBe(pair.assignmentId);
      expect(voteCount()).toBe(before + 1);
      expect(await annotator.vote(pair.assignmentId, "left")).toEqual({ status: "duplicate", recordedChoice: "left" });
      // A stale tab's different choice is refused with 409 and the choice that counts.
      const cookie = annotator.sessionCookie();
      const stale = await call("POST", `/api/studies/${studyId}/votes`, {
        cookie,
        body: JSON.stringify({ assignmentId: pair.assignmentId, choice: "right" }),
        contentType: "application/json",
      });
      expect(stale).toMatchObject({
        status: 409,
        json: { status: "conflict", recordedChoice: "left", error: expect.stringContaining("not counted") },
      });
      expect(voteCount()).toBe(before + 1);
      const stored = db().select().from(votes).where(eq(votes.assignmentId, pair.assignmentId)).get()!;
      expect(stored.choice).toBe("left");
      expect(db().select().from(assignments).where(eq(assignments.id, answer.next!.assignmentId)).get()!.status).toBe("open");
    } finally {
      annotator.close();
    }
  });

  it("answers 401 without a session, 404 for an unknown study and one the annotator did not join", async () => {
    expect(await call("POST", `/api/studies/${studyId}/assignments`)).toMatchObject({
      status: 401,
      json: { error: expect.stringContaining("Sign in first") },
    });
    const cookie = await signedInCookie("Lost");
    expect(await call("POST", "/api/studies/999999/assignments", { cookie })).toMatchObject({ status: 404, json: { error: "Study not found" } });
    expect(await call("POST", "/api/studies/abc/votes", { cookie })).toMatchObject({ status: 404 });
    const other = createStudy(db(), {
      name: "Other",
      task: "t",
      model: "m",
      temperature: 0.7,
      maxTokens: 100,
      seed: null,
      prompts: [
        { text: "A", label: null, source: "manual" },
        { text: "B", label: null, source: "manual" },
      ],
      queries: [{ text: "q", notes: null }],
      variants: null,
      responses: [],
    });
    expect(await call("POST", `/api/studies/${other.studyId}/assignments`, { cookie })).toMatchObject({
      status: 404,
      json: { error: "Study not found" },
    });
  });

  it("sets the session cookie Secure when a trusted TLS proxy says the client used HTTPS, and only then", async () => {
    const join = (headers: Record<string, string>) =>
      call("POST", "/api/session", { body: JSON.stringify({ inviteToken, displayName: "Proxied" }), contentType: "application/json", headers });
    const direct = await join({ "X-Forwarded-Proto": "https" });
    expect(direct.headers.get("set-cookie")).not.toContain("Secure");
    process.env.TRUST_PROXY = "1";
    try {
      const proxied = await join({ "X-Forwarded-Proto": "https" });
      expect(proxied.headers.get("set-cookie")).toMatch(/HttpOnly.*SameSite=Lax|SameSite=Lax.*HttpOnly/);
      expect(proxied.headers.get("set-cookie")).toContain("; Secure");
      expect((await join({ "X-Forwarded-Proto": "http" })).headers.get("set-cookie")).not.toContain("Secure");
    } finally {
      delete process.env.TRUST_PROXY;
    }
  });

  it("joins no one with an unknown token, and signs out: the next request has no session", async () => {
    const unknown = await call("POST", "/api/session", {
      body: JSON.stringify({ inviteToken: "x".repeat(43), displayName: "Eve" }),
      contentType: "application/json",
    });
    expect(unknown.status).toBe(404);
    const cookie = await signedInCookie("Leaves");
    expect((await call("POST", `/api/studies/${studyId}/assignments`, { cookie })).status).toBe(200);
    expect((await call("DELETE", "/api/session", { cookie })).status).toBe(200);
    expect(await call("POST", `/api/studies/${studyId}/assignments`, { cookie })).toMatchObject({ status: 401 });
  });

  it("shuts a removed annotator out at their next request and keeps their votes", async () => {
    const annotator = new ApiAnnotator(baseUrl, studyId);
    try {
      await annotator.join(inviteToken, "Removed later");
      const pair = await annotator.nextPair();
      expect((await annotator.vote(pair.assignmentId, "left")).status).toBe("recorded");
      const annotatorId = db().select().from(votes).where(eq(votes.assignmentId, pair.assignmentId)).get()!.annotatorId;
      expect(removeAnnotatorAs(authorizeStudy(owner.actor, studyId, "study:manage"), annotatorId)).toBe(true);
      await expect(annotator.nextPair()).rejects.toThrow(/403/);
      expect(db().select().from(votes).where(eq(votes.assignmentId, pair.assignmentId)).get()).toBeDefined();
    } finally {
      annotator.close();
    }
  });

  it("accepts owners' API tokens within their scope and study, and refuses revoked or malformed ones", async () => {
    const read = apiToken(owner, studyId, "read");
    const write = apiToken(owner, studyId, "write");
    const summary = await call("GET", `/api/studies/${studyId}`, { token: read });
    expect(summary.status).toBe(200);
    expect(summary.json).toMatchObject({ id: studyId, counts: { prompts: expect.any(Number) } });
    const body = JSON.stringify({ prompts: [{ text: "Answer in one sentence.", label: "terse" }] });
    const promptCount = () => db().select({ n: count() }).from(prompts).where(eq(prompts.studyId, studyId)).get()!.n;
    const before = promptCount();
    expect(await call("POST", `/api/studies/${studyId}/prompts`, { token: read, body, contentType: "application/json" })).toMatchObject({
      status: 403,
    });
    expect(promptCount()).toBe(before);
    expect(await call("POST", `/api/studies/${studyId}/prompts`, { token: write, body, contentType: "application/json" })).toMatchObject({
      status: 201,
      json: { added: 1 },
    });
    expect(promptCount()).toBe(before + 1);
    expect(await call("POST", `/api/studies/${studyId}/assignments`, { token: write })).toMatchObject({ status: 403 });
    expect(await call("GET", "/api/studies/999999", { token: read })).toMatchObject({ status: 404, json: { error: "Study not found" } });
    // One character changed (always to a different one): an unknown token.
    const tampered = `${read.slice(0, -1)}${read.endsWith("A") ? "B" : "A"}`;
    expect(await call("GET", `/api/studies/${studyId}`, { token: tampered })).toMatchObject({ status: 401 });
    expect((await call("GET", `/api/studies/${studyId}`, { token: "" })).status).toBe(401);
    const tokenId = db().select().from(apiTokensTable).orderBy(apiTokensTable.id).all()[0]!.id;
    revokeApiTokenAs(authorizeStudy(owner.actor, studyId, "study:manage"), tokenId);
    const revoked = await call("GET", `/api/studies/${studyId}`, { token: read });
    expect(revoked.status).toBe(401);
    expect(revoked.headers.get("www-authenticate")).toContain("invalid_token");
  });

  it("plans an addition on the parse thread, as the setup page does: the figures to confirm or the cap in a 409, a bad body's fields in a 400", async () => {
    await stopParseThread();
    const write = apiToken(owner, studyId, "write");
    const addQueries = (queries: unknown) =>
      call("POST", `/api/studies/${studyId}/queries`, { token: write, body: JSON.stringify({ queries }), contentType: "application/json" });
    const queryCount = () => db().select({ n: count() }).from(queriesTable).where(eq(queriesTable.studyId, studyId)).get()!.n;
    const promptTotal = db().select({ n: count() }).from(prompts).where(eq(prompts.studyId, studyId)).get()!.n;
    const before = queryCount();
    const two = [{ text: "Planned off the request thread?" }, { text: "And this one too?" }];
    // What the request thread would have planned, for the same texts.
    const planHere = (texts: { text: string }[]) =>
      planResponses(db(), studyId, getStudy(studyId)!, { promptTexts: [], queryTexts: texts.map((query) => query.text) }, providerConfig());
    const expected = planHere(two);
    const one = planHere(two.slice(0, 1));
    expect(one.newResponses).toBeLessThan(expected.newResponses);
    process.env.CONFIRM_RESPONSES_ABOVE = String(expected.newResponses - 1);
    try {
      const large = await addQueries(two);
      expect(large).toMatchObject({ status: 409, json: { error: expect.stringContaining("confirmed by an owner on the setup page") } });
      expect(large.json.plan).toEqual(expected);
      expect(parseThreadStarted()).toBe(true);
      process.env.RESPONSES_PER_STUDY_MAX = String(promptTotal * before);
      expect(await addQueries(two.slice(0, 1))).toMatchObject({
        status: 409,
        json: { error: expect.stringContaining("(RESPONSES_PER_STUDY_MAX)") },
      });
      delete process.env.RESPONSES_PER_STUDY_MAX;
      expect(await addQueries([{ text: "   " }])).toMatchObject({
        status: 400,
        json: { error: "Invalid request body", fields: { queries: [expect.stringContaining("text must not be empty")] } },
      });
      expect(queryCount()).toBe(before);
      expect(await addQueries(two.slice(0, 1))).toMatchObject({ status: 201, json: { added: 1, duplicates: 0, responsesQueued: one.newResponses } });
      expect(queryCount()).toBe(before + 1);
    } finally {
      delete process.env.CONFIRM_RESPONSES_ABOVE;
      delete process.env.RESPONSES_PER_STUDY_MAX;
    }
  });

  it("names what is wrong with a bad body and writes nothing", async () => {
    const cookie = await signedInCookie("Careless");
    const before = voteCount();
    const votesPath = `/api/studies/${studyId}/votes`;
    const badChoice = await call("POST", votesPath, {
      cookie,
      body: JSON.stringify({ assignmentId: 1, choice: "maybe" }),
      contentType: "application/json",
    });
    expect(badChoice.status).toBe(400);
    expect(JSON.stringify(badChoice.json.fields)).toContain("choice must be one of");
    expect(await call("POST", votesPath, { cookie, body: "{not json", contentType: "application/json" })).toMatchObject({
      status: 400,
      json: { error: "The request body is not valid JSON" },
    });
    expect(
      await call("POST", votesPath, { cookie, body: "assignmentId=1&choice=left", contentType: "application/x-www-form-urlencoded" }),
    ).toMatchObject({ status: 415 });
    expect(
      await call("POST", votesPath, { cookie, body: JSON.stringify({ assignmentId: 987654, choice: "left" }), contentType: "application/json" }),
    ).toMatchObject({
      status: 404,
      json: { error: "Assignment not found in this study" },
    });
    const huge = await call("POST", votesPath, {
      cookie,
      body: JSON.stringify({ assignmentId: 1, choice: "left", comment: "x".repeat(70_000) }),
      contentType: "application/json",
    });
    expect(huge.status).toBe(413);
    expect(
      await call("POST", "/api/session", { body: JSON.stringify({ inviteToken, displayName: " \u202E " }), contentType: "application/json" }),
    ).toMatchObject({
      status: 400,
      json: { fields: { displayName: [expect.stringContaining("text-direction")] } },
    });
    expect(
      await call("POST", "/api/session", { body: JSON.stringify({ inviteToken, displayName: "  " }), contentType: "application/json" }),
    ).toMatchObject({
      status: 400,
      json: { fields: { displayName: ["Enter a display name"] } },
    });
    expect(voteCount()).toBe(before);
  });

  it("parses exactly: no arrays, booleans or hex strings as numbers, null stays null, loose study ids name no study", async () => {
    {
      const cookie = await signedInCookie("Exact");
      const pair = (await call("POST", `/api/studies/${studyId}/assignments`, { cookie })).json as { assignmentId: number };
      const votesPath = `/api/studies/${studyId}/votes`;
      const before = voteCount();
      for (const assignmentId of [
        [[String(pair.assignmentId)]],
        [pair.assignmentId],
        String(pair.assignmentId),
        true,
        `0x${pair.assignmentId.toString(16)}`,
        null,
      ]) {
        const answer = await call("POST", votesPath, {
          cookie,
          body: JSON.stringify({ assignmentId, choice: "left" }),
          contentType: "application/json",
        });
        expect(answer.status, JSON.stringify(assignmentId)).toBe(400);
        expect(answer.json.fields).toHaveProperty("assignmentId");
      }
      for (const latencyMs of [true, "10", "0x10", [10], -1, 1.5, 1e15]) {
        const answer = await call("POST", votesPath, {
          cookie,
          body: JSON.stringify({ assignmentId: pair.assignmentId, choice: "left", latencyMs }),
          contentType: "application/json",
        });
        expect(answer.status, JSON.stringify(latencyMs)).toBe(400);
        expect(answer.json.fields).toHaveProperty("latencyMs");
      }
      for (const body of ["[]", "null", "12", '"vote"']) {
        const answer = await call("POST", votesPath, { cookie, body, contentType: "application/json" });
        expect(answer.status, body).toBe(400);
      }
      expect(voteCount()).toBe(before);
      for (const loose of ["0x1", "1e0", "+1", "01", "%201"]) {
        expect((await call("POST", `/api/studies/${loose}/assignments`, { cookie })).status, loose).toBe(404);
      }

      const accepted = await call("POST", votesPath, {
        cookie,
        body: JSON.stringify({ assignmentId: pair.assignmentId, choice: "left", latencyMs: null, comment: null }),
        contentType: "application/json",
      });
      expect(accepted.status).toBe(201);
      const stored = db().select().from(votes).where(eq(votes.assignmentId, pair.assignmentId)).get()!;
      expect(stored.latencyMs).toBeNull();
      expect(stored.comment).toBeNull();
    }
  });

  it("refuses a vote on another annotator's assignment", async () => {
    const owner = new ApiAnnotator(baseUrl, studyId);
    try {
      await owner.join(inviteToken, "Owner");
      const pair = await owner.nextPair();
      const intruder = await signedInCookie("Intruder");
      const body = JSON.stringify({ assignmentId: pair.assignmentId, choice: "left" });
      expect(await call("POST", `/api/studies/${studyId}/votes`, { cookie: intruder, body, contentType: "application/json" })).toMatchObject({
        status: 403,
      });
      expect(db().select().from(votes).where(eq(votes.assignmentId, pair.assignmentId)).get()).toBeUndefined();
    } finally {
      owner.close();
    }
  });

  it("answers 405 with Allow for a wrong method and 404 for an unknown path, in JSON", async () => {
    const wrongMethod = await call("GET", `/api/studies/${studyId}/votes`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("POST");
    expect(await call("GET", "/api/nothing-here")).toMatchObject({ status: 404, json: { error: "No API endpoint at /api/nothing-here" } });
  });

  it("needs the media type application/json itself: a JSON-looking text/plain body is refused and writes nothing", async () => {
    const users = () => db().select({ n: count() }).from(annotatorsTable).get()!.n;
    const before = users();
    const body = JSON.stringify({ inviteToken, displayName: "Smuggled" });
    for (const contentType of [
      "text/plain; a=application/json",
      "text/plain",
      "application/jsonp",
      "application/json, text/plain",
      "application/x-json",
    ]) {
      expect(await call("POST", "/api/session", { body, contentType }), contentType).toMatchObject({ status: 415 });
    }
    expect(users()).toBe(before);
    expect(await call("POST", "/api/session", { body, contentType: "Application/JSON; charset=utf-8" })).toMatchObject({ status: 201 });
  });

  it("refuses cross-site and same-site-other-port votes and sign-ins with 403, writing nothing; non-browser clients pass", async () => {
    const annotator = new ApiAnnotator(baseUrl, studyId);
    try {
      await annotator.join(inviteToken, "Victim");
      const pair = await annotator.nextPair();
      const cookie = annotator.cookieHeader();
      const body = JSON.stringify({ assignmentId: pair.assignmentId, choice: "left" });
      const before = voteCount();
      const host = new URL(baseUrl).host;
      const crossSiteHeaders: Record<string, string>[] = [
        { "Sec-Fetch-Site": "cross-site", Origin: "https://evil.example" },
        { "Sec-Fetch-Site": "same-site", Origin: `http://${host.replace(/:\d+$/, ":1")}` },
        { Origin: "https://evil.example" },
        { Origin: "null" },
      ];
      for (const headers of crossSiteHeaders) {
        const refused = await call("POST", `/api/studies/${studyId}/votes`, { cookie, body, contentType: "application/json", headers });
        expect(refused, JSON.stringify(headers)).toMatchObject({
          status: 403,
          json: { error: expect.stringMatching(/^Cross-site request refused/) },
        });
        expect(
          await call("POST", "/api/session", { body: JSON.stringify({ displayName: "Planted" }), contentType: "application/json", headers }),
        ).toMatchObject({
          status: 403,
        });
      }
      expect(voteCount()).toBe(before);
      // The page's own origin, and a script with no browser headers at all, may vote.
      const sameOrigin = await call("POST", `/api/studies/${studyId}/votes`, {
        cookie,
        body,
        contentType: "application/json",
        headers: { "Sec-Fetch-Site": "same-origin", Origin: baseUrl },
      });
      expect(sameOrigin.status).toBe(201);
      expect(voteCount()).toBe(before + 1);
    } finally {
      annotator.close();
    }
  });

  it("sends its security headers on every answer", async () => {
    const { headers } = await call("GET", "/api/nothing-here");
    expect(headers.get("content-security-policy")).toBe("default-src 'none';frame-ancestors 'none'");
    expect(headers.get("x-content-type-options")).toBe("nosniff");
    expect(headers.get("x-frame-options")).toBe("DENY");
    expect(headers.get("referrer-policy")).toBe("same-origin");
  });

  it("answers 429 with Retry-After once an annotator votes faster than the limit, and accepts votes again after the window", async () => {
    process.env.RATE_LIMIT_VOTES_SESSION = "3/1h";
    const annotator = new ApiAnnotator(baseUrl, studyId);
    const other = new ApiAnnotator(baseUrl, studyId);
    try {
      await annotator.join(inviteToken, "Hasty");
      await other.join(inviteToken, "Patient");
      let pair = await annotator.nextPair();
      for (let i = 0; i < 3; i++) pair = (await annotator.voteAndNext(pair.assignmentId, "left")).next!;
      const before = voteCount();
      const cookie = annotator.cookieHeader();
      const refused = await call("POST", `/api/studies/${studyId}/votes`, {
        cookie,
        body: JSON.stringify({ assignmentId: pair.assignmentId, choice: "left" }),
        contentType: "application/json",
      });
      expect(refused).toMatchObject({
        status: 429,
        json: { error: expect.stringMatching(/^Too many votes in this session: try again in \d+ seconds\.$/) },
      });
      expect(Number(refused.headers.get("retry-after"))).toBe(1200);
      expect(voteCount()).toBe(before);
      // Another annotator from the same address is not held back.
      const otherPair = await other.nextPair();
      expect((await other.vote(otherPair.assignmentId, "right")).status).toBe("recorded");
      advanceRateLimitClock(20 * 60_000);
      expect((await annotator.vote(pair.assignmentId, "left")).status).toBe("recorded");
    } finally {
      delete process.env.RATE_LIMIT_VOTES_SESSION;
      annotator.close();
      other.close();
    }
  });
});
