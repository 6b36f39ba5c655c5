import { fitBradleyTerry } from "./bradley-terry";
import { logisticVariance } from "./btl-loss";
import { seenArms } from "./pairs";
import type { Duel } from "./policy";

/**
 * When may a study say "converged"? On the raw votes, independent of the policy's own (exploration)
 * uncertainty: a Bradley–Terry MAP fit (Hunter 2004) with diagonal Laplace standard errors, and a
 * LUCB-style confidence gap (Kalyanakrishnan et al. 2012, §3) between the leader and every rival.
 * Thresholds are calibrated in the simulator (docs/decisions/0005-stopping-rule.md).
 */
export interface StoppingRuleOptions {
  /** Never stop before this many votes: early estimates are over-confident. */
  minVotes: number;
  /** z-score the leader's score gap must clear against every rival. */
  confidence: number;
  /**
   * Indifference zone (PAC best-arm identification, Even-Dar et al. 2006): rivals within this many BT
   * points of the leader count as equally good, so genuinely tied top prompts do not keep a study open.
   */
  indifference: number;
  /** Virtual ties per arm against a reference arm of score 0 (the BT prior; see bradley-terry.ts). */
  priorGames: number;
}

export const STOPPING_RULE_DEFAULTS: StoppingRuleOptions = { minVotes: 30, confidence: 2.5, indifference: 0.25, priorGames: 1 };

// Beyond this many times the votes so far, an extrapolated "votes still needed" is noise: report none.
const MAX_ESTIMATE_FACTOR = 10;

export interface StoppingDecision {
  converged: boolean;
  /** argmax of the BT score over arms that appeared in a duel (-1 without votes). */
  leader: number;
  /** min over rivals j of (s_leader - s_j + indifference) / sqrt(se_leader^2 + se_j^2) (-Infinity without votes). */
  margin: number;
  /** Arms never compared yet: the rule cannot vouch for an arm nobody has seen. */
  unseenArms: number;
  /** Rough votes still needed (null when converged or when no estimate is possible). */
  votesStillNeeded: number | null;
}

/**
 * Applies the stopping rule to the raw votes.
 * s = BT MAP scores; information I_i = priorGames * q(s_i, 0) + sum_{duels (i,j)} q(s_i, s_j) with
 * q(x, y) = sigma(x - y) (1 - sigma(x - y)); se_i = 1 / sqrt(I_i).
 * margin = min_j (s_leader - s_j + indifference) / sqrt(se_leader^2 + se_j^2);
 * converged = votes >= minVotes and no unseen arm and leader == recommended and margin >= confidence.
 * votesStillNeeded: ceil(unseen / 2) votes to see every arm, plus, with se shrinking like 1/sqrt(votes),
 * n (confidence / margin)^2 - n for the gap (null when margin <= 0, the leader disagrees with the policy,
 * or the estimate exceeds 10x the votes so far).
 * Cost: one BT fit, O(iterations * (pairs + n)) + O(V). Throws when recommended is out of range or on invalid votes.
 */
export function evaluateStoppingRule(
  armCount: number,
  history: readonly Duel[],
  recommended: number,
  options: StoppingRuleOptions = STOPPING_RULE_DEFAULTS,
): StoppingDecision {
  return decide(stoppingEvidence(armCount, history, options.priorGames), recommended, options);
}

/** What the rule reads from the votes: BT scores, their Laplace information, and coverage. */
export interface StoppingEvidence {
  votes: number;
  scores: Float64Array;
  information: Float64Array;
  seen: Uint8Array;
  unseenArms: number;
}

/**
 * Fits the evidence once (BT MAP + diagonal Fisher information), so several thresholds can be
 * evaluated on the same votes (calibration). Cost: one BT fit + O(V + n). Throws on invalid votes.
 */
export function stoppingEvidence(armCount: number, history: readonly Duel[], priorGames: number): StoppingEvidence {
  const seen = seenArms(history, armCount);
  let unseenArms = 0;
  for (let i = 0; i < armCount; i++) if (!seen[i]) unseenArms++;
  const scores = history.length > 0 ? fitBradleyTerry(armCount, history, { priorGames, tolerance: 1e-7 }) : new Float64Array(armCount);
  const information = new Float64Array(armCount);
  for (let i = 0; i < armCount; i++) information[i] = priorGames * logisticVariance(scores[i]!);
  for (const { a, b } of history) {
    const q = logisticVariance(scores[a]! - scores[b]!);
    information[a] = information[a]! + q;
    information[b] = information[b]! + q;
  }
  return { votes: history.length, scores, information, seen, unseenArms };
}

/**
 * The decision for one set of thresholds on fitted evidence (see evaluateStoppingRule).
 * Cost: O(n). Throws when recommended is out of range.
 */
export function decide(evidence: StoppingEvidence, recommended: number, options: StoppingRuleOptions): StoppingDecision {
  const { votes, scores, information, seen, unseenArms } = evidence;
  const armCount = scores.length;
  if (!Number.isInteger(recommended) || recommended < 0 || recommended >= armCount) {
    throw new Error(`evaluateStoppingRule requires recommended in [0, ${armCount})`);
  }
  if (votes === 0) {
    return { converged: false, leader: -1, margin: -Infinity, unseenArms, votesStillNeeded: Math.max(options.minVotes, Math.ceil(unseenArms / 2)) };
  }
  let leader = -1;
  for (let i = 0; i < armCount; i++) if (seen[i] && (leader < 0 || scores[i]! > scores[leader]!)) leader = i;
  let margin = Infinity;
  for (let j = 0; j < armCount; j++) {
    if (j === leader) continue;
    const z = (scores[leader]! - scores[j]! + options.indifference) / Math.sqrt(1 / information[leader]! + 1 / information[j]!);
    margin = Math.min(margin, z);
  }
  const agrees = leader === recommended;
  const converged = votes >= options.minVotes && unseenArms === 0 && agrees && margin >= options.confidence;
  let votesStillNeeded: number | null = null;
  if (!converged && agrees && margin > 0) {
    const forGap = Math.max(0, votes * (options.confidence / margin) ** 2 - votes);
    const estimate = Math.max(options.minVotes - votes, Math.ceil(unseenArms / 2 + forGap), 1);
    votesStillNeeded = estimate <= MAX_ESTIMATE_FACTOR * Math.max(votes, options.minVotes) ? estimate : null;
  }
  return { converged, leader, margin, unseenArms, votesStillNeeded };
}
