import { z } from "zod";
import { db } from "~/db.server";
import { assignNextPair } from "~/engine/assign.server";
import { getStudyEngine } from "~/engine/engine.server";
import { env } from "~/env.server";
import { annotationAvailability } from "~/models/study-lifecycle.server";
import { mediaTypeOf } from "~/http/media-type.server";
import { advanceRateLimitClock } from "~/http/rate-limiter.server";
import { getStudy } from "~/models/study.server";
import { AVAILABILITY_MESSAGES } from "~/utils/annotate";
import { createAnnotator } from "~/models/user.server";
import { getAssignmentView, recordVote, VoteJsonSchema } from "~/models/vote.server";
import { annotatorFromCookie, commitSession, getSessionFromCookie } from "~/session.server";
import { JoinFormSchema, StudyIdParamSchema } from "~/utils/forms";

/**
 * The annotator JSON API, served by server.js before Express and Remix (ADR 0007: the Remix request
 * pipeline capped a do-nothing request at ~700/s here, below the 500 votes/s target). Same session
 * cookie and the same model functions as the pages; only the HTTP plumbing differs.
 *
 *   POST /api/session {"displayName"}               → 201 {annotatorId, displayName} + Set-Cookie
 *   POST /api/studies/:id/assignments               → 200 the next blind pair {assignmentId, query, left, right};
 *        409 {error, studyStatus} when the study is not running (draft, paused, closed, archived) or has no pair
 *   POST /api/studies/:id/votes {"assignmentId", "choice", "comment"?, "latencyMs"?, "next"?}
 *        → 201 {status: "recorded"};
 *          200 {status: "duplicate", recordedChoice}: the pair was already answered with this same choice (counted once);
 *          409 {status: "conflict", recordedChoice, error}: already answered with another choice (a stale tab), this one
 *              was ignored;
 *          409 {status: "withdrawn", error}: that vote was undone and the pair handed out again, this one was ignored;
 *          with "next": true the answer also carries the annotator's next pair (or null), saving a request.
 */
export interface ApiRequest {
  method: string;
  pathname: string;
  cookie: string | null;
  contentType: string | null;
  body: string;
}

export interface ApiResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** A response that ends the request early (bad input, no session, unknown study). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const ApiVoteSchema = VoteJsonSchema.extend({
  next: z.boolean({ error: "next must be true or false" }).default(false),
});

type Handler = (request: ApiRequest, params: string[]) => Promise<ApiResponse>;

const ROUTES: { method: string; pattern: RegExp; handle: Handler }[] = [
  { method: "POST", pattern: /^\/api\/session$/, handle: signIn },
  { method: "POST", pattern: /^\/api\/studies\/([^/]+)\/assignments$/, handle: nextPair },
  { method: "POST", pattern: /^\/api\/studies\/([^/]+)\/votes$/, handle: vote },
];

// Only with PROMPTDUEL_TEST_HOOKS=1 (browser tests): answers once the study's engine has taken in every
// committed vote and proposed its next pairs, so a test waits for that state rather than for a fixed time.
// POST /api/test/rate-limit-clock {"advanceMs"} moves the rate limiter's clock so a test sees a limit recover without waiting.
const TEST_ROUTES: typeof ROUTES = [
  { method: "POST", pattern: /^\/api\/test\/studies\/([^/]+)\/engine-idle$/, handle: engineIdle },
  { method: "POST", pattern: /^\/api\/test\/rate-limit-clock$/, handle: advanceClock },
];

function routes(): typeof ROUTES {
  return env().PROMPTDUEL_TEST_HOOKS === "1" ? [...ROUTES, ...TEST_ROUTES] : ROUTES;
}

/** Routes one request; every failure becomes a JSON body {error, ...details} with its status. */
export async function handleApiRequest(request: ApiRequest): Promise<ApiResponse> {
  try {
    const matching = routes().filter((route) => route.pattern.test(request.pathname));
    if (matching.length === 0) throw new ApiError(404, `No API endpoint at ${request.pathname}`);
    const route = matching.find((candidate) => candidate.method === request.method);
    if (!route) {
      const allow = matching.map((candidate) => candidate.method).join(", ");
      throw new ApiError(405, `Method ${request.method} not allowed here; use ${allow}`, {}, { Allow: allow });
    }
    return await route.handle(request, request.pathname.match(route.pattern)!.slice(1));
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return { status: error.status, body: { error: error.message, ...error.details }, headers: error.headers };
  }
}

async function signIn(request: ApiRequest): Promise<ApiResponse> {
  const { displayName } = parseJsonBody(request, JoinFormSchema.pick({ displayName: true }));
  const user = createAnnotator(displayName);
  const session = await getSessionFromCookie(request.cookie);
  session.set("userId", user.id);
  return { status: 201, body: { annotatorId: user.id, displayName: user.displayName }, headers: { "Set-Cookie": await commitSession(session) } };
}

