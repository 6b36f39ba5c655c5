import { and, eq, inArray } from "drizzle-orm";
import { deriveSeed, mulberry32 } from "../../bandit/random";
import { queries } from "../../db/schema";
import { judgeAgreementCells, judgeVerdictTotals, type JudgeAgreementCell } from "../../db/judge-agreement";
import { cohenKappaEstimate, type AgreementEstimate } from "../../quality/agreement";
import { wilsonInterval, type ProportionInterval } from "../../quality/proportion";
import type { Queryable } from "~/llm/queryable.server";

// Human–judge agreement on the items both judged (issue 17 §4; ADR 0032), from db/judge-agreement.ts and the pure
// statistics in quality/: percent agreement with its Wilson interval, and Cohen's kappa (rater 1 the judge, rater 2
// a human, one observation per (human, item)) with a percentile-bootstrap interval, overall and per query.

export interface AgreementFigures {
  /** Items (query, prompt pair) both the judge and at least one counted human judged. */
  items: number;
  /** Observations: one per (human, item). */
  pairings: number;
  agreement: ProportionInterval;
  cohenKappa: AgreementEstimate;
  /** table[judge label][human label]: 0 = lower-id prompt won, 1 = higher-id prompt won, 2 = draw. */
  table: number[][];
}

export interface JudgeAgreementReport {
  overall: AgreementFigures;
  perQuery: (AgreementFigures & { queryId: number; query: string })[];
  verdicts: number;
  positionBias: ProportionInterval;
  costUsd: number;
}

const BOOTSTRAP_SAMPLES = 1_000;

function figures(cells: readonly JudgeAgreementCell[], seed: number): AgreementFigures {
  const table = [0, 1, 2].map(() => [0, 0, 0]);
  const items = new Set<string>();
  let pairings = 0;
  let agreed = 0;
  for (const cell of cells) {
    table[cell.judgeLabel]![cell.humanLabel]! += cell.humans;
    items.add(`${cell.queryId}:${cell.low}:${cell.high}`);
    pairings += cell.humans;
    if (cell.judgeLabel === cell.humanLabel) agreed += cell.humans;
  }
  return {
    items: items.size,
    pairings,
    agreement: wilsonInterval(agreed, pairings),
    // Seeded per study and query: the page shows the same interval on every reload of the same data.
    cohenKappa: cohenKappaEstimate(table, { random: mulberry32(seed), samples: BOOTSTRAP_SAMPLES }),
    table,
  };
}

export function judgeAgreement(db: Queryable, studyId: number): JudgeAgreementReport {
  const cells = judgeAgreementCells(db, studyId);
  const byQuery = new Map<number, typeof cells>();
  for (const cell of cells) {
    const list = byQuery.get(cell.queryId) ?? [];
    list.push(cell);
    byQuery.set(cell.queryId, list);
  }
  const texts = new Map(
    byQuery.size === 0
      ? []
      : db
          .select({ id: queries.id, text: queries.text })
          .from(queries)
          .where(and(eq(queries.studyId, studyId), inArray(queries.id, [...byQuery.keys()])))
          .all()
          .map((row) => [row.id, row.text]),
  );
  const totals = judgeVerdictTotals(db, studyId);
  return {
    overall: figures(cells, deriveSeed(studyId, 1700)),
    perQuery: [...byQuery.entries()]
      .sort((x, y) => x[0] - y[0])
      .map(([queryId, list]) => ({ queryId, query: texts.get(queryId) ?? "", ...figures(list, deriveSeed(studyId, 1700, queryId)) })),
    verdicts: totals.verdicts,
    positionBias: wilsonInterval(totals.positionBias, totals.verdicts),
    costUsd: totals.costUsd,
  };
}
