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
 * A pull-based byte stream over `lines`: the next chunk is produced only when the consumer (the HTTP
 * response) asks for it. Each pull first yields to the event loop, so a long export shares the
 * server with votes instead of running to the end in one go (the Express adapter reads the stream in
 * a tight loop). That adapter does not wait for the socket to drain, so a slow client still lets the
 * response buffer grow.
 * `onFinish` runs once, when the lines are exhausted, fail, or the client goes away.
 */
export function readableStreamOf(lines: Iterable<string>, onFinish: () => void): ReadableStream<Uint8Array> {
  const chunks = inChunks(lines);
  const encoder = new TextEncoder();
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    onFinish();
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        await new Promise((resolve) => setImmediate(resolve));
        if (finished) return;
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
        // Closes the open statement before the connection goes.
        chunks.return();
        finish();
      },
    },
    { highWaterMark: 1 },
  );
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
