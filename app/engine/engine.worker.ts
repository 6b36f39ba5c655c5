// An engine thread (DESIGN §4): training and statistics never block a request. Pure computation: the
// app sends features and the vote history and gets back pairs, estimates and statistics; it never
// touches SQLite. One thread hosts many studies (keyed by studyId, see protocol.ts) in two roles: a
// study's selection state (init/addArms/select) and its statistics state (stats), which the app may
// place on different threads. `unload` forgets a study.
import os from "node:os";
import { parentPort } from "node:worker_threads";
import { withCoverage } from "../../bandit/coverage";
import { computeLeaderboard } from "../../bandit/leaderboard";
import { createPolicy, type Duel, type DuelingPolicy } from "../../bandit/policy";
import { deriveSeed, mulberry32 } from "../../bandit/random";
import { evaluateStoppingRule } from "../../bandit/stopping-rule";
import type { FromWorker, ToWorker } from "./protocol";

const port = parentPort;
if (!port) throw new Error("engine.worker must run in a worker thread");

// Requests first: on Linux a thread's nice value is its own (setpriority(2), "Bugs"), so this thread
// yields the CPU to the request thread whenever both want it and still uses an idle core fully.
// Elsewhere the call would lower the whole server process, so it is Linux only. 19, the lowest:
// measured with bench:server, 10 still let the engine delay requests now and then.
const ENGINE_THREAD_NICE = 19;
if (process.platform === "linux") os.setPriority(ENGINE_THREAD_NICE);

interface SelectionStudy {
  policy: DuelingPolicy;
  armCount: number;
  seed: number;
  history: Duel[];
  // History length and arm count of the last fit: a select with neither grown reuses that fit, so
  // asking again (new pending pairs) never moves the estimates, and a resumed engine stays exact.
  fittedVotes: number;
  fittedArms: number;
}

const selectionStudies = new Map<number, SelectionStudy>();
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

function selectionStudy(studyId: number, type: string): SelectionStudy {
  const study = selectionStudies.get(studyId);
  if (!study) throw new Error(`engine.worker: ${type} for study ${studyId} before init`);
  return study;
}

function handle(message: ToWorker) {
  switch (message.type) {
    case "init": {
      // Every prompt is shown before the policy alone decides (bandit/coverage.ts; ADR 0005).
      const build = () => withCoverage(createPolicy(message.policy, { features: message.features, random: mulberry32(deriveSeed(message.seed, 0)) }));
      let policy = build();
      const history = message.resume ? [...message.resume.history] : [];
      let resumed = false;
      if (message.resume && policy.restoreState) {
        try {
          policy.restoreState(message.resume.state, history);
          resumed = true;
        } catch {
          // A state saved by another version of the policy: learn again from the votes instead.
          policy = build();
        }
      }
      const armCount = message.features.length;
      selectionStudies.set(message.studyId, {
        policy,
        armCount,
        seed: message.seed,
        history,
        fittedVotes: resumed ? history.length : -1,
        fittedArms: armCount,
      });
      return;
    }
    case "addArms": {
      const study = selectionStudy(message.studyId, "addArms");
      study.policy.addArms(message.features);
      study.armCount += message.features.length;
      return;
    }
    case "select": {
      const study = selectionStudy(message.studyId, "select");
      const { policy, history } = study;
      const started = performance.now();
      history.push(...message.newDuels);
      if (history.length !== study.fittedVotes || study.armCount !== study.fittedArms) {
        policy.fit(history);
        study.fittedVotes = history.length;
        study.fittedArms = study.armCount;
      }
      const selectionStarted = performance.now();
      // One stream per (study, vote count): the pairs depend on the votes and the pending pairs only,
      // so an engine resumed after a stop proposes what the one that never stopped would have.
      const random = mulberry32(deriveSeed(study.seed, 1, history.length));
      const pending = [...message.pending];
      const pairs: [number, number][] = [];
      const distinctPairs = (study.armCount * (study.armCount - 1)) / 2;
      while (pairs.length < Math.min(message.batchSize, distinctPairs)) {
        const pair = policy.selectPair({ pending, random });
        pairs.push(pair);
        pending.push(pair);
        if (performance.now() - selectionStarted > message.budgetMs) break;
      }
      post({
        type: "selection",
        studyId: message.studyId,
        requestId: message.requestId,
        voteCount: history.length,
        pairs,
        recommended: policy.recommend(),
        utilities: policy.utilities(),
        uncertainties: policy.uncertainties(),
        fitMs: selectionStarted - started,
        selectMs: performance.now() - selectionStarted,
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
        arms: leaderboard.rows.map(({ arm, score, lower, upper, probabilityBest }) => ({ arm, score, lower, upper, probabilityBest })),
        leftWinRate: leaderboard.leftSide.rate,
        converged: decision.converged,
        votesStillNeeded: decision.votesStillNeeded,
        statsMs: performance.now() - started,
      });
      return;
    }
    case "unload": {
      const study = selectionStudies.get(message.studyId);
      selectionStudies.delete(message.studyId);
      statsHistories.delete(message.studyId);
      if (!message.save) return;
      const saveable = study && study.fittedVotes === study.history.length && study.fittedArms === study.armCount && study.policy.saveState;
      post({
        type: "unloaded",
        studyId: message.studyId,
        saved: saveable ? { state: study.policy.saveState!(), voteCount: study.history.length, armCount: study.armCount } : null,
      });
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
