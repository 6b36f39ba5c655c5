// Server benchmark (issue 5): a study with many prompts and votes already loaded, N simulated
// annotators on loopback asking for pairs and voting through the JSON API of the real server.
// Prints next-pair and vote latency (p50/p99), votes per second, and checks that every vote the
// server acknowledged is in SQLite exactly once. A benchmark prints figures; it never fails on timing.
//
//   npm run bench:server -- [--prompts 1000] [--preloaded 5000] [--annotators 200] [--warmup 5] [--seconds 20] [--think-ms 300]
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { quantile } from "simple-statistics";
import { z } from "zod";
import { POLICY_NAMES } from "../bandit/policy";
import { openDatabase } from "../db/client";
import { annotators, assignments, invites, prompts, queries, responses, studies, votes } from "../db/schema";
import { generationSettingsHash, normalizePromptText } from "../db/text";
import { hashSecretToken, newSecretToken } from "../app/auth/secret-token.server";
import { lexicalEmbedding } from "../app/llm/embeddings.server";
import { ApiAnnotator, type Pair } from "../harness/api-annotator";
import { parseFlags, positiveInteger, validateFlags } from "./lib-sim/args";

const USAGE =
  "npm run bench:server -- [--prompts 1000] [--preloaded 5000] [--annotators 200] [--warmup 5] [--seconds 20] [--think-ms 300] [--queries 5] [--policy default]";
const OptionsSchema = z.strictObject({
  prompts: positiveInteger("--prompts").default(1000),
  preloaded: z.coerce.number().int().min(0).default(5000),
  annotators: positiveInteger("--annotators").default(200),
  warmup: z.coerce.number().min(0).default(5),
  seconds: positiveInteger("--seconds").default(20),
  "think-ms": z.coerce.number().min(0).default(300),
  queries: positiveInteger("--queries").default(5),
  policy: z.enum(["default", ...POLICY_NAMES]).default("default"),
});

const TONES = ["warm", "formal", "terse", "playful", "precise", "patient", "direct", "cheerful", "calm", "thorough"];
const HABITS = [
  "asks a clarifying question first",
  "answers in numbered steps",
  "ends with a summary",
  "cites the policy",
  "offers escalation",
  "keeps it under 80 words",
];

/**
 * Writes the study straight into SQLite (one transaction): prompts, queries, ready responses, votes,
 * and an open annotator invite link whose token the simulated annotators join with.
 */
function preload(databasePath: string, options: z.infer<typeof OptionsSchema>) {
  const { db, close } = openDatabase(databasePath);
  const inviteToken = newSecretToken();
  let state = 12_345;
  const random = () => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const studyId = db.transaction((tx) => {
    const study = tx
      .insert(studies)
      .values({ name: "Server benchmark", task: "load test", model: "bench-model", policy: options.policy })
      .returning()
      .get();
    const settingsHash = generationSettingsHash(study);
    const promptIds: number[] = [];
    for (let i = 0; i < options.prompts; i++) {
      const text = `You are a ${TONES[i % TONES.length]} support assistant who ${HABITS[(i * 7) % HABITS.length]}. Variant ${i}.`;
      promptIds.push(
        tx
          .insert(prompts)
          // Embedded as the app stores every prompt offline, so the start-up re-embedding job has nothing to do
          // and does not restart the engine on new features a few seconds into the run.
          .values({ studyId: study.id, text, normalizedText: normalizePromptText(text), ...lexicalEmbedding(text) })
          .returning()
          .get().id,
      );
    }
    const queryIds: number[] = [];
    for (let q = 0; q < options.queries; q++) {
      queryIds.push(
        tx
          .insert(queries)
          .values({ studyId: study.id, text: `Benchmark question ${q}?` })
          .returning()
          .get().id,
      );
    }
    for (const promptId of promptIds) {
      for (const queryId of queryIds) {
        tx.insert(responses)
          .values({ promptId, queryId, settingsHash, content: `Answer of prompt ${promptId} to query ${queryId}.`, status: "ready" })
          .run();
      }
    }
    const annotator = tx.insert(annotators).values({ displayName: "Preloaded votes" }).returning().get();
    const now = Date.now();
    for (let v = 0; v < options.preloaded; v++) {
      const a = promptIds[Math.floor(random() * promptIds.length)]!;
      let b = promptIds[Math.floor(random() * promptIds.length)]!;
      if (b === a) b = promptIds[(promptIds.indexOf(a) + 1) % promptIds.length]!;
      const assignment = tx
        .insert(assignments)
        .values({
          studyId: study.id,
          annotatorId: annotator.id,
          promptAId: a,
          promptBId: b,
          queryId: queryIds[v % queryIds.length]!,
          leftIsA: random() < 0.5,
          issuedAt: new Date(now - 60_000),
          expiresAt: new Date(now - 30_000),
          policy: "random",
          status: "answered",
        })
        .returning()
        .get();
      tx.insert(votes)
        .values({ assignmentId: assignment.id, studyId: study.id, annotatorId: annotator.id, choice: a < b ? "left" : "right" })
        .run();
    }
    tx.insert(invites)
      .values({ studyId: study.id, role: "annotator", tokenHash: hashSecretToken(inviteToken), label: "bench" })
      .run();
    return study.id;
  });
  close();
  return { studyId, inviteToken };
}

