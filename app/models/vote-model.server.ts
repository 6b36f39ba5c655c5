import type { VoteModel } from "../../bandit/served";
import { readReliabilityFit } from "../../db/annotator-reliability";
import type { ReliabilityFitResult } from "../../db/schema";
import { duelScales, servedSideTerm } from "../../quality/duel-scales";
import { db } from "~/db.server";

// The engine's side of the reliability fit (docs/decisions/0044, 0047, 0048): how it reads each vote, from the study's
// cached fit (ADR 0041) by the mappings the simulator uses too (quality/duel-scales.ts).

/**
 * annotator id -> scale of the fit's annotators (duelScales, ADR 0047): 1 unless flagged, else
 * clamp(beta_k / median positive beta, -1, 1); an annotator outside the fit (no votes in its latest
 * RELIABILITY_MAX_VOTES, or newer) is not in the map and counts 1. Empty without a fit. Cost: O(K log K).
 */
function annotatorScalesOfFit(fit: ReliabilityFitResult | null): Map<number, number> {
  if (!fit) return new Map();
  const scales = duelScales(fit.annotators);
  return new Map(fit.annotators.map((annotator, k) => [annotator.annotatorId, scales[k]!]));
}

/**
 * The vote model of a stored fit: the annotators' scales and the side term (servedSideTerm, ADR 0048: the fit's gamma
 * when its interval excludes 0, else 0). Without a fit every vote counts 1 and the sides equal. Cost: O(K log K).
 */
export function voteModelOfFit(fit: ReliabilityFitResult | null): VoteModel {
  return { annotatorScales: annotatorScalesOfFit(fit), sideTerm: fit ? servedSideTerm(fit.side, fit.sideStdErr) : 0 };
}

/** The vote model of the study's latest stored fit (one primary-key read). */
export function readVoteModel(studyId: number): VoteModel {
  return voteModelOfFit(readReliabilityFit(db(), studyId)?.fit ?? null);
}
