import { z } from "zod";
import { retryWhenBusy } from "../../db/busy";
import { actorFromCredentials, InvalidCredentials, type Actor } from "~/auth/actor.server";
import { AccessDenied, authorizeStudy, type StudyAccess } from "~/auth/authorize.server";
import { clearedSessionCookieHeader, sessionCookieHeader } from "~/auth/session.server";
import { assignNextPair } from "~/engine/assign.server";
import { getStudyEngine } from "~/engine/engine.server";
import { env } from "~/env.server";
import { mediaTypeOf } from "~/http/media-type.server";
import { advanceRateLimitClock } from "~/http/rate-limiter.server";
import { getDashboard } from "~/models/dashboard.server";
import { annotationAvailability } from "~/models/study-lifecycle.server";
import { getStudy, getStudyCounts } from "~/models/study.server";
import { getAssignmentView, VoteJsonSchema } from "~/models/vote.server";
import { signOut } from "~/services/accounts.server";
import { ensureAnnotator, voteAs } from "~/services/annotating.server";
import { joinWithInvite } from "~/services/invites.server";
import { addToStudyAs } from "~/services/studies.server";
import { AVAILABILITY_MESSAGES } from "~/utils/annotate";
import { JoinFormSchema, StudyIdParamSchema } from "~/utils/forms";

/**
 * The JSON API, served by server.js before Express and Remix (ADR 0007: the Remix request pipeline
 * capped a do-nothing request at ~700/s here, below the 500 votes/s target). Same session cookie,
 * the same authorisation (app/auth) and the same model and service functions as the pages; only the
 * HTTP plumbing differs.
 *
 * Annotators (session cookie):
 *   POST   /api/session {"inviteToken", "displayName"}  → 201 {annotatorId, displayName, studyId} + Set-Cookie: joins the
 *          invite's study (a signed-in annotator joins it too, keeping their name; displayName may then be left out)
 *   DELETE /api/session                                → 200 {status: "signed out"} (the session row is gone)
 *   POST   /api/studies/:id/assignments                → 200 the next blind pair {assignmentId, query, left, right};
 *          409 {error, studyStatus} when the study is not running (draft, paused, closed, archived) or has no pair
 *   POST   /api/studies/:id/votes {"assignmentId", "choice", "comment"?, "latencyMs"?, "next"?}
 *          → 201 {status: "recorded"};
 *            200 {status: "duplicate", recordedChoice}: the pair was already answered with this same choice (counted once);
 *            409 {status: "conflict", recordedChoice, error}: already answered with another choice (a stale tab), this one
 *                was ignored;
 *            409 {status: "withdrawn", error}: that vote was undone and the pair handed out again, this one was ignored;
 *            with "next": true the answer also carries the annotator's next pair (or null), saving a request.
 * Owners' API tokens (Authorization: Bearer pd_…; read or write, one study):
 *   GET    /api/studies/:id                            → 200 the study, its counts and leaderboard (read)
 *   POST   /api/studies/:id/prompts {"prompts": [{"text", "label"?}]}   → 201 counts (write); 409 with the plan when
 *          the addition is one the setup page would ask the owner to confirm (size or cost), or past the study's cap
 *   POST   /api/studies/:id/queries {"queries": [{"text", "notes"?}]}   → the same (write)
 *   Exports: GET /studies/:id/export/download?format=… with the same header (npm run export -- --url).
 */
export interface ApiRequest {
  method: string;
  pathname: string;
  cookie: string | null;
  /** The Authorization header (an API token), if any. */
  authorization: string | null;
  contentType: string | null;
  body: string;
  /** Whether the client used HTTPS (auth/request-security.server.ts): cookies set in reply are then Secure. */
  secure: boolean;
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

/** Every API endpoint (the access-matrix test enumerates this list). */
export const API_ROUTES: readonly { method: string; pattern: RegExp; handle: Handler }[] = [
  { method: "POST", pattern: /^\/api\/session$/, handle: signIn },
  { method: "DELETE", pattern: /^\/api\/session$/, handle: signOutSession },
  { method: "GET", pattern: /^\/api\/studies\/([^/]+)$/, handle: studySummary },
  { method: "POST", pattern: /^\/api\/studies\/([^/]+)\/assignments$/, handle: nextPair },
  { method: "POST", pattern: /^\/api\/studies\/([^/]+)\/votes$/, handle: vote },
  { method: "POST", pattern: /^\/api\/studies\/([^/]+)\/prompts$/, handle: addPrompts },
  { method: "POST", pattern: /^\/api\/studies\/([^/]+)\/queries$/, handle: addQueries },
];

// Only with PROMPTDUEL_TEST_HOOKS=1 (browser tests): answers once the study's engine has taken in every
// committed vote and proposed its next pairs, so a test waits for that state rather than for a fixed time.
// POST /api/test/studies/:id/engine-stats-current answers once the study's latest snapshot counts every vote the engine has.
// POST /api/test/rate-limit-clock {"advanceMs"} moves the rate limiter's clock so a test sees a limit recover without waiting.
export const TEST_API_ROUTES: typeof API_ROUTES = [
  { method: "POST", pattern: /^\/api\/test\/studies\/([^/]+)\/engine-idle$/, handle: engineIdle },
  { method: "POST", pattern: /^\/api\/test\/studies\/([^/]+)\/engine-stats-current$/, handle: engineStatsCurrent },
  { method: "POST", pattern: /^\/api\/test\/rate-limit-clock$/, handle: advanceClock },
];

function routes(): typeof API_ROUTES {
  return env().PROMPTDUEL_TEST_HOOKS === "1" ? [...API_ROUTES, ...TEST_API_ROUTES] : API_ROUTES;
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
    // A write that met the job thread's lock failed before doing anything: run the request again
    // after a pause, without blocking the thread meanwhile (ADR 0036).
    return await retryWhenBusy(() => route.handle(request, request.pathname.match(route.pattern)!.slice(1)));
  } catch (error) {
    const refusal = apiErrorOf(error);
    return { status: refusal.status, body: { error: refusal.message, ...refusal.details }, headers: refusal.headers };
  }
}

