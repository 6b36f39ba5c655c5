import { readReliabilityFit } from "../../db/annotator-reliability";
import type { ReliabilityFitResult } from "../../db/schema";
import { duelScales } from "../../quality/duel-scales";
import { db } from "~/db.server";

// The engine's side of the reliability fit (docs/decisions/0044, 0047): each annotator's logit scale in the engine's
// likelihood, from the study's cached fit (ADR 0041) by the mapping the simulator uses too (quality/duel-scales.ts).

/**
 * annotator id -> scale of the fit's annotators (duelScales, ADR 0047): 1 unless flagged, else
 * clamp(beta_k / median positive beta, -1, 1); an annotator outside the fit (no votes in its latest
 * RELIABILITY_MAX_VOTES, or newer) is not in the map and counts 1. Empty without a fit. Cost: O(K log K).
 */
export function annotatorScalesOfFit(fit: ReliabilityFitResult | null): Map<number, number> {
  if (!fit) return new Map();
  const scales = duelScales(fit.annotators);
  return new Map(fit.annotators.map((annotator, k) => [annotator.annotatorId, scales[k]!]));
}

/** The scales of the study's latest stored fit (one primary-key read; empty without one). */
export function readAnnotatorScales(studyId: number): Map<number, number> {
  return annotatorScalesOfFit(readReliabilityFit(db(), studyId)?.fit ?? null);
}
