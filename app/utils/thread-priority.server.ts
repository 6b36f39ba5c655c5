import os from "node:os";

// Background threads (engine threads, the job thread, the form parse thread) give way to the request
// thread for the CPU (ADR 0036): on a loaded 2-core machine the job's parsing and checking of a 73 MB log
// competed with requests as an equal, and the engine delayed requests now and then. On Linux the nice
// value belongs to each thread, and os.setPriority without a pid sets the calling thread's; elsewhere it
// may set the process's, so it is only changed where that is per thread.
//
// BACKGROUND_THREAD_PRIORITY=normal keeps them at the process's priority. The test suites use it: a
// thread at nice 19 gets about 1.5 % of a core against one busy process at nice 0, so on a loaded
// machine a test waiting for the engine would wait for the load, not for the code.

export type BackgroundThreadPriority = "low" | "normal";

/** How much nicer than the process each kind of background thread runs at "low" (capped at 19). */
export const BACKGROUND_NICE_INCREMENT = {
  // 19, the lowest: measured with bench:server, 10 still let the engine delay requests now and then.
  engine: 19,
  // Jobs and form parsing: 10, so they still progress beside a busy engine.
  job: 10,
} as const;

/** Lowers the calling thread's CPU priority for its kind at "low" (Linux only); returns its nice value. */
export function applyBackgroundThreadPriority(priority: BackgroundThreadPriority, kind: keyof typeof BACKGROUND_NICE_INCREMENT): number {
  if (priority === "normal" || process.platform !== "linux") return os.getPriority();
  try {
    os.setPriority(Math.min(19, os.getPriority() + BACKGROUND_NICE_INCREMENT[kind]));
  } catch {
    // Not permitted or not supported: the thread keeps the process's priority.
  }
  return os.getPriority();
}
