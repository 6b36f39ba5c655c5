// A study's engine thread (DESIGN §4): training and statistics never block a request. Pure
// computation: the app sends features and the vote history and gets back pairs, estimates and
// statistics. It never touches SQLite. One script, two roles (see protocol.ts): a selection worker
// receives init/addArms/select, a statistics worker receives stats.
import os from "node:os";
import { parentPort } from "node:worker_threads";
import { withCoverage } from "../../bandit/coverage";
import { computeLeaderboard } from "../../bandit/leaderboard";
import { createPolicy, type Duel, type DuelingPolicy } from "../../bandit/policy";
import { deriveSeed, mulberry32, type RandomSource } from "../../bandit/random";
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

let policy: DuelingPolicy | null = null;
let armCount = 0;
let selectionRandom: RandomSource = mulberry32(1);
// The vote history, appended to by every select/stats message (one worker plays one role).
const history: Duel[] = [];

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

function handle(message: ToWorker) {
  switch (message.type) {
    case "init": {
      // Every prompt is shown before the policy alone decides (bandit/coverage.ts; ADR 0005).
      policy = withCoverage(createPolicy(message.policy, { features: message.features, random: mulberry32(deriveSeed(message.seed, 0)) }));
      armCount = message.features.length;
      selectionRandom = mulberry32(deriveSeed(message.seed, 1));
      return;
    }
    case "addArms": {
      if (!policy) throw new Error("engine.worker: addArms before init");
      policy.addArms(message.features);
      armCount += message.features.length;
      return;
    }
    case "select": {
      if (!policy) throw new Error("engine.worker: select before init");
      const started = performance.now();
      if (message.resetHistory) history.length = 0;
      history.push(...message.newDuels);
      policy.fit(history);
      const selectionStarted = performance.now();
      const pending = [...message.pending];
      const pairs: [number, number][] = [];
      const distinctPairs = (armCount * (armCount - 1)) / 2;
      while (pairs.length < Math.min(message.batchSize, distinctPairs)) {
        const pair = policy.selectPair({ pending, random: selectionRandom });
        pairs.push(pair);
        pending.push(pair);
        if (performance.now() - selectionStarted > message.budgetMs) break;
      }
      post({
        type: "selection",
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
      if (message.resetHistory) history.length = 0;
      history.push(...message.newDuels);
      const random = mulberry32(deriveSeed(message.seed, history.length));
      const leaderboard = computeLeaderboard(message.armCount, history, { random, samples: bootstrapSamples(message.armCount) });
      const decision = evaluateStoppingRule(message.armCount, history, message.recommended);
      post({
        type: "statistics",
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
  }
}

port.on("message", (message: ToWorker) => {
  try {
    handle(message);
  } catch (error) {
    post({ type: "error", message: error instanceof Error ? error.message : String(error) });
  }
});
