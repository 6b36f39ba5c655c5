import type { StudyRole, TokenScope } from "../../db/schema";

/**
 * What an actor may do in a study: the one permission table (DESIGN §9). Routes and services ask for a
 * permission, never for a role, so a new role or scope is a change here only.
 *
 *   study:read      dashboard, leaderboard, prompt texts, generation progress
 *   study:annotate  the blind annotate page and the vote API
 *   study:edit      setup: prompts, queries, generation, imports
 *   study:export    the export page and downloads (every vote, every annotator name)
 *   study:manage    members, invite links, annotators, API tokens, audit log, deletion
 */
export const STUDY_PERMISSIONS = ["study:read", "study:annotate", "study:edit", "study:export", "study:manage"] as const;
export type StudyPermission = (typeof STUDY_PERMISSIONS)[number];

export const ROLE_PERMISSIONS: Record<StudyRole, readonly StudyPermission[]> = {
  owner: STUDY_PERMISSIONS,
  // Members annotate as themselves (not blind): owners and editors only, viewers never write.
  editor: ["study:read", "study:annotate", "study:edit", "study:export"],
  viewer: ["study:read", "study:export"],
};

/** The roles, most powerful first; for the browser bundle, which must not import db/schema (drizzle). */
export const ROLE_NAMES = Object.keys(ROLE_PERMISSIONS) as StudyRole[];

/** An annotator who joined the study (and was not removed) may annotate it, and nothing else. */
export const ANNOTATOR_PERMISSIONS: readonly StudyPermission[] = ["study:annotate"];

/**
 * What an API token's scope allows. A token acts for the owner who created it: its permissions are
 * the scope's intersected with that person's current role (a demoted owner's write token can no
 * longer write). No scope reaches study:manage (a token cannot mint tokens or invite) or annotate.
 */
export const TOKEN_SCOPE_PERMISSIONS: Record<TokenScope, readonly StudyPermission[]> = {
  read: ["study:read", "study:export"],
  write: ["study:read", "study:export", "study:edit"],
};

export function rolePermissions(role: StudyRole): ReadonlySet<StudyPermission> {
  return new Set(ROLE_PERMISSIONS[role]);
}

export function tokenPermissions(scope: TokenScope, creatorRole: StudyRole): ReadonlySet<StudyPermission> {
  const allowed = new Set(ROLE_PERMISSIONS[creatorRole]);
  return new Set(TOKEN_SCOPE_PERMISSIONS[scope].filter((permission) => allowed.has(permission)));
}

/** Role names as owners read them in the UI. */
export const ROLE_DESCRIPTIONS: Record<StudyRole, string> = {
  owner: "everything, including members, invite links, tokens and deleting the study",
  editor: "setup (prompts, queries, generation, imports), annotating, dashboard and exports",
  viewer: "dashboard and exports",
};
