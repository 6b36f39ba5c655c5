import { deriveSeed, mulberry32 } from "../../bandit/random";
import {
  annotatorVoteAggregates,
  auditConsistency,
  goldAccuracy,
  excludedAnnotatorIds,
  overlapItems,
  pairAgreementCells,
  sharedItemCounts,
  type ReadingRule,
} from "../../db/annotator-quality";
import { generationSettingsHash } from "../../db/text";
import {
  cohenKappaEstimate,
  fleissKappaEstimate,
  krippendorffAlphaEstimate,
  type AgreementEstimate,
  type BootstrapOptions,
} from "../../quality/agreement";
import { isStrongSideBias, wilsonInterval, type ProportionInterval } from "../../quality/proportion";
import { db } from "~/db.server";

// The owner's annotator quality table (issue 18 §1, §4, §5): position bias, speed and agreement per
// annotator, and the study's inter-annotator agreement, from SQL aggregates (db/annotator-quality.ts)
// and the pure statistics in quality/. Nothing here reads a row per vote.

/**
 * The reading-speed rule for too-fast votes. A vote needs at least the time to skim both responses at
 * 50 characters a second (about 600 words a minute: twice a fast adult reading pace of ~250-300 words
 * a minute, so only votes that cannot have read the responses are called too fast), and never less
 * than one second.
 */
export const READING_RULE: ReadingRule = { charsPerSecond: 50, floorMs: 1_000 };
/** An annotator is flagged too fast when more than this share of their timed votes broke the reading rule… */
export const TOO_FAST_SHARE = 0.5;
/** …and they have at least this many timed votes (fewer say nothing). */
export const TOO_FAST_MIN_VOTES = 5;
/**
 * A strong position bias: the left-side rate's 95% Wilson interval lies wholly beyond 0.5 ± this margin
 * (e.g. above 0.6), not just off 0.5: a small lean is common and harmless once sides are randomised.
 */
export const SIDE_BIAS_MARGIN = 0.1;
/** Annotator pairs listed with Cohen's kappa: those with at least this many shared items, most shared first, at most MAX_PAIRS. */
export const PAIR_MIN_ITEMS = 3;
export const MAX_PAIRS = 20;
// Bootstrap work is bounded: resamples x items stays near this budget (between 200 and 1,000 resamples).
const BOOTSTRAP_BUDGET = 2_000_000;

function bootstrapOptions(studyId: number, stream: number, items: number): BootstrapOptions {
  // Seeded per study and statistic: the page shows the same interval on every reload of the same data.
  const samples = Math.max(200, Math.min(1_000, Math.floor(BOOTSTRAP_BUDGET / Math.max(1, items))));
  return { random: mulberry32(deriveSeed(studyId, stream)), samples };
}

export interface SideBias extends ProportionInterval {
  strong: boolean;
}

function sideBias(leftWins: number, decisive: number): SideBias {
  const interval = wilsonInterval(leftWins, decisive);
  return { ...interval, strong: decisive > 0 && isStrongSideBias(interval, SIDE_BIAS_MARGIN) };
}

export interface AnnotatorQualityRow {
  annotatorId: number;
  displayName: string;
  /** Who votes: a person, or an LLM judge (annotators.kind). */
  kind: "human" | "judge";
  member: boolean;
  removed: boolean;
  excluded: boolean;
  votes: number;
  skips: number;
  leftSide: SideBias;
  medianLatencyMs: number | null;
  medianRequiredMs: number | null;
  timedVotes: number;
  tooFastVotes: number;
  tooFast: boolean;
  /** Audits answered (their original still standing) and how many repeated the earlier decision, with a Wilson interval. */
  consistency: CheckRate;
  /** Gold items answered and how many with the owner's answer, with a Wilson interval. */
  gold: CheckRate;
  /** Items this annotator shares with counted others, and how often their labels matched (per pairing, with a Wilson interval). */
  agreement: { sharedItems: number; pairings: number; agreed: number; rate: number | null; lower: number; upper: number };
}

