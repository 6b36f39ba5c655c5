import path from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { eq } from "drizzle-orm";
import { reliabilityFits, type ReliabilityFitResult } from "../../db/schema";
import { connection, db } from "~/db.server";
import { env } from "~/env.server";
import { repoRoot } from "~/utils/repo-root.server";
import { RELIABILITY_MAX_VOTES } from "./reliability-fit.server";

// Where the reliability fit runs (issue 18; ADR 0041): never on a request. After each engine snapshot's commit (and when
// a page finds the cached fit older than the study's votes) a fit is scheduled; one thread fits one study at a time, a
// study asked for again while it is fitted is fitted once more afterwards (coalesced), and a study waits twice its
// previous fit's time between fits, so on a big study (seconds a fit) the thread works at most a third of the time.
// Each result replaces the study's reliability_fits row in one short write.

export type ToReliabilityThread = { studyId: number; databasePath: string; maxVotes: number };
export type FromReliabilityThread =
  { studyId: number; lastVoteId: number; fit: ReliabilityFitResult | null; fitMs: number } | { studyId: number; error: string };

const MIN_GAP_MS = 250;

// Who hears of a stored fit after its commit, by name (a module evaluated again replaces its listener): the engine
// pool, which hands the new scales to the study's engine (docs/decisions/0044).
const storedListeners = new Map<string, (studyId: number) => void>();

/** Calls `listener` with the study's id after each fit of it is stored (or dropped), after the commit. */
export function onReliabilityFitStored(name: string, listener: (studyId: number) => void): void {
  storedListeners.set(name, listener);
}

interface Scheduler {
  thread: Worker | null;
  /** The study being fitted, and the studies waiting (in order) with when each may start. */
  running: number | null;
  queue: number[];
  again: Set<number>;
  notBefore: Map<number, number>;
  timer: NodeJS.Timeout | null;
  idleWaiters: (() => void)[];
}

const scheduler: Scheduler = { thread: null, running: null, queue: [], again: new Set(), notBefore: new Map(), timer: null, idleWaiters: [] };

function reliabilityThread(): Worker {
  if (scheduler.thread) return scheduler.thread;
  const worker = new Worker(path.join(repoRoot(), "app/engine/worker-bootstrap.mjs"), {
    workerData: {
      entry: pathToFileURL(path.join(repoRoot(), "app/models/reliability-fit.worker.ts")).href,
      priority: env().BACKGROUND_THREAD_PRIORITY,
    },
  });
  worker.unref();
  worker.on("message", (message: FromReliabilityThread) => finished(message));
  const lost = (error: Error) => {
    if (scheduler.thread !== worker) return;
    scheduler.thread = null;
    const studyId = scheduler.running;
    if (studyId !== null) finished({ studyId, error: error.message });
  };
  worker.on("error", lost);
  worker.on("exit", (code) => lost(new Error(`the reliability thread exited with code ${code}`)));
  scheduler.thread = worker;
  return worker;
}

const maxVotesOf = new Map<number, number>();

/**
 * Asks for a fresh fit of the study's reliabilities on the reliability thread, over its latest `maxVotes` counted votes
 * (RELIABILITY_MAX_VOTES; tests ask for fewer); returns at once.
 */
export function scheduleReliabilityFit(studyId: number, maxVotes = RELIABILITY_MAX_VOTES): void {
  maxVotesOf.set(studyId, maxVotes);
  if (scheduler.running === studyId) scheduler.again.add(studyId);
  else if (!scheduler.queue.includes(studyId)) scheduler.queue.push(studyId);
  pump();
}

function pump() {
  if (scheduler.running !== null || scheduler.queue.length === 0) return settle();
  const now = Date.now();
  const ready = scheduler.queue.findIndex((studyId) => (scheduler.notBefore.get(studyId) ?? 0) <= now);
  if (ready < 0) {
    const next = Math.min(...scheduler.queue.map((studyId) => scheduler.notBefore.get(studyId) ?? 0));
    if (!scheduler.timer) {
      scheduler.timer = setTimeout(() => {
        scheduler.timer = null;
        pump();
      }, next - now);
      scheduler.timer.unref();
    }
    return;
  }
  const [studyId] = scheduler.queue.splice(ready, 1);
  scheduler.running = studyId!;
  reliabilityThread().postMessage({
    studyId: studyId!,
    databasePath: connection().path,
    maxVotes: maxVotesOf.get(studyId!) ?? RELIABILITY_MAX_VOTES,
  } satisfies ToReliabilityThread);
}

function finished(message: FromReliabilityThread) {
  if (scheduler.running !== message.studyId) return;
  scheduler.running = null;
  if ("error" in message) {
    console.error(`study ${message.studyId}: the reliability fit failed: ${message.error}`);
  } else {
    scheduler.notBefore.set(message.studyId, Date.now() + Math.max(MIN_GAP_MS, 2 * message.fitMs));
    try {
      storeFit(message.studyId, message.lastVoteId, message.fit, message.fitMs);
      for (const listener of storedListeners.values()) listener(message.studyId);
    } catch (error) {
      // A write lock held past busy_timeout (a job's commit): the fit is asked for again, as a later snapshot would.
      // A study deleted while it was fitted fails the foreign key: nothing to store.
      const code = String((error as { code?: unknown } | null)?.code ?? "");
      const busy = code === "SQLITE_BUSY";
      if (code === "SQLITE_CONSTRAINT_FOREIGNKEY") return pump();
      (busy ? console.warn : console.error)(`study ${message.studyId}: the reliability fit was not stored:`, error);
      if (busy) scheduler.again.add(message.studyId);
    }
  }
  if (scheduler.again.delete(message.studyId) && !scheduler.queue.includes(message.studyId)) scheduler.queue.push(message.studyId);
  pump();
}

/** Replaces the study's cached fit (or drops it when the study has no counted vote left). One short transaction. */
function storeFit(studyId: number, lastVoteId: number, fit: ReliabilityFitResult | null, fitMs: number) {
  db().transaction((tx) => {
    if (!fit) {
      tx.delete(reliabilityFits).where(eq(reliabilityFits.studyId, studyId)).run();
      return;
    }
    tx.insert(reliabilityFits)
      .values({ studyId, lastVoteId, fit, fitMs, createdAt: new Date() })
      .onConflictDoUpdate({ target: reliabilityFits.studyId, set: { lastVoteId, fit, fitMs, createdAt: new Date() } })
      .run();
  });
}

function settle() {
  if (scheduler.running === null && scheduler.queue.length === 0) for (const resolve of scheduler.idleWaiters.splice(0)) resolve();
}

/** Resolves once no fit is running or waiting (tests; the test hook). */
export function whenReliabilityFitsIdle(): Promise<void> {
  if (scheduler.running === null && scheduler.queue.length === 0) return Promise.resolve();
  return new Promise((resolve) => scheduler.idleWaiters.push(resolve));
}

/** Stops the reliability thread and forgets what was waiting (tests; shutdown). */
export async function stopReliabilityThread(): Promise<void> {
  const worker = scheduler.thread;
  scheduler.thread = null;
  scheduler.running = null;
  scheduler.queue.length = 0;
  scheduler.again.clear();
  scheduler.notBefore.clear();
  if (scheduler.timer) clearTimeout(scheduler.timer);
  scheduler.timer = null;
  settle();
  await worker?.terminate();
}
