import type { VoteChoice } from "../../db/schema";

// What the annotate page and its server code share: the undo window and the words for each choice.

/** How long after a vote the annotator can take it back (the server allows a few seconds' slack). */
export const UNDO_WINDOW_MS = 8_000;

/**
 * The two responses are "A" and "B" everywhere (side by side on wide screens, A above B on narrow
 * ones), so a label never contradicts the layout. Stored choices keep their positional names: left is A.
 */
export const CHOICE_LABELS: Record<VoteChoice, string> = {
  left: "A is better",
  right: "B is better",
  tie: "Tie",
  both_bad: "Both bad",
  skip: "Skip",
};

/** What an annotator meets on a study's annotate page, from its status (annotationAvailability). */
export type Availability = "open" | "not_started" | "paused" | "complete";

export const AVAILABILITY_MESSAGES: Record<Exclude<Availability, "open">, { title: string; detail: string }> = {
  not_started: { title: "This study has not started yet", detail: "The owner is still setting it up. Come back to this link later." },
  paused: { title: "This study is paused", detail: "The owner paused it for now. Your votes so far are saved; come back to this link later." },
  complete: { title: "This study is complete", detail: "It has all the votes it needs. Thank you for your help!" },
};