export interface CheckRate {
  judged: number;
  matched: number;
  rate: number | null;
  lower: number;
  upper: number;
}

function checkRate(counts: { judged: number; matched: number } | undefined): CheckRate {
  const judged = counts?.judged ?? 0;
  const matched = counts?.matched ?? 0;
  const interval = wilsonInterval(matched, judged);
  return { judged, matched, rate: interval.rate, lower: interval.lower, upper: interval.upper };
}

export interface AnnotatorPairAgreement {
  first: { annotatorId: number; displayName: string };
  second: { annotatorId: number; displayName: string };
  sharedItems: number;
  cohenKappa: AgreementEstimate;
}

export interface AnnotatorQualityReport {
  annotators: AnnotatorQualityRow[];
  /** Over the counted (not excluded) annotators' votes. */
  overall: {
    leftSide: SideBias;
    overlapItems: number;
    /** Of which items served for agreement (purpose 'overlap', ADR 0042); the rest overlap by accident. */
    servedOverlapItems: number;
    krippendorffAlpha: AgreementEstimate;
    /** Fleiss' kappa needs the same number of raters per item: computed on the items with the most common count. */
    fleissKappa: (AgreementEstimate & { ratersPerItem: number }) | null;
  };
  pairs: AnnotatorPairAgreement[];
}

export interface QualityStudy {
  id: number;
  model: string;
  temperature: number;
  maxTokens: number;
  seed: number | null;
}

type Database = ReturnType<typeof db>;

interface AnnotatorFigures {
  aggregates: ReturnType<typeof annotatorVoteAggregates>;
  excluded: Set<number>;
  tables: Map<string, { first: number; second: number; table: number[][]; items: number }>;
  annotators: AnnotatorQualityRow[];
}

/**
 * Per annotator: side bias, speed, agreement with counted others (no bootstrap, so cheap enough for an
 * export to call before its first line). `database` is any connection (the export's reader, the CLI's file).
 */
function annotatorFigures(database: Database, study: QualityStudy): AnnotatorFigures {
  const aggregates = annotatorVoteAggregates(database, study.id, generationSettingsHash(study), READING_RULE);
  const excluded = excludedAnnotatorIds(database, study.id);

  // Pair tables, cell by cell, folded into per-annotator agreement with counted others and per-pair kappa.
  const tables = new Map<string, { first: number; second: number; table: number[][]; items: number }>();
  const agreementOf = new Map<number, { pairings: number; agreed: number }>();
  for (const cell of pairAgreementCells(database, study.id)) {
    const key = `${cell.first}:${cell.second}`;
    let entry = tables.get(key);
    if (!entry) tables.set(key, (entry = { first: cell.first, second: cell.second, table: [0, 1, 2].map(() => [0, 0, 0]), items: 0 }));
    entry.table[cell.firstLabel]![cell.secondLabel] = cell.items;
    entry.items += cell.items;
    for (const [self, other] of [
      [cell.first, cell.second],
      [cell.second, cell.first],
    ] as const) {
      if (excluded.has(other)) continue;
      const agreement = agreementOf.get(self) ?? { pairings: 0, agreed: 0 };
      agreement.pairings += cell.items;
      if (cell.firstLabel === cell.secondLabel) agreement.agreed += cell.items;
      agreementOf.set(self, agreement);
    }
  }
  const sharedItems = sharedItemCounts(database, study.id);
  const consistency = new Map(auditConsistency(database, study.id).map((row) => [row.annotatorId, row]));
  const gold = new Map(goldAccuracy(database, study.id).map((row) => [row.annotatorId, row]));

  const annotators = aggregates.map((row): AnnotatorQualityRow => {
    const agreement = agreementOf.get(row.annotatorId) ?? { pairings: 0, agreed: 0 };
    const interval = wilsonInterval(agreement.agreed, agreement.pairings);
    return {
      annotatorId: row.annotatorId,
      displayName: row.displayName,
      kind: row.kind,
      member: row.member === 1,
      removed: row.removed === 1,
      excluded: excluded.has(row.annotatorId),
      votes: row.votes,
      skips: row.skips,
      leftSide: sideBias(row.leftWins, row.decisive),
      medianLatencyMs: row.medianLatencyMs,
      medianRequiredMs: row.medianRequiredMs,
      timedVotes: row.timedVotes,
      tooFastVotes: row.tooFastVotes,
      tooFast: row.timedVotes >= TOO_FAST_MIN_VOTES && row.tooFastVotes > TOO_FAST_SHARE * row.timedVotes,
      consistency: checkRate(consistency.get(row.annotatorId)),
      gold: checkRate(gold.get(row.annotatorId)),
      agreement: {
        sharedItems: sharedItems.get(row.annotatorId) ?? 0,
        pairings: agreement.pairings,
        agreed: agreement.agreed,
        rate: interval.rate,
        lower: interval.lower,
        upper: interval.upper,
      },
    };
  });
  return { aggregates, excluded, tables, annotators };
}