async function nextPair(request: ApiRequest, [studyParam]: string[]): Promise<ApiResponse> {
  const annotator = await requireAnnotator(request);
  const studyId = requireStudyId(studyParam);
  const pair = assignPair(studyId, annotator.id);
  if (!pair) {
    const status = getStudy(studyId)!.status;
    const availability = annotationAvailability(status);
    const message =
      availability === "open" ? "No pair with two ready responses is available in this study yet" : AVAILABILITY_MESSAGES[availability].title;
    throw new ApiError(409, message, { studyStatus: status });
  }
  return { status: 200, body: pair };
}

async function vote(request: ApiRequest, [studyParam]: string[]): Promise<ApiResponse> {
  const annotator = await requireAnnotator(request);
  const studyId = requireStudyId(studyParam);
  const { next, ...input } = parseJsonBody(request, ApiVoteSchema);
  // One commit for the vote and the next assignment: commits (WAL page writes) dominated the
  // request's SQLite time under load (bench:server profile).
  const { result, nextPair } = db().transaction(() => {
    const result = recordVote(studyId, annotator.id, input);
    const answered = result.status !== "not_found" && result.status !== "forbidden";
    return { result, nextPair: next && answered ? assignPair(studyId, annotator.id) : undefined };
  });
  if (result.status === "not_found") throw new ApiError(404, "Assignment not found in this study");
  if (result.status === "forbidden") throw new ApiError(403, "This assignment belongs to another annotator");
  if (result.status === "recorded") getStudyEngine(studyId).requestUpdate();
  const withNext = (body: Record<string, unknown>) => (next ? { ...body, next: nextPair } : body);
  switch (result.status) {
    case "recorded":
      return { status: 201, body: withNext({ status: "recorded" }) };
    case "duplicate":
      return { status: 200, body: withNext({ status: "duplicate", recordedChoice: result.recordedChoice }) };
    case "conflict":
      return {
        status: 409,
        body: withNext({
          status: "conflict",
          recordedChoice: result.recordedChoice,
          error: `This pair was already answered with "${result.recordedChoice}"; this "${input.choice}" was not counted`,
        }),
      };
    case "withdrawn":
      return {
        status: 409,
        body: withNext({ status: "withdrawn", error: "This vote was undone and the pair handed out again; this one was not counted" }),
      };
  }
}

async function engineIdle(_request: ApiRequest, [studyParam]: string[]): Promise<ApiResponse> {
  const engine = getStudyEngine(requireStudyId(studyParam));
  await engine.whenIdle();
  return { status: 200, body: { round: engine.round(), policy: engine.policy } };
}

async function advanceClock(request: ApiRequest): Promise<ApiResponse> {
  const { advanceMs } = parseJsonBody(request, z.object({ advanceMs: z.number().int().min(0) }));
  advanceRateLimitClock(advanceMs);
  return { status: 200, body: { advancedMs: advanceMs } };
}

/** The blind view of the annotator's next assignment: no prompt ids or texts. */
function assignPair(studyId: number, annotatorId: number) {
  const assignment = assignNextPair(studyId, annotatorId);
  const view = assignment ? getAssignmentView(assignment.id) : null;
  return view ? { assignmentId: view.assignmentId, query: view.query, left: view.left, right: view.right } : null;
}

async function requireAnnotator(request: ApiRequest) {
  const annotator = await annotatorFromCookie(request.cookie);
  if (!annotator) throw new ApiError(401, 'Sign in first: POST /api/session with {"displayName"}');
  return annotator;
}

function requireStudyId(param: string | undefined): number {
  const studyId = StudyIdParamSchema.safeParse(param);
  if (!studyId.success || !getStudy(studyId.data)) throw new ApiError(404, "Study not found");
  return studyId.data;
}

/**
 * The JSON body checked against `schema`; an empty body counts as {} so optional-only bodies may be
 * omitted. A body needs the media type application/json itself (parameters such as charset aside):
 * `text/plain; a=application/json` is a form a page on another site may send without a preflight.
 */
function parseJsonBody<T extends z.ZodType>(request: ApiRequest, schema: T): z.infer<T> {
  if (request.body.trim() !== "" && mediaTypeOf(request.contentType) !== "application/json") {
    throw new ApiError(415, "Send a JSON body with Content-Type: application/json");
  }
  let body: unknown = {};
  if (request.body.trim() !== "") {
    try {
      body = JSON.parse(request.body);
    } catch {
      throw new ApiError(400, "The request body is not valid JSON");
    }
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const { formErrors, fieldErrors } = z.flattenError(parsed.error);
    // A body that is not an object at all (an array, a number, null) has no field to blame.
    const message = formErrors.length > 0 ? `Invalid request body: ${formErrors.join("; ")}` : "Invalid request body";
    throw new ApiError(400, message, { fields: fieldErrors });
  }
  return parsed.data;
}
