import type { IncomingMessage } from "node:http";

/** A body that outgrows its cap: after the 413, up to this much more is read and dropped so the client can read the answer. */
const DRAIN_BYTES = 8 * 1024 * 1024;

export type BodyRead = { body: Uint8Array<ArrayBuffer> } | { tooLarge: true } | { aborted: true };

/**
 * Reads a request body into memory, at most `maxBytes`. A larger declared Content-Length is refused at
 * once; a body that outgrows the cap while streaming is refused when it does. Either way nothing more
 * is kept: the rest is read and dropped, up to DRAIN_BYTES past the cap (so a client still sending
 * can read the 413 rather than meet a reset), then the connection is cut. Memory stays flat whatever
 * the client sends.
 */
export function readRequestBody(req: IncomingMessage, maxBytes: number): Promise<BodyRead> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (result: BodyRead) => {
      if (settled) return;
      settled = true;
      chunks.length = 0;
      resolve(result);
    };
    if (declaredLength(req) > maxBytes) settle({ tooLarge: true });
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes + DRAIN_BYTES) req.destroy();
      else if (settled) return;
      else if (size <= maxBytes) chunks.push(chunk);
      else settle({ tooLarge: true });
    });
    req.on("end", () => {
      if (settled) return;
      const body = Buffer.concat(chunks, size);
      settle({ body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) });
    });
    req.on("error", () => settle({ aborted: true }));
    req.on("close", () => settle({ aborted: true }));
  });
}

/** The Content-Length the client declared (0 when absent or chunked). */
export function declaredLength(req: IncomingMessage): number {
  const header = req.headers["content-length"];
  return header === undefined ? 0 : Number(header);
}
