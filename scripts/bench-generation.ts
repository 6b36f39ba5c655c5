// `npm run bench:generation`: responses per minute through the real generation worker and openai SDK
// against the fake OpenAI-compatible server (fixed latency per call), at several concurrency limits,
// plus a restart mid-queue that must finish with no pair generated twice.
//
//   npm run bench:generation -- --latency-ms 200 --prompts 10 --queries 20 --concurrency 1,4,8
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { count } from "drizzle-orm";
import { z } from "zod";
import { createProviderClient } from "../app/llm/provider.server";
import { responseProgress } from "../app/llm/generation-queue.server";
import { GenerationWorker } from "../app/llm/generation-worker.server";
import { createStudy } from "../app/models/study-setup.server";
import { openDatabase, type Connection } from "../db/client";
import { responses } from "../db/schema";
import { startFakeOpenAI, type FakeOpenAI } from "../harness/fake-openai";
import { parseFlags, positiveInteger, validateFlags } from "./lib-sim/args";

const USAGE = "tsx scripts/bench-generation.ts [--latency-ms 200] [--prompts 10] [--queries 20] [--concurrency 1,4,8]";

const Options = z.strictObject({
  "latency-ms": z.coerce.number().int().min(0).default(200),
  prompts: positiveInteger("--prompts").default(10),
  queries: positiveInteger("--queries").default(20),
  concurrency: z
    .string()
    .default("1,4,8")
    .transform((list) => list.split(",").map(Number))
    .refine((list) => list.every((n) => Number.isInteger(n) && n >= 1), "--concurrency must be a comma list of positive integers"),
});

function newStudyDatabase(file: string, prompts: number, queries: number): { connection: Connection; studyId: number } {
  const connection = openDatabase(file);
  const { studyId } = createStudy(connection.db, {
    name: "Generation benchmark",
    task: "Benchmark",
    model: "fake-chat",
    temperature: 0.7,
    maxTokens: 200,
    seed: null,
    prompts: Array.from({ length: prompts }, (_, k) => ({ text: `Benchmark prompt ${k + 1}.`, label: null, source: "manual" as const })),
    queries: Array.from({ length: queries }, (_, k) => ({ text: `Benchmark question ${k + 1}?`, notes: null })),
    variants: null,
    responses: [],
  });
  return { connection, studyId };
}

function worker(connection: Connection, fake: FakeOpenAI, concurrency: number): GenerationWorker {
  const client = createProviderClient({
    apiKey: "bench",
    baseURL: fake.baseURL,
    chatModel: "fake-chat",
    embeddingModel: null,
    requestTimeoutMs: 30_000,
    maxRetries: 2,
    concurrency,
    prices: {},
  });
  return new GenerationWorker({ db: connection.db, client, concurrency, embeddingModel: null, prices: {}, idlePollMs: 50 });
}

async function main() {
  const options = validateFlags(Options, parseFlags(process.argv.slice(2)), USAGE);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "promptduel-bench-generation-"));
  const fake = await startFakeOpenAI({ delayMs: options["latency-ms"] });
  const pairs = options.prompts * options.queries;
  try {
    console.log(
      `${pairs} responses per run (${options.prompts} prompts × ${options.queries} queries), fake provider latency ${options["latency-ms"]} ms\n`,
    );
    console.log("concurrency | seconds | responses/minute | ideal (concurrency × 60000 / latency)");
    for (const concurrency of options.concurrency) {
      const { connection, studyId } = newStudyDatabase(path.join(dir, `c${concurrency}.db`), options.prompts, options.queries);
      const generation = worker(connection, fake, concurrency);
      const started = performance.now();
      generation.start();
      await generation.whenIdle();
      const seconds = (performance.now() - started) / 1000;
      await generation.stop();
      const progress = responseProgress(connection.db, studyId);
      if (progress.ready !== pairs) throw new Error(`expected ${pairs} ready responses, found ${progress.ready}`);
      const ideal = options["latency-ms"] > 0 ? Math.round((concurrency * 60_000) / options["latency-ms"]) : Infinity;
      console.log(
        `${String(concurrency).padStart(11)} | ${seconds.toFixed(2).padStart(7)} | ${Math.round((pairs / seconds) * 60)
          .toString()
          .padStart(16)} | ${ideal}`,
      );
      connection.close();
    }

    // Restart: stop the worker at about half, reopen the file with a new worker, finish, count duplicates.
    const concurrency = Math.max(...options.concurrency);
    const file = path.join(dir, "restart.db");
    const first = newStudyDatabase(file, options.prompts, options.queries);
    const requestsBefore = fake.requests.length;
    const stopping = worker(first.connection, fake, concurrency);
    stopping.start();
    while (responseProgress(first.connection.db, first.studyId).ready < pairs / 2) await new Promise((resolve) => setTimeout(resolve, 5));
    await stopping.stop();
    const atStop = responseProgress(first.connection.db, first.studyId);
    first.connection.close();
    const reopened = openDatabase(file);
    const resuming = worker(reopened, fake, concurrency);
    resuming.start();
    await resuming.whenIdle();
    await resuming.stop();
    const final = responseProgress(reopened.db, first.studyId);
    const rows = reopened.db.select({ n: count() }).from(responses).get()!.n;
    const completed = new Map<string, number>();
    for (const request of fake.requests.slice(requestsBefore)) {
      if (request.completed) completed.set(request.conversationKey!, (completed.get(request.conversationKey!) ?? 0) + 1);
    }
    const repeated = [...completed.values()].filter((n) => n > 1).length;
    console.log(
      `\nrestart at concurrency ${concurrency}: stopped with ${atStop.ready} ready / ${atStop.pending} pending; after resuming ${final.ready} ready, ` +
        `${rows} response rows for ${pairs} pairs, ${completed.size} distinct completed provider calls, ${repeated} pairs generated twice`,
    );
    reopened.close();
  } finally {
    await fake.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
