import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { afterAll, describe, expect, it } from "vitest";
import { normaliseInPlace } from "../../bandit/features";
import type { Duel } from "../../bandit/policy";
import { mulberry32, standardNormal } from "../../bandit/random";
import type { Scenario } from "../../bandit/scenario";
import { ServedEngine, type Pair } from "../../bandit/served";
import { appEngineSeed, simulateTrial } from "../../bandit/simulate";
import type { FromWorker, SelectionState, ToWorker, UnloadedState } from "./protocol";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The app's selection worker, started exactly as worker-pool.server.ts starts it. */
function startWorker() {
  const worker = new Worker(path.join(root, "app/engine/worker-bootstrap.mjs"), {
    workerData: { entry: pathToFileURL(path.join(root, "app/engine/engine.worker.ts")).href },
  });
  const waiting: ((message: FromWorker) => void)[] = [];
  worker.on("message", (message: FromWorker) => waiting.shift()?.(message));
  return {
    worker,
    post: (message: ToWorker) => worker.postMessage(message),
    next: () => new Promise<FromWorker>((resolve) => waiting.push(resolve)),
  };
}

function syntheticScenario(arms: number, dimension: number, seed: number): Scenario {
  const random = mulberry32(seed);
  const features = Array.from({ length: arms }, () => normaliseInPlace(Float64Array.from({ length: dimension }, () => standardNormal(random))));
  return { name: "synthetic", utility: Float64Array.from(features, (x) => x[0]! + 0.5 * x[1]! ** 2), features, featureSource: "synthetic" };
}

const workers: Worker[] = [];
afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.terminate()));
});

describe("engine.worker", () => {
  it("proposes exactly the pairs the simulator's `app` serves, for the same votes and pending pairs, across a stop and resume", async () => {
    // Three annotators at once, so the updates carry pending pairs, votes come back out of order, and the
    // coverage phase hands over to the policy within the 40 votes.
    const scenario = syntheticScenario(24, 6, 3);
    const updates: { newDuels: readonly Duel[]; pending: Pair[]; batchSize: number; pairs: Pair[] }[] = [];
    const options = {
      policy: "app" as const,
      trials: 1,
      votes: 40,
      scale: 3,
      seed: 9,
      annotators: 3,
      onEngineUpdate: (update: (typeof updates)[number]) => updates.push(update),
    };
    const trial = simulateTrial(scenario, options, 0);
    expect(trial.chosenPairs).toBe(35);
    expect(updates.length).toBeGreaterThan(70);
    expect(updates.some((update) => update.pending.length > 1)).toBe(true);

    const { worker, post, next } = startWorker();
    workers.push(worker);
    const studyId = 7;
    const init = {
      type: "init",
      studyId,
      policy: "default",
      seed: appEngineSeed(options.seed, 0),
      features: scenario.features,
      inSelection: new Uint8Array(scenario.features.length).fill(1),
    } as const;
    post(init);
    const fed: Duel[] = [];
    const stopAt = Math.floor(updates.length / 2);
    for (const [k, update] of updates.entries()) {
      if (k === stopAt) {
        // The pool stops the engine here (its state saved) and later resumes it on a thread: nothing may change.
        post({ type: "unload", studyId, save: true });
        const unloaded = await next();
        expect(unloaded.type).toBe("unloaded");
        const saved = (unloaded as UnloadedState).saved!;
        expect(saved).toMatchObject({ voteCount: fed.length, armCount: scenario.features.length });
        post({ ...init, resume: { state: saved.state, history: fed.slice(0, saved.voteCount) } });
      }
      fed.push(...update.newDuels);
      post({
        type: "select",
        studyId,
        requestId: k,
        newDuels: [...update.newDuels],
        pending: update.pending,
        batchSize: update.batchSize,
        budgetMs: 1e9,
        minPairs: 0,
        interim: false,
      });
      const reply = await next();
      expect(reply.type).toBe("selection");
      expect((reply as SelectionState).pairs).toEqual(update.pairs);
    }
    const final = (await (async () => {
      post({ type: "select", studyId, requestId: -1, newDuels: [], pending: [], batchSize: 1, budgetMs: 1e9, minPairs: 0, interim: false });
      return next();
    })()) as SelectionState;
    expect(final.voteCount).toBe(40);
  });

  it("proposes at least minPairs pairs past its time budget, and echoes an interim request", async () => {
    const scenario = syntheticScenario(12, 4, 5);
    const random = mulberry32(21);
    const history: Duel[] = Array.from({ length: 20 }, () => {
      const a = Math.floor(random() * 12);
      const b = (a + 1 + Math.floor(random() * 11)) % 12;
      return { a, b, outcome: scenario.utility[a]! > scenario.utility[b]! ? 1 : 0 };
    });
    const pending: Pair[] = [
      [0, 1],
      [2, 3],
    ];
    // The same engine in process: a batch is picked pair by pair, so a shorter one is a prefix of a longer one.
    const expected = new ServedEngine(scenario.features, { policy: "default", seed: 11 });
    expected.refit(history);
    const full = expected.propose({ pending, batchSize: 10 });
    expect(full).toHaveLength(10);

    const { worker, post, next } = startWorker();
    workers.push(worker);
    const studyId = 3;
    post({ type: "init", studyId, policy: "default", seed: 11, features: scenario.features, inSelection: new Uint8Array(12).fill(1) });
    // A budget already spent: the batch ends as soon as it may, at the floor of 3 pairs...
    post({ type: "select", studyId, requestId: 1, newDuels: history, pending, batchSize: 10, budgetMs: -1, minPairs: 0, interim: false });
    expect(await next()).toMatchObject({ type: "selection", interim: false, voteCount: 20, pairs: full.slice(0, 3) });
    // ...or at minPairs; without new votes the thread does not refit, so the pairs are the same fit's.
    post({ type: "select", studyId, requestId: 2, newDuels: [], pending, batchSize: 10, budgetMs: -1, minPairs: 7, interim: true });
    expect(await next()).toMatchObject({
      type: "selection",
      requestId: 2,
      interim: true,
      voteCount: 20,
      fitMs: expect.any(Number),
      pairs: full.slice(0, 7),
    });
  });
});
