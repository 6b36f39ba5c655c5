// The dashboard's "what to do next" panel: from the study's state, the few things an owner should do now,
// most pressing first. Pure (the loader gathers the facts), so each state's advice is unit-tested.
import type { STUDY_STATUSES } from "../../db/schema";

type StudyStatus = (typeof STUDY_STATUSES)[number];

export interface StudyFacts {
  status: StudyStatus;
  /** What the viewer may do: running the study (edit), links and members (manage), downloads (export). */
  canEdit: boolean;
  canManage: boolean;
  canExport: boolean;
  prompts: number;
  queries: number;
  responsesReady: number;
  responsesPending: number;
  responsesFailed: number;
  /** Annotator invite links that can still be used. */
  usableInviteLinks: number;
  /** Votes (skips included) and how many annotators cast them. */
  votes: number;
  annotators: number;
  converged: boolean;
  votesStillNeeded: number | null;
  /** Prompts below the comparisons a rank needs. */
  unmeasuredPrompts: number;
  minComparisons: number;
}

/** Where a step sends the owner: another page of the study, or the status buttons on this one. */
export type StepTarget = "setup" | "annotators" | "export" | "annotate" | "status";

export interface NextStep {
  id: string;
  text: string;
  /** Null for advice with nothing to click (the viewer may not open the page it needs). */
  target: StepTarget | null;
  /** The link's words. */
  action: string;
}

const plural = (count: number, noun: string, nouns = `${noun}s`) => `${count.toLocaleString("en")} ${count === 1 ? noun : nouns}`;

/** At most this many steps: a panel of twelve is read by nobody. */
const MAX_STEPS = 4;

/**
 * The owner's next steps, most pressing first: what blocks annotators (failed or missing responses,
 * a draft, no link), then what the votes say (keep collecting, or close and export), then growing the
 * pool. Only steps the viewer is allowed to take; an empty list when there is nothing to do.
 */
export function nextSteps(facts: StudyFacts): NextStep[] {
  const steps: NextStep[] = [];
  const add = (step: NextStep, allowed: boolean) => {
    if (allowed) steps.push(step);
  };
  const { status } = facts;
  const live = status === "draft" || status === "running" || status === "paused";

  if (live && facts.responsesFailed > 0) {
    add(
      {
        id: "retry-failed",
        text: `${plural(facts.responsesFailed, "response")} failed to generate: those pairs cannot be shown until they are retried.`,
        target: "setup",
        action: "Retry them on Setup & generation",
      },
      facts.canEdit,
    );
  }
  if (live && facts.prompts < 2) {
    add({ id: "add-prompts", text: "A comparison needs at least two prompts.", target: "setup", action: "Add prompts" }, facts.canEdit);
  }
  if (live && facts.queries === 0) {
    add(
      { id: "add-queries", text: "Annotators compare answers to queries; there are none yet.", target: "setup", action: "Add queries" },
      facts.canEdit,
    );
  }
  if (live && facts.responsesPending > 0) {
    add(
      {
        id: "wait-generation",
        text: `${plural(facts.responsesPending, "response")} still generating: pairs that need them are not handed out yet.`,
        target: "setup",
        action: "Follow the generation",
      },
      facts.canEdit,
    );
  }

  switch (status) {
    case "draft":
      add(
        {
          id: "start",
          text: "The study is a draft: annotators who open a link are told it has not started.",
          target: "status",
          action: "Start the study (button above)",
        },
        facts.canEdit,
      );
      break;
    case "paused":
      add(
        { id: "resume", text: "The study is paused: annotators are told to come back later.", target: "status", action: "Resume it (button above)" },
        facts.canEdit,
      );
      break;
    case "closed":
      add(
        {
          id: "export",
          text: facts.converged
            ? "The study is closed and the ranking has converged: the preferences are ready for training."
            : `The study is closed before the ranking converged${facts.votesStillNeeded !== null ? ` (≈ ${plural(facts.votesStillNeeded, "more vote")} were needed)` : ""}: the export holds what was voted.`,
          target: "export",
          action: "Export the votes",
        },
        facts.canExport,
      );
      if (!facts.converged) {
        add(
          { id: "reopen", text: "To collect the votes still needed, reopen it.", target: "status", action: "Reopen (button above)" },
          facts.canEdit,
        );
      }
      break;
    case "archived":
      add(
        { id: "export", text: "The study is archived; its votes can still be exported.", target: "export", action: "Export the votes" },
        facts.canExport,
      );
      break;
    case "running":
      break;
  }

  if (live) {
    if (facts.usableInviteLinks === 0) {
      add(
        {
          id: "invite",
          text: "No invite link can be used now: annotators need one to join.",
          target: "annotators",
          action: "Create an invite link",
        },
        facts.canManage,
      );
    } else if (facts.votes === 0 || facts.annotators < 2) {
      add(
        {
          id: "share",
          text: `${facts.votes === 0 ? "No votes yet" : `Only ${plural(facts.annotators, "annotator")} so far`}: send the invite link to more annotators (it is shown once, when it is made; make another if it is lost).`,
          target: "annotators",
          action: "Share an invite link",
        },
        facts.canManage,
      );
    }
  }

  if (status === "running" && facts.votes > 0) {
    if (facts.converged) {
      add(
        {
          id: "close",
          text: "The ranking has converged: more votes will not change the recommendation. Close the study, then export.",
          target: "status",
          action: "Close the study (button above)",
        },
        facts.canEdit,
      );
      add(
        { id: "export", text: "The preferences collected so far are ready to download.", target: "export", action: "Export the votes" },
        facts.canExport,
      );
    } else if (facts.unmeasuredPrompts > 0 || facts.votesStillNeeded !== null) {
      const parts: string[] = [];
      if (facts.votesStillNeeded !== null) parts.push(`the engine expects ≈ ${plural(facts.votesStillNeeded, "more vote")} before it can stop`);
      if (facts.unmeasuredPrompts > 0)
        parts.push(
          `${plural(facts.unmeasuredPrompts, "prompt")} ${facts.unmeasuredPrompts === 1 ? "has" : "have"} fewer than ${facts.minComparisons} comparisons and cannot be ranked yet`,
        );
      add(
        {
          id: "collect",
          text: `Keep collecting votes: ${parts.join("; ")}.`,
          target: facts.canManage ? "annotators" : null,
          action: "Invite more annotators",
        },
        true,
      );
    }
  }

  if (live && facts.prompts >= 2 && facts.queries > 0) {
    add(
      {
        id: "grow",
        text: "Have a better idea? A new prompt joins the comparison at once (the engine gives it its first pairs).",
        target: "setup",
        action: "Add prompts",
      },
      facts.canEdit && !steps.some((step) => step.id === "add-prompts"),
    );
  }
  return steps.slice(0, MAX_STEPS);
}
