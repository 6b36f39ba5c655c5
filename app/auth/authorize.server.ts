import type { Actor, TokenActor, UserActor } from "./actor.server";
import { ANNOTATOR_PERMISSIONS, rolePermissions, tokenPermissions, type StudyPermission } from "./permissions";

/**
 * The one place that decides what an actor may do (DESIGN §9). Loaders, actions, the JSON API and
 * services all ask here; the Remix and API adapters (remix-auth.server.ts, app/api) only turn a
 * refusal into their kind of response.
 *
 * Refusals, and why each status:
 * - 401: nobody is signed in (pages redirect to /login instead), or a credential is wrong;
 * - 404 "Study not found": the actor cannot know the study exists — not a member, not joined, a
 *   token of another study, or no such study. The same answer for all, so ids cannot be probed;
 * - 403: the actor knows the study (a member, a joined or removed annotator, the study's own token)
 *   but this is beyond their role, scope or kind.
 */
export class AccessDenied extends Error {
  constructor(
    readonly status: 401 | 403 | 404,
    message: string,
    /** "sign-in": nobody is signed in, so pages answer with a redirect to /login. */
    readonly reason: "sign-in" | "credentials" | "forbidden" | "not-found",
  ) {
    super(message);
  }
}

export const STUDY_NOT_FOUND = "Study not found";

const signInFirst = () => new AccessDenied(401, "Sign in first", "sign-in");
const notFound = () => new AccessDenied(404, STUDY_NOT_FOUND, "not-found");
const forbidden = (message: string) => new AccessDenied(403, message, "forbidden");

/** Everything the actor may do in the study; throws AccessDenied (401 or 404) when they may do nothing there. */
export function studyPermissions(actor: Actor, studyId: number): ReadonlySet<StudyPermission> {
  switch (actor.kind) {
    case "anonymous":
      throw signInFirst();
    case "user": {
      const role = actor.roles.get(studyId);
      if (!role) throw notFound();
      return rolePermissions(role);
    }
    case "annotator": {
      const membership = actor.studies.get(studyId);
      if (!membership) throw notFound();
      if (membership.removed) throw forbidden("The study's owner removed you from this study");
      return new Set(ANNOTATOR_PERMISSIONS);
    }
    case "token":
      if (actor.token.studyId !== studyId || actor.creatorRole === null) throw notFound();
      return tokenPermissions(actor.token.scope, actor.creatorRole);
  }
}

/** What the actor may do in a study, proven by authorizeStudy: services take this, never a bare id. */
export interface StudyAccess {
  readonly actor: Actor;
  readonly studyId: number;
  readonly permissions: ReadonlySet<StudyPermission>;
}

/** Grants `permission` in the study or throws AccessDenied (401 / 403 / 404, as described above). */
export function authorizeStudy(actor: Actor, studyId: number, permission: StudyPermission): StudyAccess {
  const permissions = studyPermissions(actor, studyId);
  if (!permissions.has(permission)) throw forbidden(refusal(actor, permission));
  return { actor, studyId, permissions };
}

/** A service's own check that the access it was handed covers what it is about to do. */
export function assertPermission(access: StudyAccess, permission: StudyPermission): void {
  if (!access.permissions.has(permission)) throw forbidden(refusal(access.actor, permission));
}

/** The acting identity an owner-side change is recorded under (annotators make no owner-side changes). */
export function ownerSideActor(access: StudyAccess): UserActor | TokenActor {
  const { actor } = access;
  if (actor.kind === "user" || actor.kind === "token") return actor;
  throw forbidden("Only study members and their API tokens can change a study");
}

/** Pages that belong to an account rather than a study (the studies list, new study, account): users only. */
export function authorizeUser(actor: Actor): UserActor {
  switch (actor.kind) {
    case "user":
      return actor;
    case "anonymous":
      throw signInFirst();
    case "annotator":
      throw forbidden("This page is for study owners. You are signed in as an annotator: your studies are listed on the home page.");
    case "token":
      throw forbidden("An API token only reaches its own study");
  }
}

function refusal(actor: Actor, permission: StudyPermission): string {
  const what = PERMISSION_NAMES[permission];
  switch (actor.kind) {
    case "annotator":
      return "Annotators can only annotate the studies they joined";
    case "token":
      return `This token's scope (${actor.token.scope}${actor.creatorRole ? `, for a ${actor.creatorRole}` : ""}) does not allow ${what}`;
    case "user":
      return `Your role in this study does not allow ${what}`;
    case "anonymous":
      return "Sign in first";
  }
}

const PERMISSION_NAMES: Record<StudyPermission, string> = {
  "study:read": "reading the study",
  "study:annotate": "annotating",
  "study:edit": "changing the study's setup",
  "study:export": "exporting votes",
  "study:manage": "managing members, links and tokens",
};
