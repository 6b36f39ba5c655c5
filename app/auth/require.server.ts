import { redirect } from "@remix-run/node";
import { getStudy } from "~/models/study.server";
import { StudyIdParamSchema } from "~/utils/forms";
import { actorOfRequest, InvalidCredentials, type Actor, type UserActor } from "./actor.server";
import { AccessDenied, authorizeStudy, authorizeUser, STUDY_NOT_FOUND, type StudyAccess } from "./authorize.server";
import type { StudyPermission } from "./permissions";

// The Remix side of authorisation: every loader and action starts with one of these. They throw a
// Response (caught by the route's GeneralErrorBoundary, or sent as is by a resource route).

interface RefusalOptions {
  /** Pages send a signed-out visitor to /login and back; JSON resource routes answer 401. */
  signedOut?: "redirect" | "status";
}

/** The acting identity; a wrong Authorization header answers 401 at once. */
export async function getActor(request: Request): Promise<Actor> {
  try {
    return await actorOfRequest(request);
  } catch (error) {
    if (error instanceof InvalidCredentials) throw denial(new AccessDenied(401, error.message, "credentials"), request);
    throw error;
  }
}

/** The acting identity for pages that only adapt to it (the layout's header): a wrong token counts as anonymous. */
export async function getActorOrAnonymous(request: Request): Promise<Actor> {
  try {
    return await actorOfRequest(request);
  } catch (error) {
    if (error instanceof InvalidCredentials) return { kind: "anonymous" };
    throw error;
  }
}

/** A signed-in account, for pages that belong to no study (studies list, new study, account). */
export async function requireUser(request: Request, options: RefusalOptions = {}): Promise<UserActor> {
  const actor = await getActor(request);
  try {
    return authorizeUser(actor);
  } catch (error) {
    if (error instanceof AccessDenied) throw denial(error, request, options);
    throw error;
  }
}

/**
 * The study named by the route's `$studyId`, if the actor holds `permission` there; otherwise throws
 * the refusal: redirect to sign in (or 401), 403, or 404 "Study not found" (see authorize.server.ts).
 */
export async function requireStudyPermission(
  request: Request,
  studyIdParam: string | undefined,
  permission: StudyPermission,
  options: RefusalOptions = {},
) {
  const actor = await getActor(request);
  try {
    // A malformed id is a study nobody can know: 404, except that a signed-out visitor is sent to sign in first.
    const studyId = StudyIdParamSchema.safeParse(studyIdParam);
    const access = authorizeStudy(actor, studyId.success ? studyId.data : 0, permission);
    const study = getStudy(access.studyId);
    if (!study) throw new AccessDenied(404, STUDY_NOT_FOUND, "not-found");
    return { ...access, study } satisfies StudyAccess & { study: unknown };
  } catch (error) {
    if (error instanceof AccessDenied) throw denial(error, request, options);
    throw error;
  }
}

/** Where a signed-out visitor goes to sign in, coming back to `request`'s page afterwards. */
export function signInRedirectPath(request: Request): string {
  const url = new URL(request.url);
  // Single Fetch data requests (/studies/1.data?_routes=…) come back to the page, not to the data.
  const pathname = url.pathname.endsWith(".data") ? url.pathname.slice(0, -".data".length) || "/" : url.pathname;
  url.searchParams.delete("_routes");
  const search = url.searchParams.size > 0 ? `?${url.searchParams}` : "";
  return `/login?${new URLSearchParams({ redirectTo: `${pathname}${search}` })}`;
}

function denial(error: AccessDenied, request: Request, options: RefusalOptions = {}): Response {
  if (error.reason === "sign-in" && options.signedOut !== "status") return redirect(signInRedirectPath(request));
  const headers = new Headers({ "Content-Type": "text/plain; charset=utf-8" });
  if (error.reason === "credentials") headers.set("WWW-Authenticate", 'Bearer error="invalid_token"');
  return new Response(error.message, { status: error.status, headers });
}
