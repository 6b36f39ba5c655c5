import { readReliabilityFit } from "../../db/annotator-reliability";
import type { DB } from "../../db/client";
import type { ANNOTATOR_KINDS } from "../../db/schema";
import { annotatorQualityRows, type AnnotatorQualityRow, type QualityStudy } from "~/models/annotator-quality.server";
import type { ExportOptions } from "./export-options.server";

// The quality fields of a preference export and its quality filters (issue 18 §7, ADR 0035). Each line
// may carry one `quality` object, built from the figures of the quality page (one pass over the study's
// votes before the first line, never a query per line):
//
//   "quality": { "votes": 1, "majority_votes": 1, "flags": ["too_fast"],
//                "annotators": [{ "id": 3, "kind": "human", "agreement": 0.8, "consistency": null,
//                                 "gold_accuracy": null, "reliability": 0.93, "flags": ["too_fast"] }] }
//
// `votes` are the decisive votes behind the line (1 with duplicates=keep; the group's with majority),
// `majority_votes` those in the line's direction; `flags` is the union of the annotators' flags and the
// votes' own (audit, gold, overlap). `kind` is the annotator's (annotators.kind: "human", or "judge" for an LLM
// judge); a new flag is a value of QUALITY_FLAGS and a line where exportFigures or the SQL sets it.

/** Who cast a vote: annotators.kind (db/schema.ts ANNOTATOR_KINDS: a person, or the study's LLM judge, ADR 0032). */
export type AnnotatorKind = (typeof ANNOTATOR_KINDS)[number];

/**
 * excluded: the owner excluded the annotator (ADR 0025); too_fast and side_bias: the quality page's flags of
 * the annotator (READING_RULE / TOO_FAST_SHARE, SIDE_BIAS_MARGIN in app/models/annotator-quality.server.ts);
 * unreliable: the cached crowd fit flags the annotator (reliability's 95 % upper bound below a share of the median, or
 * below 0: ADR 0037, 0041); audit: the vote re-judged an item the annotator had decided before, sides swapped; gold:
 * the item has a known answer set by an owner; overlap: the vote was a served overlap (an item another annotator had
 * decided, served again for agreement, ADR 0042). It counts like any vote, so exclude-flagged keeps it.
 */
export const QUALITY_FLAGS = ["excluded", "too_fast", "side_bias", "unreliable", "audit", "gold", "overlap"] as const;
export type QualityFlag = (typeof QUALITY_FLAGS)[number];
/** Flags of an annotator (every vote of theirs carries them) rather than of a single vote. */
export const ANNOTATOR_FLAGS: readonly QualityFlag[] = ["excluded", "too_fast", "side_bias", "unreliable"];

export interface AnnotatorExportFigures {
  id: number;
  kind: AnnotatorKind;
  /** Share of their labels matching counted others' on shared items (the quality page's "Agrees with others"); null with no shared item. */
  agreement: number | null;
  /** Share of their audit re-judgements that matched their earlier decision; null without audits. */
  consistency: number | null;
  /** Share of the gold items they answered with the owner's answer; null without gold answers. */
  goldAccuracy: number | null;
  /** The fitted reliability in the study's cached crowd fit (ADR 0041); null when the annotator is not in it. */
  reliability: number | null;
  flags: QualityFlag[];
}

/** Rounded to 4 decimals: the figures are shares of small counts; the file stays readable and stable. */
const share = (value: number | null) => (value === null ? null : Math.round(value * 10_000) / 10_000);

export function exportFigures(row: AnnotatorQualityRow, fitted?: { reliability: number; flagged: boolean }): AnnotatorExportFigures {
  const flags: QualityFlag[] = [];
  if (row.excluded) flags.push("excluded");
  if (row.tooFast) flags.push("too_fast");
  if (row.leftSide.strong) flags.push("side_bias");
  if (fitted?.flagged) flags.push("unreliable");
  return {
    id: row.annotatorId,
    kind: row.kind,
    agreement: share(row.agreement.pairings > 0 ? row.agreement.rate : null),
    consistency: share(row.consistency.rate),
    goldAccuracy: share(row.gold.rate),
    reliability: fitted ? Math.round(fitted.reliability * 10_000) / 10_000 : null,
    flags,
  };
}