async function startServer(databasePath: string) {
  // BENCH_NODE_OPTIONS (e.g. --cpu-prof) is passed to the server process only, for profiling.
  const nodeOptions = process.env.BENCH_NODE_OPTIONS?.split(" ").filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeOptions, "server.js"], {
    env: { ...process.env, PORT: "0", DATABASE_PATH: databasePath, NODE_ENV: "production" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = output.match(/listening on (http:\/\/localhost:\d+)/);
      if (match) resolve(match[1]!.replace("localhost", "127.0.0.1"));
    });
    child.on("exit", (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { url, stop: () => new Promise<void>((resolve) => (child.once("exit", () => resolve()), child.kill("SIGTERM"))) };
}

function ms(values: number[], q: number) {
  return values.length > 0 ? `${quantile(values, q).toFixed(1)} ms` : "–";
}

async function main() {
  const options = validateFlags(OptionsSchema, parseFlags(process.argv.slice(2)), USAGE);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "promptduel-bench-server-"));
  const databasePath = path.join(dir, "bench.db");
  const preloadStarted = performance.now();
  const { studyId, inviteToken } = preload(databasePath, options);
  console.log(
    `preloaded ${options.prompts} prompts, ${options.queries} queries, ${options.preloaded} votes in ${((performance.now() - preloadStarted) / 1000).toFixed(1)} s`,
  );
  const server = await startServer(databasePath);

  const clients = await Promise.all(
    Array.from({ length: options.annotators }, async (_, k) => {
      const client = new ApiAnnotator(server.url, studyId);
      await client.join(inviteToken, `Bench annotator ${k}`);
      return client;
    }),
  );
  // Let the engine load the study and finish its first fit before measuring.
  await clients[0]!.nextPair();
  await new Promise((resolve) => setTimeout(resolve, 3_000));

  // Every annotator first asks for a pair, then votes with "next": true, which answers the next pair
  // in the same request (what the annotate page's user waits for after a click): both count as
  // next-pair latency. The first --warmup seconds (everyone arriving, the JIT warming up) are run
  // but reported apart; votes/s and latencies are those of the --seconds that follow.
  const nextPairMs: number[] = [];
  const warmupMs: number[] = [];
  const acknowledged: number[] = [];
  let acknowledgedInWindow = 0;
  const errors: string[] = [];
  const slow: { at: number; ms: number }[] = [];
  const started = performance.now();
  const measureFrom = started + options.warmup * 1000;
  const deadline = measureFrom + options.seconds * 1000;
  let seed = 99;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  async function timed<T>(request: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    const result = await request();
    const took = performance.now() - t0;
    if (t0 < measureFrom) {
      warmupMs.push(took);
      return result;
    }
    nextPairMs.push(took);
    if (took > 200) slow.push({ at: (t0 - measureFrom) / 1000, ms: took });
    return result;
  }
  await Promise.all(
    clients.map(async (client) => {
      // Annotators arrive spread over one think time, as people do, not in the same millisecond.
      await new Promise((resolve) => setTimeout(resolve, options["think-ms"] * random()));
      let pair: Pair | null = null;
      while (performance.now() < deadline) {
        try {
          pair ??= await timed(() => client.nextPair());
          if (options["think-ms"] > 0) await new Promise((resolve) => setTimeout(resolve, options["think-ms"] * (0.5 + random())));
          if (performance.now() >= deadline) break;
          const answered: number = pair.assignmentId;
          const inWindow = performance.now() >= measureFrom;
          const result: { status: string; next: Pair | null } = await timed(() => client.voteAndNext(answered, random() < 0.5 ? "left" : "right"));
          if (result.status === "recorded") {
            acknowledged.push(answered);
            if (inWindow) acknowledgedInWindow++;
          }
          pair = result.next;
        } catch (error) {
          errors.push(error instanceof Error ? error.message : String(error));
          pair = null;
        }
      }
      client.close();
    }),
  );
  const elapsed = options.seconds;
  await server.stop();

  const sqlite = new Database(databasePath, { readonly: true });
  const stored = sqlite
    .prepare("select assignment_id from votes where study_id = ? and annotator_id != (select min(id) from annotators)")
    .pluck()
    .all(studyId) as number[];
  const storedCounts = new Map<number, number>();
  for (const id of stored) storedCounts.set(id, (storedCounts.get(id) ?? 0) + 1);
  const lost = acknowledged.filter((id) => !storedCounts.has(id)).length;
  const duplicated = [...storedCounts.values()].filter((n) => n > 1).length;
  const unacknowledgedExtra = stored.length - acknowledged.length;
  const engineSnapshots = sqlite.prepare("select count(*) from engine_snapshots where study_id = ?").pluck().get(studyId);
  const policies = sqlite
    .prepare("select policy, count(*) as n from assignments where study_id = ? and annotator_id != (select min(id) from annotators) group by policy")
    .all(studyId) as { policy: string; n: number }[];
  sqlite.close();
  fs.rmSync(dir, { recursive: true, force: true });

  console.log(`\npolicy ${options.policy}, ${options.prompts} prompts, ${options.preloaded} votes preloaded`);
  console.log(
    `${options.annotators} annotators, think time ${options["think-ms"]} ms (uniform ×0.5–1.5), ${options.warmup} s warm-up, then ${elapsed.toFixed(1)} s measured`,
  );
  console.log(
    `next pair latency   p50 ${ms(nextPairMs, 0.5)}   p99 ${ms(nextPairMs, 0.99)}   (${nextPairMs.length} requests, each a vote + next pair but the first)`,
  );
  console.log(`votes acknowledged  ${acknowledgedInWindow}   = ${(acknowledgedInWindow / elapsed).toFixed(0)} votes/s`);
  console.log(`warm-up             p50 ${ms(warmupMs, 0.5)}   p99 ${ms(warmupMs, 0.99)}   (${warmupMs.length} requests, not counted above)`);
  console.log(`pairs by policy     ${policies.map((p) => `${p.policy} ${p.n}`).join(", ")}`);
  console.log(`engine snapshots    ${engineSnapshots}`);
  console.log(
    `integrity           ${acknowledged.length} votes acknowledged in all: lost ${lost}, duplicated ${duplicated}, stored but not acknowledged ${unacknowledgedExtra}, client errors ${errors.length}`,
  );
  if (errors.length > 0) console.log(`first error: ${errors[0]}`);
  if (slow.length > 0) {
    const worst = slow.sort((a, b) => b.ms - a.ms).slice(0, 5);
    console.log(`slowest next-pair requests: ${worst.map((s) => `${s.ms.toFixed(0)} ms at +${s.at.toFixed(1)} s`).join(", ")}`);
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