/** The annotators' rows of the quality page, without the study-wide statistics (what an export's quality fields need). */
export function annotatorQualityRows(database: Database, study: QualityStudy): AnnotatorQualityRow[] {
  return annotatorFigures(database, study).annotators;
}

export function annotatorQuality(study: QualityStudy): AnnotatorQualityReport {
  const database = db();
  const { aggregates, excluded, tables, annotators } = annotatorFigures(database, study);
  const names = new Map(aggregates.map((row) => [row.annotatorId, row.displayName]));

  const counted = aggregates.filter((row) => !excluded.has(row.annotatorId));
  const overlaps = overlapItems(database, study.id);
  const items = overlaps.map((item) => [item.low, item.high, item.draws]);
  const raterCounts = new Map<number, number>();
  for (const item of items) {
    const raters = item[0]! + item[1]! + item[2]!;
    raterCounts.set(raters, (raterCounts.get(raters) ?? 0) + 1);
  }
  // The most common number of raters per item (the smaller on a tie): Fleiss' kappa's items.
  const [ratersPerItem] = [...raterCounts.entries()].sort((x, y) => y[1] - x[1] || x[0] - y[0])[0] ?? [];
  const fleissItems = ratersPerItem === undefined ? [] : items.filter((item) => item[0]! + item[1]! + item[2]! === ratersPerItem);

  const pairs = [...tables.values()]
    .filter((entry) => entry.items >= PAIR_MIN_ITEMS)
    .sort((x, y) => y.items - x.items || x.first - y.first || x.second - y.second)
    .slice(0, MAX_PAIRS)
    .map((entry, index): AnnotatorPairAgreement => ({
      first: { annotatorId: entry.first, displayName: names.get(entry.first) ?? `#${entry.first}` },
      second: { annotatorId: entry.second, displayName: names.get(entry.second) ?? `#${entry.second}` },
      sharedItems: entry.items,
      cohenKappa: cohenKappaEstimate(entry.table, bootstrapOptions(study.id, 100 + index, entry.items)),
    }));

  return {
    annotators,
    overall: {
      leftSide: sideBias(
        counted.reduce((sum, row) => sum + row.leftWins, 0),
        counted.reduce((sum, row) => sum + row.decisive, 0),
      ),
      overlapItems: items.length,
      servedOverlapItems: overlaps.filter((item) => item.served === 1).length,
      krippendorffAlpha: krippendorffAlphaEstimate(items, bootstrapOptions(study.id, 1, items.length)),
      fleissKappa:
        ratersPerItem === undefined
          ? null
          : { ...fleissKappaEstimate(fleissItems, bootstrapOptions(study.id, 2, fleissItems.length)), ratersPerItem },
    },
    pairs,
  };
}
