import http from "node:http";
import type { AddressInfo } from "node:net";
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assignments, studies, users as usersTable, votes } from "../../db/schema";
import { useTempAppDatabase } from "../../tests/helpers/temp-database";
import { ApiAnnotator } from "../../tests/helpers/api-annotator";
import { db } from "~/db.server";
import { advanceRateLimitClock } from "~/http/rate-limiter.server";
import { handleApiHttp } from "./node-http.server";

// The API over real HTTP on loopback: handleApiHttp is exactly what server.js mounts.
describe("annotator JSON API", () => {
  useTempAppDatabase();
  let server: http.Server;
  let baseUrl = "";
  let studyId = 0;

  beforeAll(async () => {
    server = http.createServer(handleApiHttp);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    studyId = db().select({ id: studies.id }).from(studies).get()!.id;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const voteCount = () => db().select({ n: count() }).from(votes).get()!.n;

  async function call(
    method: string,
    path: string,
    options: { body?: string; contentType?: string; cookie?: string; headers?: Record<string, string> } = {},
  ) {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      body: options.body,
      headers: {
        ...(options.contentType ? { "Content-Type": options.contentType } : {}),
        ...(options.cookie ? { Cookie: options.cookie } : {}),
        ...options.headers,
      },
    });
    return { status: response.status, headers: response.headers, json: (await response.json()) as Record<string, unknown> };
  }

  async function signedInCookie(name: string) {
    const response = await call("POST", "/api/session", { body: JSON.stringify({ displayName: name }), contentType: "application/json" });
    expect(response.status).toBe(201);
    return response.headers.get("set-cookie")!.split(";")[0]!;
  }

  it("signs in, hands out a blind pair, records a vote once and answers the next pair in the same request", async () => {
    const annotator = new ApiAnnotator(baseUrl, studyId);
    try {
      await annotator.signIn("API tester");
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

  it("answers 401 without a session and 404 for an unknown study", async () => {
    expect(await call("POST", `/api/studies/${studyId}/assignments`)).toMatchObject({
      status: 401,
      json: { error: expect.stringContaining("Sign in first") },
    });
    const cookie = await signedInCookie("Lost");
    expect(await call("POST", "/api/studies/999999/assignments", { cookie })).toMatchObject({ status: 404, json: { error: "Study not found" } });
    expect(await call("POST", "/api/studies/abc/votes", { cookie })).toMatchObject({ status: 404 });
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
    expect(await call("POST", "/api/session", { body: JSON.stringify({ displayName: "  " }), contentType: "application/json" })).toMatchObject({
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
      await owner.signIn("Owner");
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
    const users = () => db().select({ n: count() }).from(usersTable).get()!.n;
    const before = users();
    const body = JSON.stringify({ displayName: "Smuggled" });
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
      await annotator.signIn("Victim");
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
      await annotator.signIn("Hasty");
      await other.signIn("Patient");
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
