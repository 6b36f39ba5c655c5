import type { Duel } from "./policy";

/** Head-to-head facts the raw votes state plainly, for the recommendation and for explaining it. */
export interface VoteRecord {
  /** Decisive wins and losses per arm (ties and both-bad count for neither). */
  wins: Int32Array;
  losses: Int32Array;
  /** The arms that beat `arm` at least once and never lost to it. */
  beatenBy(arm: number): number[];
  /** The arms that `arm` beat at least once and never lost to. */
  beaten(arm: number): number[];
}

/**
 * Decisive records per arm and head to head. A duel at a negative logit scale (Duel.scale: an annotator who prefers
 * the worse response, docs/decisions/0044) counts with its winner and loser swapped, one at scale 0 not at all, as the
 * likelihood reads them.
 * Cost: O(L) to build; beatenBy(r) is O(duels of r). Throws nothing (validate the history first).
 */
export function voteRecord(history: readonly Duel[], armCount: number): VoteRecord {
  const wins = new Int32Array(armCount);
  const losses = new Int32Array(armCount);
  // Per arm: opponent -> (own decisive wins - losses against it), and whether it ever lost to it.
  const headToHead: Map<number, { net: number; lost: boolean; won: boolean }>[] = Array.from({ length: armCount }, () => new Map());
  for (const { a, b, outcome, scale = 1 } of history) {
    if (outcome === 0.5 || scale === 0) continue;
    const aWon = (outcome === 1) === scale > 0;
    const winner = aWon ? a : b;
    const loser = aWon ? b : a;
    wins[winner]!++;
    losses[loser]!++;
    const forWinner = headToHead[winner]!.get(loser) ?? { net: 0, lost: false, won: false };
    forWinner.net += 1;
    forWinner.won = true;
    headToHead[winner]!.set(loser, forWinner);
    const forLoser = headToHead[loser]!.get(winner) ?? { net: 0, lost: false, won: false };
    forLoser.net -= 1;
    forLoser.lost = true;
    headToHead[loser]!.set(winner, forLoser);
  }
  return {
    wins,
    losses,
    beatenBy(arm) {
      const out: number[] = [];
      for (const [opponent, record] of headToHead[arm]!) if (record.lost && !record.won) out.push(opponent);
      return out;
    },
    beaten(arm) {
      const out: number[] = [];
      for (const [opponent, record] of headToHead[arm]!) if (record.won && !record.lost) out.push(opponent);
      return out;
    },
  };
}

/**
 * The recommendation the votes support: the model's choice r, unless an unbeaten arm (at least `minWins` decisive
 * wins, no decisive loss) has beaten r head to head; then the unbeaten arm that did, with the highest score. Such an
 * arm beat r and nobody has beaten it, so recommending r over it would contradict what the votes plainly show,
 * whatever the model infers from similar prompts. One step suffices: no arm has beaten the arm returned.
 * Cost: O(duels of r). Throws nothing.
 */
export function voteSupportedChoice(
  record: VoteRecord,
  modelChoice: number,
  score: (arm: number) => number,
  minWins = 1,
): { arm: number; overridden: boolean } {
  let best = -1;
  for (const arm of record.beatenBy(modelChoice)) {
    if (record.losses[arm]! > 0 || record.wins[arm]! < Math.max(1, minWins)) continue;
    if (best < 0 || score(arm) > score(best)) best = arm;
  }
  return best < 0 ? { arm: modelChoice, overridden: false } : { arm: best, overridden: true };
}
