import os from "node:os";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";

// The premise of lowerThisThreadPriority (thread-priority.server.ts): on Linux, os.setPriority without a
// pid, called on a worker thread, makes that thread nicer and leaves the process's main thread as it was.

describe.runIf(process.platform === "linux")("a thread's own priority", () => {
  it("makes the calling thread nicer and leaves the main thread as it was", async () => {
    const before = os.getPriority();
    const source = `
      const { parentPort } = require("node:worker_threads");
      const os = require("node:os");
      os.setPriority(Math.min(19, os.getPriority() + 10));
      parentPort.postMessage(os.getPriority());
    `;
    const worker = new Worker(source, { eval: true });
    const workerNice = await new Promise<number>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    await worker.terminate();
    expect(workerNice).toBe(Math.min(19, before + 10));
    expect(os.getPriority()).toBe(before);
  });
});
