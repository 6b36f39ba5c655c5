// An engine thread (DESIGN §4): training and statistics never block a request. Pure computation: the
// app sends features and the vote history and gets back pairs, estimates and statistics; it never
// touches SQLite. One thread hosts many studies (keyed by studyId, see protocol.ts) in two roles: a
// study's selection state (init/addArms/select) and its statistics state (stats), which the app may
// place on different threads. `unload` forgets a study.
import { parentPort, workerData } from "node:worker_threads";
import { computeLeaderboard } from "../../bandit/leaderboard";
import type { Duel } from "../../bandit/policy";
import { deriveSeed, mulberry32 } from "../../bandit/random";
import { ServedEngine } from "../../bandit/served";
import { evaluateStoppingRule } from "../../bandit/stopping-rule";
import type { FromWorker, ToWorker } from "./protocol";
import { applyBackgroundThreadPriority, type BackgroundThreadPriority } from "~/utils/thread-priority.server";

// The fewest pairs a selection proposes before its time budget may end the batch (a few ms each at 1,000 prompts):
// on a busy machine the budget could end a batch at one pair, and one pair is often the duel an annotator just
// answered (not served twice in a row), so the pair would be the random fallback instead of the engine's next choice.
const MIN_PROPOSALS = 3;
const port = parentPort;
if (!port) throw new Error("engine.worker must run in a worker thread");

// Requests first: on Linux a thread's nice value is its own (setpriority(2), "Bugs"), so this thread
// yields the CPU to the request thread whenever both want it and still uses an idle core fully.
applyBackgroundThreadPriority((workerData as { priority: BackgroundThreadPriority }).priority, "engine");

// Each study's selection role: what a study serves (bandit/served.ts, the same code the simulator
// scores as `app`).
const selectionStudies = new Map<number, ServedEngine>();
// Each study's vote history on the statistics side, appended to by every stats message.
const statsHistories = new Map<number, Duel[]>();

function post(message: FromWorker) {
  port!.postMessage(message);
}

/**
 * Bootstrap refits for the leaderboard: 200 on studies of up to 100 prompts; large pools get 50,
 * because each refit costs O(iterations x (pairs + arms)).
 */
function bootstrapSamples(arms: number): number {
  return arms <= 100 ? 200 : 50;
}

function selectionStudy(studyId: number, type: string): ServedEngine {
  const engine = selectionStudies.get(studyId);
  if (!engine) throw new Error(`engine.worker: ${type} for study ${studyId} before init`);
  return engine;
}

function handle(message: ToWorker) {
  switch (message.type) {
    case "init": {
      selectionStudies.set(
        message.studyId,
        new ServedEngine(message.features, {
          policy: message.policy,
          seed: message.seed,
          inSelection: message.inSelection,
          resume: message.resume,
          ...(message.voteModel ? { voteModel: message.voteModel } : {}),
        }),
      );
      return;
    }
    case "addArms": {
      selectionStudy(message.studyId, "addArms").addArms(message.features, message.inSelection);
      return;
    }
    case "setInSelection": {
      selectionStudy(message.studyId, "setInSelection").setInSelection(message.inSelection);
      return;
    }
    case "setVoteModel": {
      selectionStudy(message.studyId, "setVoteModel").setVoteModel(message.voteModel);
      return;
    }
    case "select": {
      const engine = selectionStudy(message.studyId, "select");
      const started = performance.now();
      // Refits only on new votes or arms, so asking again (new pending pairs) never moves the estimates.
      engine.refit(message.newDuels);
      const selectionStarted = performance.now();
      // The time budget is the one difference from the simulator, which caps batches by count only.
      const minPairs = Math.max(MIN_PROPOSALS, message.minPairs);
      const pairs = engine.propose({
        pending: message.pending,
        batchSize: message.batchSize,
        stop: (picked) => picked >= minPairs && performance.now() - selectionStarted > message.budgetMs,
      });
      const { recommended, utilities, uncertainties, recommendationScores } = engine.estimates();
      post({
        type: "selection",
        studyId: message.studyId,
        requestId: message.requestId,
        voteCount: engine.votes().length,
        pairs,
        recommended,
        utilities,
        uncertainties,
        recommendationScores,
        fitMs: selectionStarted - started,
        selectMs: performance.now() - selectionStarted,
        interim: message.interim,
      });
      return;
    }
    case "stats": {
      const started = performance.now();
      let history = statsHistories.get(message.studyId);
      if (!history) statsHistories.set(message.studyId, (history = []));
      history.push(...message.newDuels);
      const random = mulberry32(deriveSeed(message.seed, history.length));
      const leaderboard = computeLeaderboard(message.armCount, history, { random, samples: bootstrapSamples(message.armCount) });
      const decision = evaluateStoppingRule(message.armCount, history, message.recommended);
      post({
        type: "statistics",
        studyId: message.studyId,
        requestId: message.requestId,
        voteCount: history.length,
        arms: leaderboard.rows.map(({ arm, score, lower, upper, probabilityBest, wins, losses, ties }) => ({
          arm,
          score,
          lower,
          upper,
          probabilityBest,
          comparisons: wins + losses + ties,
        })),
        leftWinRate: leaderboard.leftSide.rate,
        converged: decision.converged,
        votesStillNeeded: decision.votesStillNeeded,
        statsMs: performance.now() - started,
      });
      return;
    }
    case "unload": {
      const engine = selectionStudies.get(message.studyId);
      selectionStudies.delete(message.studyId);
      statsHistories.delete(message.studyId);
      if (!message.save) return;
      post({ type: "unloaded", studyId: message.studyId, saved: engine?.saveState() ?? null });
      return;
    }
  }
}

port.on("message", (message: ToWorker) => {
  try {
    handle(message);
  } catch (error) {
    post({ type: "error", studyId: message.studyId, message: error instanceof Error ? error.message : String(error) });
  }
});
