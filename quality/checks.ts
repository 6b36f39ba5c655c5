// Quality checks mixed into an annotator's work (issue 18 §2, §3, §4; ADR 0034, 0042): self-consistency
// audits (a pair they decided before, served again with the sides swapped), gold items (an owner's known
// answer) and served overlaps (a pair exactly one other annotator decided, for agreement). Pure: the
// caller passes the counts and a uniform random source.

export type QualityCheck = "audit" | "gold" | "overlap";

export interface CheckRates {
  /** P(audit) per pair request while an audit is allowed, in [0, 1]. */
  auditRate: number;
  /** Most audits may make of the annotator's answered assignments, in [0, 1]. */
  auditMaxShare: number;
  /** P(gold) per pair request while a gold item is left for them, in [0, 1]. */
  goldRate: number;
  /** P(overlap) per pair request while an item decided by exactly one other annotator is left for them; the three rates sum to at most 1. */
  overlapRate: number;
}

export interface AnnotatorCheckState {
  /** Answered assignments of the annotator in the study, audits included. */
  answered: number;
  /** Of which audits. */
  audits: number;
  /** Their latest assignment was an audit. */
  lastWasAudit: boolean;
}

/**
 * Whether an audit may be served now: never two in a row, and never past the share, counting the new one:
 * (audits + 1) <= maxShare * (answered + 1). So with maxShare 0.1 the first audit comes after 9 answers and
 * audits stay at most a tenth of the work at every moment. Cost: O(1).
 */
export function auditAllowed(state: AnnotatorCheckState, maxShare: number): boolean {
  if (state.lastWasAudit || maxShare <= 0) return false;
  return state.audits + 1 <= maxShare * (state.answered + 1) + 1e-9;
}

/**
 * Which check, if any, this pair request serves, from one uniform draw u in [0, 1):
 *   audit when u < auditRate and an audit is allowed;
 *   gold when auditRate <= u < auditRate + goldRate (and the caller then finds a gold item left for them);
 *   overlap when auditRate + goldRate <= u < auditRate + goldRate + overlapRate (likewise an overlap item).
 * So P(audit) = auditRate whenever one is allowed, P(gold) = goldRate and P(overlap) = overlapRate on every
 * request, independent of each other's eligibility. No draw is taken when every rate is 0, so studies without
 * checks see the same random stream as before. Cost: O(1).
 */
export function chooseCheck(rates: CheckRates, state: AnnotatorCheckState, random: () => number): QualityCheck | null {
  if (rates.auditRate <= 0 && rates.goldRate <= 0 && rates.overlapRate <= 0) return null;
  const u = random();
  if (u < rates.auditRate) return auditAllowed(state, rates.auditMaxShare) ? "audit" : null;
  if (u < rates.auditRate + rates.goldRate) return "gold";
  if (u < rates.auditRate + rates.goldRate + rates.overlapRate) return "overlap";
  return null;
}

/** One of `items` uniformly at random, or null when there is none. Cost: O(1). */
export function pickUniform<T>(items: readonly T[], random: () => number): T | null {
  if (items.length === 0) return null;
  return items[Math.min(items.length - 1, Math.floor(random() * items.length))]!;
}