/** An authorisation refusal (app/auth) in the API's terms; anything unexpected is rethrown (a 500). */
function apiErrorOf(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof InvalidCredentials) return new ApiError(401, error.message, {}, { "WWW-Authenticate": 'Bearer error="invalid_token"' });
  if (error instanceof AccessDenied) {
    return error.reason === "sign-in"
      ? new ApiError(401, SIGN_IN_FIRST, {}, { "WWW-Authenticate": "Bearer" })
      : new ApiError(error.status, error.message);
  }
  throw error;
}

const SIGN_IN_FIRST =
  'Sign in first: annotators POST /api/session with {"inviteToken", "displayName"} (the token is the last part of their invite link); owners send Authorization: Bearer <API token>';

const ApiJoinSchema = z.object({
  inviteToken: z.string({ error: "inviteToken is required: the last part of the invite link (…/join/<inviteToken>)" }).max(200),
  displayName: JoinFormSchema.shape.displayName.optional(),
});

async function signIn(request: ApiRequest): Promise<ApiResponse> {
  const { inviteToken, displayName } = parseJsonBody(request, ApiJoinSchema);
  const actor = await actorOf(request);
  if (actor.kind === "user" || actor.kind === "token") throw new ApiError(403, "Invite links are for annotators: send no account cookie or token");
  if (actor.kind === "anonymous" && displayName === undefined)
    throw new ApiError(400, "Invalid request body", { fields: { displayName: ["Enter a display name"] } });
  const joined = joinWithInvite(inviteToken, { actor, displayName: displayName ?? null });
  if (!joined.ok) throw new ApiError(joined.status, joined.message);
  const headers: Record<string, string> = joined.session ? { "Set-Cookie": await sessionCookieHeader(joined.session, request.secure) } : {};
  return { status: 201, body: { annotatorId: joined.annotator.id, displayName: joined.annotator.displayName, studyId: joined.studyId }, headers };
}

async function signOutSession(request: ApiRequest): Promise<ApiResponse> {
  const actor = await actorOf(request);
  if (actor.kind === "user" || actor.kind === "annotator") signOut(actor.sessionId);
  return { status: 200, body: { status: "signed out" }, headers: { "Set-Cookie": await clearedSessionCookieHeader(request.secure) } };
}

async function studySummary(request: ApiRequest, [studyParam]: string[]): Promise<ApiResponse> {
  const access = await authorize(request, studyParam, "study:read");
  const study = getStudy(access.studyId);
  if (!study) throw new ApiError(404, "Study not found");
  // Every prompt, in the dashboard's ranking order (the page shows them 25 at a time).
  const dashboard = getDashboard(study.id, { pageSize: Number.POSITIVE_INFINITY });
  return {
    status: 200,
    body: {
      id: study.id,
      name: study.name,
      task: study.task,
      status: study.status,
      counts: getStudyCounts(study.id),
      engine: dashboard.engine,
      leaderboard: dashboard.leaderboard.rows,
    },
  };
}

async function nextPair(request: ApiRequest, [studyParam]: string[]): Promise<ApiResponse> {
  const access = await authorize(request, studyParam, "study:annotate");
  const annotator = ensureAnnotator(access);
  const pair = assignPair(access.studyId, annotator.id);
  if (!pair) {
    const status = getStudy(access.studyId)!.status;
    const availability = annotationAvailability(status);
    const message =
      availability === "open" ? "No pair with two ready responses is available in this study yet" : AVAILABILITY_MESSAGES[availability].title;
    throw new ApiError(409, message, { studyStatus: status });
  }
  return { status: 200, body: pair };
}

