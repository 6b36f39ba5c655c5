import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { writeReadableStreamToWritable } from "@remix-run/node";
import { afterEach, describe, expect, it } from "vitest";
import { loadContext } from "~/utils/response-flow.server";
import { readableStreamOf } from "./stream.server";

// Downloads over real HTTP the way Express's Remix adapter sends them (writeReadableStreamToWritable,
// which never waits for 'drain'), with the load context server.js gives loaders (issue 14 item 6).

const LINE = `${"x".repeat(1023)}\n`;
const TOTAL_LINES = 64 * 1024; // a 64 MB file

interface Served {
  url: string;
  /** Resolves when the stream first waits for the client to drain the response. */
  heldBack: Promise<void>;
  produced: () => number;
  finished: Promise<void>;
  closed: () => boolean;
  server: http.Server;
}

async function serveDownload(withFlow: boolean): Promise<Served> {
  let produced = 0;
  let closed = false;
  let markFinished!: () => void;
  const finished = new Promise<void>((resolve) => (markFinished = resolve));
  let markHeldBack!: () => void;
  const heldBack = new Promise<void>((resolve) => (markHeldBack = resolve));
  function* lines() {
    try {
      for (let k = 0; k < TOTAL_LINES; k++) {
        produced++;
        yield LINE;
      }
    } finally {
      closed = true;
    }
  }
  const server = http.createServer((req, res) => {
    const abort = new AbortController();
    res.on("close", () => abort.abort());
    const flow = loadContext(res).responseFlow;
    const watched = {
      drained: () => {
        if (res.writableNeedDrain) markHeldBack();
        return flow.drained();
      },
    };
    const body = readableStreamOf(lines(), markFinished, withFlow ? { flow: watched, signal: abort.signal } : {});
    res.writeHead(200, { "Content-Type": "application/jsonl" });
    writeReadableStreamToWritable(body, res).catch(() => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    heldBack,
    produced: () => produced,
    finished,
    closed: () => closed,
    server,
  };
}

/** A client that sends the request, receives the headers and then never reads. */
function stalledClient(url: string): Promise<{ socket: Socket }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, (response) => {
      response.pause();
      resolve({ socket: response.socket });
    });
    request.on("error", reject);
  });
}

let server: http.Server | null = null;
afterEach(async () => {
  const running = server;
  server = null;
  if (!running) return;
  running.closeAllConnections();
  await new Promise((resolve) => running.close(resolve));
});

describe("readableStreamOf over HTTP", () => {
  it("produces about one chunk past what the sockets hold while the client reads nothing, then releases the lines when it goes away", async () => {
    const served = await serveDownload(true);
    server = served.server;
    const client = await stalledClient(served.url);
    await served.heldBack;
    const atHold = served.produced();
    // Socket buffers (kernel and Node) hold a few MB at most; the file is 64 MB.
    expect(atHold * LINE.length).toBeLessThan(16 * 1024 * 1024);
    // Held back means held: nothing more is produced while the client reads nothing.
    await new Promise((resolve) => setImmediate(resolve));
    expect(served.produced()).toBe(atHold);
    expect(served.closed()).toBe(false);

    client.socket.destroy();
    await served.finished;
    expect(served.closed()).toBe(true);
    expect(served.produced()).toBeLessThan(TOTAL_LINES);
  });

  it("without the load context (the adapter alone) reads the whole file into memory for a client that reads nothing", async () => {
    const served = await serveDownload(false);
    server = served.server;
    await stalledClient(served.url);
    await served.finished;
    expect(served.produced()).toBe(TOTAL_LINES);
  });

  it("drops a client that takes nothing for the stall limit, closing what it had opened", async () => {
    let produced = 0;
    let closed = false;
    function* lines() {
      try {
        for (;;) {
          produced++;
          yield LINE;
        }
      } finally {
        closed = true;
      }
    }
    let drains = 0;
    // Drains once (the first chunk goes out), then never again.
    const flow = { drained: () => (drains++ === 0 ? Promise.resolve() : new Promise<void>(() => {})) };
    let finished = false;
    const reader = readableStreamOf(lines(), () => (finished = true), { flow, stalledClientMs: 50 }).getReader();
    expect((await reader.read()).done).toBe(false);
    await expect(reader.read()).rejects.toThrow(/the client took nothing for 0.05 s/);
    expect(finished).toBe(true);
    expect(closed).toBe(true);
    expect(produced).toBeGreaterThan(0);
  });
});
