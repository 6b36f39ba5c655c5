import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./repo-root.server";
import { BACKGROUND_NICE_INCREMENT, type BackgroundThreadPriority } from "./thread-priority.server";

// applyBackgroundThreadPriority's premise: on Linux, os.setPriority without a pid, called on a worker thread,
// makes that thread nicer and leaves the process's main thread as it was.

async function niceOfThread(priority: BackgroundThreadPriority, kind: "engine" | "job"): Promise<{ returned: number; nice: number }> {
  const worker = new Worker(path.join(repoRoot(), "app/engine/worker-bootstrap.mjs"), {
    workerData: { entry: pathToFileURL(path.join(repoRoot(), "tests/fixtures/thread-priority.worker.ts")).href, priority, kind },
  });
  try {
    return await new Promise((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
  } finally {
    await worker.terminate();
  }
}

describe.runIf(process.platform === "linux")("a background thread's own priority", () => {
  it("at low, makes the calling thread nicer by its kind's increment and leaves the main thread as it was", async () => {
    const before = os.getPriority();
    for (const kind of ["engine", "job"] as const) {
      const expected = Math.min(19, before + BACKGROUND_NICE_INCREMENT[kind]);
      expect(await niceOfThread("low", kind)).toEqual({ returned: expected, nice: expected });
    }
    expect(os.getPriority()).toBe(before);
  });

  it("at normal, leaves the thread at the process's priority", async () => {
    const before = os.getPriority();
    expect(await niceOfThread("normal", "engine")).toEqual({ returned: before, nice: before });
  });
});