async function vote(request: ApiRequest, [studyParam]: string[]): Promise<ApiResponse> {
  const access = await authorize(request, studyParam, "study:annotate");
  const { next, ...input } = parseJsonBody(request, ApiVoteSchema);
  // One commit for the vote and the next assignment: commits (WAL page writes) dominated the
  // request's SQLite time under load (bench:server profile).
  const { result, next: nextAssignment } = voteAs(access, input, { next });
  if (result.status === "not_found") throw new ApiError(404, "Assignment not found in this study");
  if (result.status === "forbidden") throw new ApiError(403, "This assignment belongs to another annotator");
  const nextView = nextAssignment ? blindView(nextAssignment.id) : null;
  const withNext = (body: Record<string, unknown>) => (next ? { ...body, next: nextView } : body);
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

const ApiPromptsSchema = z.object({
  prompts: z
    .array(
      z.object({
        text: z.string({ error: "text must be a string" }).trim().min(1, "text must not be empty").max(20_000, "text has at most 20,000 characters"),
        label: z.string({ error: "label must be a string" }).trim().max(80, "label has at most 80 characters").nullish(),
      }),
      { error: "prompts must be a list of {text, label?}" },
    )
    .min(1, "prompts must hold at least one prompt")
    .max(500, "at most 500 prompts per request"),
});

const ApiQueriesSchema = z.object({
  queries: z
    .array(
      z.object({
        text: z.string({ error: "text must be a string" }).trim().min(1, "text must not be empty").max(20_000, "text has at most 20,000 characters"),
        notes: z.string({ error: "notes must be a string" }).trim().max(4_000, "notes have at most 4,000 characters").nullish(),
      }),
      { error: "queries must be a list of {text, notes?}" },
    )
    .min(1, "queries must hold at least one query")
    .max(500, "at most 500 queries per request"),
});

async function addPrompts(request: ApiRequest, [studyParam]: string[]): Promise<ApiResponse> {
  const access = await authorize(request, studyParam, "study:edit");
  const { prompts } = parseJsonBody(request, ApiPromptsSchema);
  const added = await addToStudyAs(access, {
    prompts: prompts.map((p) => ({ text: p.text, label: p.label || null, source: "manual" as const })),
    queries: [],
  });
  if (!added.ok) throw new ApiError(409, added.error, added.plan ? { plan: added.plan } : {});
  return { status: 201, body: { added: added.promptsAdded, duplicates: added.promptDuplicates, responsesQueued: added.responsesQueued } };
}

async function addQueries(request: ApiRequest, [studyParam]: string[]): Promise<ApiResponse> {
  const access = await authorize(request, studyParam, "study:edit");
  const { queries } = parseJsonBody(request, ApiQueriesSchema);
  const added = await addToStudyAs(access, { prompts: [], queries: queries.map((q) => ({ text: q.text, notes: q.notes || null })) });
  if (!added.ok) throw new ApiError(409, added.error, added.plan ? { plan: added.plan } : {});
  return { status: 201, body: { added: added.queriesAdded, duplicates: added.queryDuplicates, responsesQueued: added.responsesQueued } };
}

async function engineIdle(_request: ApiRequest, [studyParam]: string[]): Promise<ApiResponse> {
  const studyId = StudyIdParamSchema.safeParse(studyParam);
  if (!studyId.success || !getStudy(studyId.data)) throw new ApiError(404, "Study not found");
  const engine = getStudyEngine(studyId.data);
  await engine.whenIdle();
  return { status: 200, body: { round: engine.round(), policy: engine.policy } };
}

async function engineStatsCurrent(_request: ApiRequest, [studyParam]: string[]): Promise<ApiResponse> {
  const studyId = StudyIdParamSchema.safeParse(studyParam);
  if (!studyId.success || !getStudy(studyId.data)) throw new ApiError(404, "Study not found");
  const engine = getStudyEngine(studyId.data);
  await engine.whenStatsCurrent();
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
  return assignment ? blindView(assignment.id) : null;
}

function blindView(assignmentId: number) {
  const view = getAssignmentView(assignmentId);
  return view ? { assignmentId: view.assignmentId, query: view.query, left: view.left, right: view.right } : null;
}

function actorOf(request: ApiRequest): Promise<Actor> {
  return actorFromCredentials({ cookie: request.cookie, authorization: request.authorization });
}

/** Who acts and what they may do in the path's study (the same decision as the pages'); refusals become ApiErrors. */
async function authorize(
  request: ApiRequest,
  studyParam: string | undefined,
  permission: Parameters<typeof authorizeStudy>[2],
): Promise<StudyAccess> {
  const actor = await actorOf(request);
  if (actor.kind === "anonymous") throw new ApiError(401, SIGN_IN_FIRST, {}, { "WWW-Authenticate": "Bearer" });
  const studyId = StudyIdParamSchema.safeParse(studyParam);
  if (!studyId.success) throw new ApiError(404, "Study not found");
  return authorizeStudy(actor, studyId.data, permission);
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
