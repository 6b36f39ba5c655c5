/** One prompt as the dashboard knows it: raw-vote record, raw-vote Bradley–Terry score, and the engine's view. */
export interface NotePrompt {
  promptId: number;
  name: string;
  wins: number;
  losses: number;
  /** Bradley–Terry score from the raw votes (null before the first statistics run). */
  score: number | null;
  /** The engine's utility and the score its recommendation ranks by (a lower confidence bound; null if unknown). */
  utility: number | null;
  engineScore: number | null;
}

/**
 * When the engine's recommendation is not the raw-vote Bradley–Terry leader, one sentence saying so and why, in an
 * owner's words; null when they agree or either is unknown. The reasons, first that applies: the recommended prompt
 * beat the leader head to head; the leader has a single decisive vote and no engine score (the engine recommends
 * only prompts of two duels or more once any has two, DUET_DEFAULTS.recommendationMinDuels, docs/decisions/0054);
 * the leader has less evidence, so the engine's lower confidence bound ranks it below although its estimate is at
 * least as high; otherwise the engine's model, which also learns from how similar prompts fared, rates the
 * recommended prompt higher.
 */
export function recommendationNote(
  recommendedPromptId: number | null,
  prompts: readonly NotePrompt[],
  headToHead: (winner: number, loser: number) => number,
): string | null {
  const recommended = prompts.find((prompt) => prompt.promptId === recommendedPromptId);
  let leader: NotePrompt | undefined;
  for (const prompt of prompts) if (prompt.score !== null && (!leader || prompt.score > leader.score!)) leader = prompt;
  if (!recommended || !leader || leader.promptId === recommended.promptId) return null;
  const intro = `The engine recommends ${recommended.name}, while ${leader.name} leads the raw-vote Bradley–Terry scores.`;
  const won = headToHead(recommended.promptId, leader.promptId);
  const lost = headToHead(leader.promptId, recommended.promptId);
  if (won > lost) return `${intro} ${recommended.name} beat ${leader.name} ${won}–${lost} head to head.`;
  const votes = (prompt: NotePrompt) => prompt.wins + prompt.losses;
  if (leader.engineScore === null && recommended.engineScore !== null && votes(leader) <= 1) {
    return (
      `${intro} ${leader.name} has ${votes(leader) === 1 ? "a single decisive vote" : "no decisive vote"}: ` +
      "the engine recommends only prompts that have been in at least two duels, so that one vote does not decide."
    );
  }
  if (
    recommended.utility !== null &&
    leader.utility !== null &&
    recommended.engineScore !== null &&
    leader.engineScore !== null &&
    leader.utility >= recommended.utility &&
    leader.engineScore < recommended.engineScore
  ) {
    return (
      `${intro} ${leader.name} has less evidence (${votes(leader)} decisive votes against ${votes(recommended)}): ` +
      "the engine recommends by a lower confidence bound, so it waits for more votes before preferring it."
    );
  }
  return `${intro} Besides the votes, the engine's model weighs how similar prompts fared, and it rates ${recommended.name} higher.`;
}
