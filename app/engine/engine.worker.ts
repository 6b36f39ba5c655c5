// One study's engine, in a worker thread so that training never blocks a request (DESIGN §4).
// Pure computation: the app sends features and the vote history, the worker answers with the
// next pairs, the estimates and (less often) the leaderboard statistics. It never touches SQLite.
import { parentPort } from "node:worker_threads";
import { withCoverage } from "../../bandit/coverage";
import { computeLeaderboard } from "../../bandit/leaderboard";
import { createPolicy, type DuelingPolicy } from "../../bandit/policy";
import { deriveSeed, mulberry32, type RandomSource } from "../../bandit/random";
import { evaluateStoppingRule } from "../../bandit/stopping-rule";
import type { FromWorker, ToWorker } from "./protocol";

const port = parentPort;
if (!port) throw new Error("engine.worker must run in a worker thread");

let policy: DuelingPolicy | null = null;
let armCount = 0;
let selectionRandom: RandomSource = mulberry32(1);
let statsRandom: RandomSource = mulberry32(2);

function post(message: FromWorker) {
  port!.postMessage(message);
}

function handle(message: ToWorker) {
  switch (message.type) {
    case "init": {
      // Every prompt is shown before the policy alone decides (bandit/coverage.ts; ADR 0005).
      policy = withCoverage(createPolicy(message.policy, { features: message.features, random: mulberry32(deriveSeed(message.seed, 0)) }));
      armCount = message.features.length;
      selectionRandom = mulberry32(deriveSeed(message.seed, 1));
      statsRandom = mulberry32(deriveSeed(message.seed, 2));
      return;
    }
    case "addArms": {
      if (!policy) throw new Error("engine.worker: addArms before init");
      policy.addArms(message.features);
      armCount += message.features.length;
      return;
    }
    case "update": {
      if (!policy) throw new Error("engine.worker: update before init");
      const started = performance.now();
      policy.fit(message.history);
      const pending = [...message.pending];
      const pairs: [number, number][] = [];
      const distinctPairs = (armCount * (armCount - 1)) / 2;
      for (let k = 0; k < Math.min(message.batchSize, distinctPairs); k++) {
        const pair = policy.selectPair({ pending, random: selectionRandom });
        pairs.push(pair);
        pending.push(pair);
      }
      const recommended = policy.recommend();
      const utilities = policy.utilities();
      const uncertainties = policy.uncertainties();
      post({
        type: "selection",
        requestId: message.requestId,
        voteCount: message.history.length,
        pairs,
        recommended,
        utilities,
        uncertainties,
        fitMs: performance.now() - started,
      });
      if (!message.withLeaderboard) return;
      const statsStarted = performance.now();
      const leaderboard = computeLeaderboard(armCount, message.history, { random: statsRandom, samples: 200 });
      const decision = evaluateStoppingRule(armCount, message.history, recommended);
      post({
        type: "leaderboard",
        requestId: message.requestId,
        voteCount: message.history.length,
        arms: leaderboard.rows.map(({ arm, score, lower, upper, probabilityBest }) => ({ arm, score, lower, upper, probabilityBest })),
        leftWinRate: leaderboard.leftSide.rate,
        converged: decision.converged,
        votesStillNeeded: decision.votesStillNeeded,
        statsMs: performance.now() - statsStarted,
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
