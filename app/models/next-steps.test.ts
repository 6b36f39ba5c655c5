import { describe, expect, it } from "vitest";
import { nextSteps, type StudyFacts } from "./next-steps";

const running: StudyFacts = {
  status: "running",
  canEdit: true,
  canManage: true,
  canExport: true,
  prompts: 5,
  queries: 10,
  responsesReady: 50,
  responsesPending: 0,
  responsesFailed: 0,
  usableInviteLinks: 1,
  votes: 200,
  annotators: 4,
  converged: false,
  votesStillNeeded: 120,
  unmeasuredPrompts: 0,
  minComparisons: 10,
};
const ids = (facts: Partial<StudyFacts>) => nextSteps({ ...running, ...facts }).map((step) => step.id);

describe("nextSteps", () => {
  it("starts a draft, and asks for an invite link when none can be used", () => {
    expect(ids({ status: "draft", votes: 0, annotators: 0, usableInviteLinks: 0 })).toEqual(["start", "invite", "grow"]);
  });

  it("puts what blocks annotators first: failed responses, missing prompts or queries", () => {
    expect(ids({ responsesFailed: 3 })[0]).toBe("retry-failed");
    expect(ids({ prompts: 1, queries: 0 }).slice(0, 2)).toEqual(["add-prompts", "add-queries"]);
    expect(nextSteps({ ...running, responsesFailed: 3 })[0]!.text).toMatch(/^3 responses failed/);
  });

  it("while running: share the link when few annotators vote, keep collecting until converged, then close and export", () => {
    expect(ids({ votes: 0, annotators: 0 })).toEqual(["share", "grow"]);
    const collecting = nextSteps({ ...running, unmeasuredPrompts: 2 });
    expect(collecting.map((step) => step.id)).toEqual(["collect", "grow"]);
    expect(collecting[0]!.text).toBe(
      "Keep collecting votes: the engine expects ≈ 120 more votes before it can stop; 2 prompts have fewer than 10 comparisons and cannot be ranked yet.",
    );
    expect(ids({ converged: true, votesStillNeeded: null })).toEqual(["close", "export", "grow"]);
  });

  it("resumes a paused study; exports a closed one, and offers to reopen it when it closed before converging", () => {
    expect(ids({ status: "paused" })[0]).toBe("resume");
    expect(ids({ status: "closed", converged: true })).toEqual(["export"]);
    expect(ids({ status: "closed" })).toEqual(["export", "reopen"]);
    expect(ids({ status: "archived" })).toEqual(["export"]);
  });

  it("offers only what the viewer may do", () => {
    const viewer = { canEdit: false, canManage: false, canExport: false };
    expect(ids({ ...viewer, status: "draft", responsesFailed: 2, usableInviteLinks: 0 })).toEqual([]);
    expect(nextSteps({ ...running, ...viewer, unmeasuredPrompts: 1 })).toMatchObject([{ id: "collect", target: null }]);
    expect(ids({ ...viewer, status: "closed" })).toEqual([]);
  });
});
