import os from "node:os";

// Background threads (the job thread, the form parse thread) give way to the request thread for the
// CPU (ADR 0036): on a loaded 2-core machine the job's parsing and checking of a 73 MB log competed
// with requests as an equal. On Linux the nice value belongs to each thread, and os.setPriority
// without a pid sets the calling thread's; elsewhere it may set the process's, so it is only raised
// where that is per thread.

/** How much nicer than the process a background thread runs (capped at 19, the lowest priority). */
export const BACKGROUND_NICE_INCREMENT = 10;

/** Lowers the calling thread's CPU priority by BACKGROUND_NICE_INCREMENT (Linux only); returns its nice value. */
export function lowerThisThreadPriority(): number {
  if (process.platform !== "linux") return os.getPriority();
  try {
    os.setPriority(Math.min(19, os.getPriority() + BACKGROUND_NICE_INCREMENT));
  } catch {
    // Not permitted or not supported: the thread keeps the process's priority.
  }
  return os.getPriority();
}
