import { eq } from "drizzle-orm";
import type OpenAI from "openai";
import { judgeBatches } from "../../db/schema";
import {
  callJudge,
  failedCallsCost,
  finishJudgeBatch,
  judgeBudgetLeft,
  judgeMessages,
  judgePairKey,
  JUDGE_FAILURES_IN_A_ROW,
  markJudgeBatchRunning,
  nextJudgePair,
  openJudgeBatches,
  recordJudgeFailure,
  storeJudgeVerdict,
  studyJudge,
  studyTask,
  verdictOf,
  type JudgeBatch,
} from "./judge.server";
import { describeProviderError, type PriceTable } from "./provider.server";
import type { Queryable } from "./queryable.server";

export interface JudgeRunnerOptions {
  db: Queryable;
  client: OpenAI;
  prices: PriceTable;
  /** The generation worker's provider slots: judge calls share its concurrency bound. */
  withSlot: <T>(call: () => Promise<T>) => Promise<T>;
  /** Registers a running batch with the worker (its stop() waits for it, its idle signal counts it). */
  track: (task: Promise<void>) => void;
  isRunning: () => boolean;
  /** After a verdict was committed: the study's engine reads the new vote (it skips it while the judge is not counted). */
  onVotesAdded: (studyId: number) => void;
  /** After a batch ended whose votes count: the study's engine takes them in even if it was not running (a pre-screen before humans). */
  onCountedBatchFinished?: (studyId: number) => void;
  random?: () => number;
}

/**
 * Runs judged batches for the generation worker: one pair at a time per batch, its two calls (A first, B first) in
 * parallel in the worker's slots, no faster than the judge's pairs a minute, and never past its budgets: before each
 * pair it checks the pairs and dollars left (ADR 0032). A batch is resumable: a stopped worker leaves it running and
 * the next one carries on from the verdicts stored (a pair is judged at most once per study).
 */
export class JudgeRunner {
  private readonly options: JudgeRunnerOptions;
  private readonly random: () => number;
  private readonly inFlight = new Set<number>();
  private readonly sleepers = new Set<() => void>();

  constructor(options: JudgeRunnerOptions) {
    this.options = options;
    this.random = options.random ?? Math.random;
  }

  /** Starts every open batch not running yet. */
  start(): void {
    for (const batch of openJudgeBatches(this.options.db)) {
      if (this.inFlight.has(batch.id)) continue;
      this.inFlight.add(batch.id);
      markJudgeBatchRunning(this.options.db, batch.id);
      this.options.track(
        this.run(batch)
          .then((finished) => {
            if (finished && batch.mode !== "separate") this.options.onCountedBatchFinished?.(batch.studyId);
          })
          .finally(() => {
            this.inFlight.delete(batch.id);
          }),
      );
    }
  }

  /** Cuts short any wait for the judge's rate, so the worker can stop at once. */
  stop(): void {
    for (const wake of this.sleepers) wake();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  /** Runs the batch to its end (true), or until the worker stops (false: it stays running for the next worker). */
  private async run(batch: JudgeBatch): Promise<boolean> {
    const { db } = this.options;
    const end = (state: "succeeded" | "failed", reason: string | null) => {
      finishJudgeBatch(db, batch.id, state, reason);
      return true;
    };
    const tried = new Set<string>();
    let failuresInARow = 0;
    let nextStart = 0;
    for (;;) {
      if (!this.options.isRunning()) return false;
      const judge = studyJudge(db, batch.studyId);
      const task = studyTask(db, batch.studyId);
      if (!judge || task === undefined) return end("failed", "The study has no judge any more.");
      const totals = db
        .select({ judged: judgeBatches.judged, failures: judgeBatches.failures })
        .from(judgeBatches)
        .where(eq(judgeBatches.id, batch.id))
        .get();
      if (!totals || totals.judged + totals.failures >= batch.pairs) return end("succeeded", null);
      const budget = judgeBudgetLeft(db, judge);
      if (budget.pairs === 0) return end("succeeded", `The judge's budget of ${judge.maxPairs} pairs is spent.`);
      if (budget.costUsd !== null && budget.costUsd <= 0) {
        return end("succeeded", `The judge's budget of $${judge.maxCostUsd} is spent ($${budget.spentUsd.toFixed(4)}).`);
      }
      const pair = nextJudgePair(db, batch.studyId, batch.mode, tried, this.random);
      if (!pair) return end("succeeded", "No pair with ready responses is left to judge.");
      tried.add(judgePairKey(pair));
      const wait = nextStart - Date.now();
      if (wait > 0) {
        await this.sleep(wait);
        if (!this.options.isRunning()) return false;
      }
      nextStart = Date.now() + 60_000 / judge.pairsPerMinute;
      const call = (first: string, second: string) =>
        this.options.withSlot(() => callJudge(this.options.client, batch.model, judgeMessages(judge.instruction, task, pair.query, first, second)));
      const results = await Promise.allSettled([call(pair.responseA, pair.responseB), call(pair.responseB, pair.responseA)]);
      const [aFirst, bFirst] = results;
      let failure: string | null = null;
      if (aFirst.status === "fulfilled" && bFirst.status === "fulfilled") {
        try {
          const judged = { pair, aFirst: aFirst.value, bFirst: bFirst.value };
          storeJudgeVerdict(db, batch, judge, judged, verdictOf(judged, this.options.prices, batch.model), this.random() < 0.5);
          failuresInARow = 0;
          this.options.onVotesAdded(batch.studyId);
        } catch (error) {
          failure = `The verdict could not be stored: ${describeProviderError(error)}`;
        }
      } else {
        failure = describeProviderError(aFirst.status === "rejected" ? aFirst.reason : (bFirst as PromiseRejectedResult).reason);
      }
      if (failure !== null) {
        recordJudgeFailure(db, batch.id, failure, failedCallsCost(results, this.options.prices, batch.model));
        if (++failuresInARow >= JUDGE_FAILURES_IN_A_ROW) return end("failed", `${failuresInARow} pairs in a row could not be judged: ${failure}`);
      }
    }
  }
}
