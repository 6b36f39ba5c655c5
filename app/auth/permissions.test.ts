import { describe, expect, it } from "vitest";
import type { Actor } from "./actor.server";
import { AccessDenied, authorizeStudy, authorizeUser, studyPermissions } from "./authorize.server";
import { ROLE_PERMISSIONS, STUDY_PERMISSIONS, tokenPermissions, type StudyPermission } from "./permissions";

const STUDY = 7;
const OTHER = 8;

const user = (role: "owner" | "editor" | "viewer"): Actor => ({
  kind: "user",
  sessionId: 1,
  user: { id: 1, email: "a@example.com", displayName: "A" },
  roles: new Map([[STUDY, role]]),
});
const annotator = (removed = false): Actor => ({
  kind: "annotator",
  sessionId: 2,
  annotator: { id: 3, displayName: "Ann" },
  studies: new Map([[STUDY, { removed }]]),
});
const token = (scope: "read" | "write", creatorRole: "owner" | "editor" | "viewer" | null = "owner", studyId = STUDY): Actor => ({
  kind: "token",
  token: { id: 4, name: "t", scope, studyId, userId: 1, creatorEmail: "a@example.com" },
  creatorRole,
});

/** The status authorizeStudy answers (200 when granted). */
function status(actor: Actor, permission: StudyPermission, studyId = STUDY): number {
  try {
    authorizeStudy(actor, studyId, permission);
    return 200;
  } catch (error) {
    if (error instanceof AccessDenied) return error.status;
    throw error;
  }
}

describe("the permission table", () => {
  it("gives owners everything, editors all but manage, viewers read and export", () => {
    expect(ROLE_PERMISSIONS.owner).toEqual(STUDY_PERMISSIONS);
    expect([...ROLE_PERMISSIONS.editor].sort()).toEqual(["study:annotate", "study:edit", "study:export", "study:read"]);
    expect([...ROLE_PERMISSIONS.viewer].sort()).toEqual(["study:export", "study:read"]);
  });

  it("lets a token do what its scope allows and its creator still may, never manage or annotate", () => {
    expect([...tokenPermissions("read", "owner")].sort()).toEqual(["study:export", "study:read"]);
    expect([...tokenPermissions("write", "owner")].sort()).toEqual(["study:edit", "study:export", "study:read"]);
    // A write token of an owner since demoted to viewer no longer writes.
    expect([...tokenPermissions("write", "viewer")].sort()).toEqual(["study:export", "study:read"]);
    for (const scope of ["read", "write"] as const) {
      for (const role of ["owner", "editor", "viewer"] as const) {
        expect(tokenPermissions(scope, role).has("study:manage")).toBe(false);
        expect(tokenPermissions(scope, role).has("study:annotate")).toBe(false);
      }
    }
  });
});

describe("authorizeStudy", () => {
  const cases: [string, Actor, Record<StudyPermission, number>][] = [
    ["anonymous", { kind: "anonymous" }, { "study:read": 401, "study:annotate": 401, "study:edit": 401, "study:export": 401, "study:manage": 401 }],
    ["owner", user("owner"), { "study:read": 200, "study:annotate": 200, "study:edit": 200, "study:export": 200, "study:manage": 200 }],
    ["editor", user("editor"), { "study:read": 200, "study:annotate": 200, "study:edit": 200, "study:export": 200, "study:manage": 403 }],
    ["viewer", user("viewer"), { "study:read": 200, "study:annotate": 403, "study:edit": 403, "study:export": 200, "study:manage": 403 }],
    ["annotator", annotator(), { "study:read": 403, "study:annotate": 200, "study:edit": 403, "study:export": 403, "study:manage": 403 }],
    ["removed annotator", annotator(true), { "study:read": 403, "study:annotate": 403, "study:edit": 403, "study:export": 403, "study:manage": 403 }],
    ["read token", token("read"), { "study:read": 200, "study:annotate": 403, "study:edit": 403, "study:export": 200, "study:manage": 403 }],
    ["write token", token("write"), { "study:read": 200, "study:annotate": 403, "study:edit": 200, "study:export": 200, "study:manage": 403 }],
    [
      "token of a creator who left",
      token("write", null),
      { "study:read": 404, "study:annotate": 404, "study:edit": 404, "study:export": 404, "study:manage": 404 },
    ],
  ];
  for (const [name, actor, expected] of cases) {
    it(`answers ${name} by the table`, () => {
      const answered = Object.fromEntries(STUDY_PERMISSIONS.map((permission) => [permission, status(actor, permission)]));
      expect(answered).toEqual(expected);
    });
  }

  it("answers 404 in a study the actor cannot know of, whatever the permission, so ids cannot be probed", () => {
    for (const actor of [user("owner"), annotator(), token("write", "owner", OTHER)]) {
      // The token belongs to OTHER, so it is asked about STUDY; the others are asked about OTHER.
      const studyId = actor.kind === "token" ? STUDY : OTHER;
      for (const permission of STUDY_PERMISSIONS) expect(status(actor, permission, studyId)).toBe(404);
    }
  });

  it("hands services the actor's full permission set", () => {
    expect([...authorizeStudy(user("editor"), STUDY, "study:read").permissions].sort()).toEqual([...studyPermissions(user("editor"), STUDY)].sort());
  });
});

describe("authorizeUser", () => {
  it("lets accounts through and refuses everyone else with the right status", () => {
    expect(authorizeUser(user("viewer")).kind).toBe("user");
    const refusal = (actor: Actor) => {
      try {
        authorizeUser(actor);
        return 200;
      } catch (error) {
        return (error as AccessDenied).status;
      }
    };
    expect(refusal({ kind: "anonymous" })).toBe(401);
    expect(refusal(annotator())).toBe(403);
    expect(refusal(token("write"))).toBe(403);
  });
});
