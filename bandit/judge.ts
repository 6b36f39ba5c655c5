import type { Outcome } from "./policy";
import { hashUniform } from "./random";

/** A simulated LLM judge (issue 17 §4–5, docs/decisions/0031). */
export interface SimulatedJudgeOptions {
  /** p: probability that the judge's considered verdict equals the simulated human's vote on the same question. */
  agreement: number;
  /** beta: probability, per order shown, that the judge picks the response shown first whatever it thinks. */
  positionBias: number;
  seed: number;
}

/** What one judged pair gives: the verdict of each order, the two-order vote the engine hears, and the reference. */
export interface JudgeVerdict {
  /** Outcome for `a` with `a` shown first, then with `b` shown first (1: a preferred, 0: b preferred). */
  orders: [Outcome, Outcome];
  /** The recorded vote: the common verdict when both orders agree, else a tie (counted as position bias). */
  outcome: Outcome;
  /** The judge's considered verdict (before position bias): what p is measured on. */
  considered: Outcome;
  /** The simulated human's vote on this question, the reference for p. */
  human: Outcome;
}

/**
 * A judge that agrees with the simulated humans with probability p and has a position bias beta (the swap-both-orders
 * protocol of Zheng et al. 2023, "Judging LLM-as-a-judge with MT-Bench and Chatbot Arena", §3.3/§3.4):
 *   human h = the simulated human's vote on (a, b) in this round (`humanVote`, counter-based, so it is the same draw
 *     a human would make on that question);
 *   considered c = h with probability p, the other arm with probability 1 - p (one draw per pair: both orders share it,
 *     as a temperature-0 judge reasons the same way twice);
 *   order o (a first, then b first): with probability beta the first-shown response, else c (one draw per order);
 *   recorded = the common verdict of the two orders, a tie when they differ.
 * Hence P(c = h) = p, P(single-order verdict = first shown) = beta + (1 - beta) P(c = first shown), and the recorded vote
 * is c with probability 1 - beta and a tie with probability beta (bias toward the loser's side is the only way the
 * orders disagree). Draws: hashUniform(seed, round, stream, lo, hi) with streams 1 (agreement), 2 and 3 (the order showing lo, hi first),
 * 4 (a side for a human tie the judge does not keep), so judge(a, b) and judge(b, a) give the same verdict.
 * Cost: O(1) per pair. Throws on p or beta outside [0, 1].
 */
export function createSimulatedJudge(options: SimulatedJudgeOptions, humanVote: (a: number, b: number, round: number) => Outcome) {
  const { agreement, positionBias, seed } = options;
  if (!(agreement >= 0 && agreement <= 1)) throw new Error("createSimulatedJudge requires agreement in [0, 1]");
  if (!(positionBias >= 0 && positionBias <= 1)) throw new Error("createSimulatedJudge requires positionBias in [0, 1]");
  return (a: number, b: number, round: number): JudgeVerdict => {
    const lo = Math.min(a, b);
    const hi = Math.max(a, b);
    const human = humanVote(a, b, round);
    const keeps = hashUniform(seed, round, 1, lo, hi) < agreement;
    const considered: Outcome =
      human === 0.5 ? (keeps ? 0.5 : hashUniform(seed, round, 4, lo, hi) < 0.5 ? 1 : 0) : keeps ? human : human === 1 ? 0 : 1;
    // Order 1 shows a first (a first-shown win is 1), order 2 shows b first (a first-shown win is 0, in a's terms).
    // The bias draw belongs to the arm shown first (stream 2: lo first, 3: hi first), so (a, b) and (b, a) agree.
    const biased = (first: number) => hashUniform(seed, round, first === lo ? 2 : 3, lo, hi) < positionBias;
    const firstOrder: Outcome = biased(a) ? 1 : considered;
    const secondOrder: Outcome = biased(b) ? 0 : considered;
    const outcome: Outcome = firstOrder === secondOrder ? firstOrder : 0.5;
    return { orders: [firstOrder, secondOrder], outcome, considered, human };
  };
}
