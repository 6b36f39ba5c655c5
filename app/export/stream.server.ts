import { once } from "node:events";
import fs from "node:fs";
import type { Writable } from "node:stream";

/** About 64 KiB of text per chunk: few enough writes to be fast, small enough to keep memory flat. */
const CHUNK_CHARACTERS = 64 * 1024;

/**
 * Joins lines into chunks of about `chunkCharacters` characters. Chunking changes how bytes are
 * grouped for writing, never the bytes themselves.
 */
export function* inChunks(lines: Iterable<string>, chunkCharacters = CHUNK_CHARACTERS): Generator<string, void, undefined> {
  let buffer: string[] = [];
  let size = 0;
  for (const line of lines) {
    buffer.push(line);
    size += line.length;
    if (size >= chunkCharacters) {
      yield buffer.join("");
      buffer = [];
      size = 0;
    }
  }
  if (buffer.length > 0) yield buffer.join("");
}

/**
 * How the HTTP layer lets a streamed body wait for its client (server.js passes it to loaders as
 * load context, see response-flow.server.ts): `drained` resolves once the response can take more
 * without buffering (at once when it can), or when the client is gone.
 */
export interface ResponseFlow {
  drained(): Promise<void>;
}

/** A client that takes nothing for this long is dropped, so a stalled download cannot pin its database snapshot forever. */
export const STALLED_CLIENT_MS = 60_000;

/**
 * A pull-based byte stream over `lines`: the next chunk is produced only when the consumer (the HTTP
 * response) asks for it and, with a `flow`, only once the response's buffer has drained, so a client
 * that reads slowly or not at all holds about one chunk in memory, not the file (the Express adapter
 * writes whatever it is given without waiting for the socket). Each pull first yields to the event
 * loop, so a long export shares the server with votes. When `signal` aborts (the client went away)
 * or the client stalls for STALLED_CLIENT_MS, the lines are closed at once: the open statement and
 * the connection behind it are released, not read to the end.
 * `onFinish` runs once, when the lines are exhausted, fail, or the client goes away.
 */
export function readableStreamOf(
  lines: Iterable<string>,
  onFinish: () => void,
  options: { flow?: ResponseFlow; signal?: AbortSignal; stalledClientMs?: number } = {},
): ReadableStream<Uint8Array> {
  const chunks = inChunks(lines);
  const encoder = new TextEncoder();
  const stalledClientMs = options.stalledClientMs ?? STALLED_CLIENT_MS;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    // Closes the open statement before the connection goes.
    chunks.return();
    onFinish();
  };
  options.signal?.addEventListener("abort", finish, { once: true });
  if (options.signal?.aborted) finish();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        await new Promise((resolve) => setImmediate(resolve));
        if (options.flow && !finished && !(await drainedWithin(options.flow, stalledClientMs))) {
          finish();
          controller.error(new Error(`the client took nothing for ${stalledClientMs / 1000} s`));
          return;
        }
        if (finished) {
          controller.close();
          return;
        }
        try {
          const next = chunks.next();
          if (next.done) {
            finish();
            controller.close();
          } else {
            controller.enqueue(encoder.encode(next.value));
          }
        } catch (error) {
          finish();
          controller.error(error);
        }
      },
      cancel() {
        finish();
      },
    },
    { highWaterMark: 1 },
  );
}

/** True once `flow` has drained, false if it did not within `ms`. */
async function drainedWithin(flow: ResponseFlow, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([flow.drained().then(() => true as const), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** Writes `lines` to `output` in chunks, waiting for 'drain' whenever the stream's buffer is full. */
export async function writeLines(lines: Iterable<string>, output: Writable): Promise<void> {
  for (const chunk of inChunks(lines)) {
    if (!output.write(chunk)) await once(output, "drain");
  }
}

/**
 * Writes `lines` to `filePath` through `<filePath>.partial`, renamed into place only once complete, so
 * a failed export never leaves a truncated file that looks finished.
 */
export async function writeLinesToFile(lines: Iterable<string>, filePath: string): Promise<void> {
  const partial = `${filePath}.partial`;
  const output = fs.createWriteStream(partial);
  try {
    await writeLines(lines, output);
    output.end();
    await once(output, "finish");
  } catch (error) {
    output.destroy();
    fs.rmSync(partial, { force: true });
    throw error;
  }
  fs.renameSync(partial, filePath);
}
