import { describe, expect, it } from "vitest";
import type { NotePrompt } from "./recommendation-note";
import { recommendationNote } from "./recommendation-note";

const prompt = (promptId: number, fields: Partial<NotePrompt>): NotePrompt => ({
  promptId,
  name: `P${promptId}`,
  wins: 0,
  losses: 0,
  score: 0,
  utility: 0,
  engineScore: 0,
  ...fields,
});

describe("recommendationNote", () => {
  const never = () => 0;

  it("says nothing when the engine's recommendation is the raw-vote leader, or either is unknown", () => {
    const prompts = [prompt(1, { score: 2 }), prompt(2, { score: 1 })];
    expect(recommendationNote(1, prompts, never)).toBeNull();
    expect(recommendationNote(null, prompts, never)).toBeNull();
    expect(recommendationNote(2, [prompt(1, { score: null }), prompt(2, { score: null })], never)).toBeNull();
  });

  it("names a head-to-head win of the recommended prompt first", () => {
    const prompts = [prompt(1, { score: 1 }), prompt(2, { score: 2 })];
    const note = recommendationNote(1, prompts, (winner) => (winner === 1 ? 2 : 1));
    expect(note).toBe("The engine recommends P1, while P2 leads the raw-vote Bradley–Terry scores. P1 beat P2 2–1 head to head.");
  });

  it("explains a leader of one vote that the engine does not rank yet (two duels needed, docs/decisions/0054)", () => {
    const prompts = [
      prompt(1, { score: 1, wins: 8, losses: 3, utility: 2, engineScore: 1.5 }),
      prompt(2, { score: 2, wins: 1, losses: 0, utility: 2.5, engineScore: null }),
    ];
    expect(recommendationNote(1, prompts, never)).toBe(
      "The engine recommends P1, while P2 leads the raw-vote Bradley–Terry scores. P2 has a single decisive vote: " +
        "the engine recommends only prompts that have been in at least two duels, so that one vote does not decide.",
    );
    // With two decisive votes and still no engine score (e.g. out of the engine's selection), that is not the reason.
    const twoVotes = [prompts[0]!, prompt(2, { score: 2, wins: 2, losses: 0, utility: 2.5, engineScore: null })];
    expect(recommendationNote(1, twoVotes, never)).not.toMatch(/single decisive vote/);
  });

  it("explains a leader held back by little evidence (its lower bound is below, its estimate is not)", () => {
    const prompts = [
      prompt(1, { score: 1, wins: 8, losses: 3, utility: 2, engineScore: 1.5 }),
      prompt(2, { score: 2, wins: 2, losses: 0, utility: 2.5, engineScore: 0.5 }),
    ];
    expect(recommendationNote(1, prompts, never)).toMatch(
      /P2 has less evidence \(2 decisive votes against 11\): the engine recommends by a lower confidence bound/,
    );
  });

  it("otherwise credits the engine's model of similar prompts", () => {
    const prompts = [prompt(1, { score: 1, utility: 3, engineScore: 2 }), prompt(2, { score: 2, utility: 1, engineScore: 0.5 })];
    expect(recommendationNote(1, prompts, never)).toMatch(/weighs how similar prompts fared, and it rates P1 higher/);
  });
});