/**
 * Every annotator of the study with votes or a membership, by id, with their reliability as the cached crowd fit has it
 * (as of its vote; never fitted here). Cost: that of the quality page's table without its bootstraps, and one read.
 */
export function annotatorExportFiguresOf(db: DB, study: QualityStudy): Map<number, AnnotatorExportFigures> {
  const fitted = new Map((readReliabilityFit(db, study.id)?.fit.annotators ?? []).map((row) => [row.annotatorId, row]));
  return new Map(annotatorQualityRows(db, study).map((row) => [row.annotatorId, exportFigures(row, fitted.get(row.annotatorId))]));
}

export type QualityFilter = Pick<ExportOptions, "exclude-flagged" | "min-agreement" | "min-reliability">;

export function hasQualityFilter(options: QualityFilter): boolean {
  return options["exclude-flagged"] || options["min-agreement"] !== undefined || options["min-reliability"] !== undefined;
}

/**
 * Whether an annotator's votes may enter a filtered export: with exclude-flagged, only annotators without
 * a flag; with min-agreement m, only those whose agreement is known (a shared item with a counted other)
 * and at least m; with min-reliability r, only those in the cached crowd fit with a reliability of at least r. An
 * annotator without a shared item has no agreement and fails any min-agreement; one outside the fit (excluded, or
 * voting since it was computed) fails any min-reliability.
 */
export function annotatorPasses(figures: AnnotatorExportFigures | undefined, options: QualityFilter): boolean {
  if (!figures) return !hasQualityFilter(options);
  if (options["exclude-flagged"] && figures.flags.length > 0) return false;
  const least = options["min-agreement"];
  if (least !== undefined && (figures.agreement === null || figures.agreement < least)) return false;
  const leastReliability = options["min-reliability"];
  if (leastReliability !== undefined && (figures.reliability === null || figures.reliability < leastReliability)) return false;
  return true;
}

/** The ids of the annotators whose votes pass the filter, or null when no quality filter is set (every vote passes). */
export function passingAnnotatorIds(figures: Map<number, AnnotatorExportFigures>, options: QualityFilter): number[] | null {
  if (!hasQualityFilter(options)) return null;
  return [...figures.values()].filter((entry) => annotatorPasses(entry, options)).map((entry) => entry.id);
}

export interface QualityField {
  votes: number;
  majority_votes: number;
  flags: QualityFlag[];
  annotators: {
    id: number;
    kind: AnnotatorKind;
    agreement: number | null;
    consistency: number | null;
    gold_accuracy: number | null;
    reliability: number | null;
    flags: QualityFlag[];
  }[];
}

/** The `quality` object of one line from its annotators' ids and the votes' own flags (audit, gold). */
export function qualityField(
  annotatorIds: readonly number[],
  figures: Map<number, AnnotatorExportFigures>,
  counts: { votes: number; majorityVotes: number },
  voteFlags: readonly QualityFlag[],
): QualityField {
  const flags = new Set<QualityFlag>(voteFlags);
  const annotators = annotatorIds.map((id) => {
    const entry = figures.get(id);
    for (const flag of entry?.flags ?? []) flags.add(flag);
    return {
      id,
      kind: entry?.kind ?? "human",
      agreement: entry?.agreement ?? null,
      consistency: entry?.consistency ?? null,
      gold_accuracy: entry?.goldAccuracy ?? null,
      reliability: entry?.reliability ?? null,
      flags: entry?.flags ?? [],
    };
  });
  return {
    votes: counts.votes,
    majority_votes: counts.majorityVotes,
    flags: QUALITY_FLAGS.filter((flag) => flags.has(flag)),
    annotators,
  };
}
