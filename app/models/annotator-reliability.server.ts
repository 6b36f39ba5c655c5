import { latestShownVoteId, readReliabilityFit } from "../../db/annotator-reliability";
import { sigmoid } from "../../bandit/btl-loss";
import type { ReliabilityFitResult } from "../../db/schema";
import { db } from "~/db.server";
import { voteModelOfFit } from "./vote-model.server";
import { scheduleReliabilityFit } from "./reliability-thread.server";

export type AnnotatorReliabilityRow = ReliabilityFitResult["annotators"][number] & {
  /** The logit scale of this annotator's votes in the engine's likelihood (ADR 0047): 1 unless flagged. */
  engineScale: number;
};

export interface AnnotatorReliabilityReport extends Omit<ReliabilityFitResult, "annotators"> {
  annotators: AnnotatorReliabilityRow[];
  /** The side term the engine reads each vote with (ADR 0048): gamma when its interval excludes 0, else 0. */
  engineSideTerm: number;
  /** sigmoid(gamma): how often the left response wins between two prompts of equal score. */
  leftShareAtEqualScores: number;
  /** When the cached fit was computed (epoch ms) and whether votes arrived since (a new fit is then under way). */
  computedAt: number;
  current: boolean;
}

/**
 * Each annotator's reliability and the crowd's side term from the study's cached fit (ADR 0041), read, never computed
 * here: when the cache is missing or older than the study's newest counted vote, a fit is scheduled on the reliability
 * thread and the page shows the cached one (saying as of which vote) or `pending`. Each row carries the weight the
 * engine gives the annotator's votes from the same fit, and the report the engine's side term (voteModelOfFit).
 * Cost: two indexed reads, O(K log K).
 */
export function annotatorReliability(studyId: number): { report: AnnotatorReliabilityReport | null; pending: boolean } {
  const cached = readReliabilityFit(db(), studyId);
  const latest = latestShownVoteId(db(), studyId);
  const current = cached !== null && cached.lastVoteId >= latest;
  if (!current && latest > 0) scheduleReliabilityFit(studyId);
  if (!cached || latest === 0) return { report: null, pending: latest > 0 };
  const voteModel = voteModelOfFit(cached.fit);
  const annotators = cached.fit.annotators.map((row) => ({ ...row, engineScale: voteModel.annotatorScales.get(row.annotatorId) ?? 1 }));
  return {
    report: {
      ...cached.fit,
      annotators,
      engineSideTerm: voteModel.sideTerm,
      leftShareAtEqualScores: sigmoid(cached.fit.side),
      computedAt: cached.computedAt,
      current,
    },
    pending: !current,
  };
}
