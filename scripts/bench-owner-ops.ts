// Owner-operations benchmark (issue 14): prints every figure the issue asks for, against the real
// server (node server.js) on loopback, each section on a fresh database. A benchmark prints figures;
// it never fails on them.
//
//   npm run bench:owner-ops -- [--only pool,import,addition,dashboard,snapshots,downloads] [--studies 200]
//     [--import-votes 100000] [--queries 100000] [--addition-prompts 20] [--addition-cap 200000] [--dashboard-votes 100000] [--dashboard-prompts 1000]
//     [--downloads 10] [--idle-seconds 60]
//
// pool       200 studies each opened (dashboard) and voted in once: server RSS and threads before, right
//            after and after the engines' idle period; a 1,000-prompt study's engine rebuilt cold and resumed
// import     probe annotator vote/next-pair p50/p99/max on another study while a 100,000-vote raw log imports
// addition   the same while 100,000 queries are added to a 20-prompt study: 2,000,000 responses, which the
//            default cap (RESPONSES_PER_STUDY_MAX 200,000) refuses, so then also the largest addition within
//            it (100,000 queries to a 2-prompt study); --addition-cap 2000000 runs the 20-prompt one
//            Both print the server's peak RSS during the job and, as a baseline, the probe with no job running
//            for as long again on the same server (the machine's load shows in both).
// dashboard  dashboard server time of a 100,000-vote, 1,000-prompt study
// snapshots  snapshot bytes per study after an hour (and five) of simulated voting, and the largest after any
//            write, 1,000 and 5,000 prompts, against the bound of ADR 0027
// downloads  server RSS with 10 downloads of a 100,000-vote raw export whose clients never read, then after they go
import fs from "node:fs";
import http from "node:http";
import type { Socket } from "node:net";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { quantile } from "simple-statistics";
import { z } from "zod";
import { embedText } from "../bandit/lexical-embedding";
import { openDatabase } from "../db/client";
import { generationSettingsHash, normalizePromptText } from "../db/text";
import { encodeEmbedding } from "../app/llm/embeddings.server";
import { closeConnection } from "../app/db.server";
import { createAnnotatorLink, createFirstOwner, inviteTokenOf, type Account } from "../harness/accounts";
import { ApiAnnotator, type Pair } from "../harness/api-annotator";
import { startApp, type RunningApp } from "../harness/app-server";
import { commaList, parseFlags, positiveInteger, validateFlags } from "./lib-sim/args";

const SECTIONS = ["pool", "import", "addition", "dashboard", "snapshots", "downloads"] as const;
const USAGE =
  "npm run bench:owner-ops -- [--only pool,import,addition,dashboard,snapshots,downloads] [--studies 200] [--import-votes 100000] [--queries 100000] [--addition-prompts 20] [--addition-cap 200000] [--dashboard-votes 100000] [--dashboard-prompts 1000] [--downloads 10] [--idle-seconds 60]";
const OptionsSchema = z.strictObject({
  only: commaList.pipe(z.array(z.enum(SECTIONS))).default([...SECTIONS]),
  studies: positiveInteger("--studies").default(200),
  "import-votes": positiveInteger("--import-votes").default(100_000),
  queries: positiveInteger("--queries").default(100_000),
  "addition-prompts": positiveInteger("--addition-prompts").default(20),
  // The app's default RESPONSES_PER_STUDY_MAX; above it the asked addition is refused, and the largest one within it runs.
  "addition-cap": positiveInteger("--addition-cap").default(200_000),
  "dashboard-votes": positiveInteger("--dashboard-votes").default(100_000),
  "dashboard-prompts": positiveInteger("--dashboard-prompts").default(1000),
  downloads: positiveInteger("--downloads").default(10),
  "idle-seconds": positiveInteger("--idle-seconds").default(60),
});
type Options = z.infer<typeof OptionsSchema>;

const MB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Machine, server process and HTTP helpers

function load(): string {
  const [one, five] = os.loadavg();
  return `load average ${one!.toFixed(2)} (1 min), ${five!.toFixed(2)} (5 min) on ${os.availableParallelism()} cores`;
}

/** The server's resident memory (MB) and thread count, from /proc. */
function processFigures(pid: number): { rssMb: number; threads: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => Number(status.match(new RegExp(`^${name}:\\s+(\\d+)`, "m"))![1]);
  return { rssMb: field("VmRSS") / 1024, threads: field("Threads") };
}

/** The process's user + system CPU time so far (ms), from /proc/<pid>/stat (fields 14 and 15, in clock ticks of 10 ms). */
/** User + system CPU time of process `pid`, or of its thread `tid` (the main thread's id is the pid). */
function processCpuMs(pid: number, tid?: number): number {
  const stat = fs.readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, "utf8");
  // The command name (field 2) may hold spaces: count the fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface Server {
  app: RunningApp;
  url: string;
  pid: number;
  /** The first owner (created through the setup link the server printed), who adopted every preloaded study. */
  owner: Account;
  stop(): Promise<void>;
}

// The benchmark measures owner operations, not the rate limits: a probe annotator votes back to back.
const RATE_LIMITS_OFF = Object.fromEntries(
  ["RATE_LIMIT_GENERAL_IP", "RATE_LIMIT_GENERAL_SESSION", "RATE_LIMIT_JOIN_IP", "RATE_LIMIT_VOTES_SESSION", "RATE_LIMIT_NEXT_PAIR_SESSION"].map(
    (name) => [name, "off"],
  ),
);

/** The real server (node server.js) on the database preloaded in `dir`, with its first owner signed in. */
async function startServer(dir: string, env: Record<string, string> = {}): Promise<Server> {
  const app = await startApp({ PROMPTDUEL_TEST_HOOKS: "1", ...RATE_LIMITS_OFF, ...env }, dir);
  // The server's errors show with the figures.
  app.process.stderr?.pipe(process.stderr);
  const owner = await createFirstOwner(app);
  return { app, url: app.url, pid: app.process.pid!, owner, stop: () => app.stop() };
}

/** The owner's session, for the owner pages (dashboard, setup, import, export). */
const asOwner = (server: Server, headers: Record<string, string> = {}) => ({ ...headers, Cookie: server.owner.cookie });

const inviteLinks = new Map<string, string>();

/** The study's annotator invite link, made once per study and server on its Annotators page. */
async function inviteLink(server: Server, studyId: number): Promise<string> {
  const key = `${server.url} ${studyId}`;
  const link = inviteLinks.get(key) ?? (await createAnnotatorLink(server.app, server.owner, studyId));
  inviteLinks.set(key, link);
  return link;
}

/** An annotator who joined `studyId` through its invite link. */
async function joinedAnnotator(server: Server, studyId: number, displayName: string): Promise<ApiAnnotator> {
  const annotator = new ApiAnnotator(server.url, studyId);
  await annotator.join(inviteTokenOf(await inviteLink(server, studyId)), displayName);
  return annotator;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

/**
 * One HTTP request on loopback: status, body and wall time (an upper bound of the server's time).
 * A kept-alive socket the server closed while it sat idle is retried once on a new one (Node's advice).
 */
async function request(url: string, options: { method?: string; body?: Buffer | string; headers?: Record<string, string> } = {}) {
  try {
    return await requestOnce(url, options);
  } catch (error) {
    if ((error as { reusedSocket?: boolean }).reusedSocket && (error as NodeJS.ErrnoException).code === "ECONNRESET")
      return requestOnce(url, options);
    throw error;
  }
}

function requestOnce(url: string, options: { method?: string; body?: Buffer | string; headers?: Record<string, string> } = {}) {
  return new Promise<{ status: number; body: string; ms: number; location?: string }>((resolve, reject) => {
    const started = performance.now();
    const req = http.request(url, { method: options.method ?? "GET", agent, headers: options.headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () =>
        resolve({
          status: response.statusCode ?? 0,
          body: Buffer.concat(chunks).toString("utf8"),
          ms: performance.now() - started,
          location: response.headers.location,
        }),
      );
    });
    req.on("error", (error) => reject(Object.assign(error, { reusedSocket: req.reusedSocket })));
    req.end(options.body);
  });
}

/** A multipart/form-data body (fields and files), as a browser posts it. */
function multipart(parts: { name: string; value: string; fileName?: string }[]) {
  const boundary = `----bench${Math.random().toString(16).slice(2)}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.fileName ? `; filename="${part.fileName}"` : ""}`;
    const type = part.fileName ? "Content-Type: application/octet-stream\r\n" : "";
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${type}\r\n`), Buffer.from(part.value), Buffer.from("\r\n"));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

function figures(values: number[]): string {
  if (values.length === 0) return "no requests";
  return `p50 ${quantile(values, 0.5).toFixed(1)} ms   p99 ${quantile(values, 0.99).toFixed(1)} ms   max ${Math.max(...values).toFixed(1)} ms   (${values.length} requests)`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Preloading (straight into SQLite, before the server starts)

let state = 12_345;
const random = () => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;

const TONES = ["warm", "formal", "terse", "playful", "precise", "patient", "direct", "cheerful", "calm", "thorough"];

/** A study of `promptCount` prompts (offline embeddings) and `queryCount` queries, every response ready. */
function preloadStudy(sqlite: Database.Database, name: string, promptCount: number, queryCount: number) {
  // Running (not a draft) and never closed by convergence, so a probe annotator always gets pairs.
  const studyId = Number(
    sqlite
      .prepare("insert into studies (name, task, model, status, close_on_convergence) values (?, 'benchmark', 'bench-model', 'running', 0)")
      .run(name).lastInsertRowid,
  );
  const study = sqlite.prepare("select model, temperature, max_tokens as maxTokens, seed from studies where id = ?").get(studyId) as {
    model: string;
    temperature: number;
    maxTokens: number;
    seed: number | null;
  };
  const settingsHash = generationSettingsHash(study);
  const insertPrompt = sqlite.prepare(
    "insert into prompts (study_id, text, normalized_text, embedding, embedding_model) values (?, ?, ?, ?, 'lexical-v1')",
  );
  const insertQuery = sqlite.prepare("insert into queries (study_id, text) values (?, ?)");
  const insertResponse = sqlite.prepare("insert into responses (prompt_id, query_id, settings_hash, content, status) values (?, ?, ?, ?, 'ready')");
  const promptIds: number[] = [];
  const queryIds: number[] = [];
  for (let i = 0; i < promptCount; i++) {
    const text = `${name}: you are a ${TONES[i % TONES.length]} support assistant, variant ${i}, answering in ${1 + (i % 7)} sentences.`;
    promptIds.push(Number(insertPrompt.run(studyId, text, normalizePromptText(text), encodeEmbedding(embedText(text))).lastInsertRowid));
  }
  for (let q = 0; q < queryCount; q++)
    queryIds.push(Number(insertQuery.run(studyId, `${name} question ${q}: how do I reset the thermostat?`).lastInsertRowid));
  for (const promptId of promptIds) {
    for (const queryId of queryIds)
      insertResponse.run(promptId, queryId, settingsHash, `Answer of prompt ${promptId} to query ${queryId}: hold the ring for 20 s.`);
  }
  return { studyId, promptIds, queryIds };
}

/** `count` answered assignments and votes of every kind between random pairs (the tally triggers count them). */
function preloadVotes(sqlite: Database.Database, studyId: number, promptIds: number[], queryIds: number[], count: number) {
  const annotators = Array.from({ length: 20 }, (_, k) =>
    Number(sqlite.prepare("insert into annotators (display_name) values (?)").run(`Preloaded ${studyId}.${k}`).lastInsertRowid),
  );
  const insertAssignment = sqlite.prepare(
    "insert into assignments (study_id, annotator_id, prompt_a_id, prompt_b_id, query_id, left_is_a, issued_at, expires_at, policy, status) values (?, ?, ?, ?, ?, ?, ?, ?, 'random', 'answered')",
  );
  const insertVote = sqlite.prepare(
    "insert into votes (assignment_id, study_id, annotator_id, choice, latency_ms, created_at) values (?, ?, ?, ?, ?, ?)",
  );
  const choices = ["left", "right", "left", "right", "tie", "both_bad", "skip"];
  const start = Date.now() - count * 1000;
  for (let k = 0; k < count; k++) {
    const a = promptIds[Math.floor(random() * promptIds.length)]!;
    let b = promptIds[Math.floor(random() * promptIds.length)]!;
    if (b === a) b = promptIds[(promptIds.indexOf(a) + 1) % promptIds.length]!;
    const annotator = annotators[k % annotators.length]!;
    const at = start + k * 1000;
    const assignment = insertAssignment.run(studyId, annotator, a, b, queryIds[k % queryIds.length], random() < 0.5 ? 1 : 0, at - 5000, at + 600_000);
    insertVote.run(assignment.lastInsertRowid, studyId, annotator, choices[k % choices.length], 800 + (k % 5000), at);
  }
}

/**
 * A probe annotator on its own study voting back to back (vote + next pair in one request) until
 * `until` resolves. A refused vote or pair (a 5xx while a job commits, say) is counted and the probe
 * goes on with a new pair: a benchmark prints what happened, it does not stop at the first error.
 */
async function probe(server: Server, studyId: number, until: Promise<unknown>) {
  // A kept-alive socket the server closed while idle resets the first request: join again once.
  const annotator = await joinedAnnotator(server, studyId, "Probe").catch(() => joinedAnnotator(server, studyId, "Probe"));
  const latencies: number[] = [];
  const failures: string[] = [];
  let done = false;
  void until.finally(() => (done = true));
  let pair: Pair | null = null;
  while (!done) {
    const started = performance.now();
    try {
      pair ??= await annotator.nextPair();
      const answer = await annotator.voteAndNext(pair.assignmentId, random() < 0.5 ? "left" : "right");
      latencies.push(performance.now() - started);
      pair = answer.next;
    } catch (error) {
      failures.push(error instanceof Error ? error.message : String(error));
      pair = null;
    }
  }
  annotator.close();
  return { latencies, failures };
}

/** The probe's figures, and its failed requests if any (each distinct message once, with its count). */
function probeFigures({ latencies, failures }: { latencies: number[]; failures: string[] }): string {
  if (failures.length === 0) return figures(latencies);
  const counts = new Map<string, number>();
  for (const failure of failures) counts.set(failure, (counts.get(failure) ?? 0) + 1);
  const listed = [...counts].map(([message, n]) => `${n} x ${message}`).join("; ");
  return `${figures(latencies)}   FAILED REQUESTS: ${failures.length} (${listed})`;
}

/** The server's peak RSS and threads, sampled every 250 ms until `until` settles. */
async function peakFigures(pid: number, until: Promise<unknown>) {
  let done = false;
  void until.finally(() => (done = true));
  const peak = processFigures(pid);
  while (!done) {
    await sleep(250);
    const now = processFigures(pid);
    peak.rssMb = Math.max(peak.rssMb, now.rssMb);
    peak.threads = Math.max(peak.threads, now.threads);
  }
  return peak;
}

/**
 * The probe with no job running, for as long as the job ran (at most a minute), on the same server
 * right after it: what the machine's load alone costs, to read the figures during the job against.
 */
async function baselineProbe(server: Server, studyId: number, seconds: number) {
  const probed = await probe(server, studyId, sleep(Math.min(60, Math.max(5, seconds)) * 1000));
  console.log(`probe vote+next, no job running (baseline, ${load()})   ${probeFigures(probed)}`);
}

/** Resolves when the job of `studyId` (the newest) has stopped running, reading the database on the side. */
async function jobSettled(databasePath: string, studyId: number | null, afterJobId = 0) {
  const reader = new Database(databasePath, { readonly: true });
  try {
    for (;;) {
      const job = reader
        .prepare(
          `select id, state, phase, attempts, result, errors from jobs where id > ? ${studyId === null ? "" : "and study_id = ?"} order by id desc limit 1`,
        )
        .get(...(studyId === null ? [afterJobId] : [afterJobId, studyId])) as
        { id: number; state: string; result: string | null; errors: string | null } | undefined;
      if (job && job.state !== "queued" && job.state !== "running") return job;
      await sleep(50);
    }
  } finally {
    reader.close();
  }
}

function freshDatabase(label: string): { dir: string; databasePath: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `promptduel-bench-owner-ops-${label}-`));
  // The name startApp gives the database of a data directory.
  const databasePath = path.join(dir, "app.db");
  openDatabase(databasePath).close();
  return { dir, databasePath };
}

// ---------------------------------------------------------------------------------------------
// Sections

async function benchPool(options: Options) {
  console.log(`\n== pool: ${options.studies} studies opened and voted in once (${load()})`);
  const { dir, databasePath } = freshDatabase("pool");
  const sqlite = new Database(databasePath);
  const studies = sqlite.transaction(() => Array.from({ length: options.studies }, (_, k) => preloadStudy(sqlite, `Small study ${k}`, 4, 2)))();
  const big = sqlite.transaction(() => {
    const study = preloadStudy(sqlite, "Big study", 1000, 5);
    preloadVotes(sqlite, study.studyId, study.promptIds, study.queryIds, 5000);
    return study;
  })();
  sqlite.close();
  const server = await startServer(dir, { ENGINE_IDLE_SECONDS: String(options["idle-seconds"]) });
  await request(`${server.url}/`, { headers: asOwner(server) });
  // The annotator links first: making them is not part of opening the studies.
  for (const { studyId } of [...studies, big]) await inviteLink(server, studyId);
  const before = processFigures(server.pid);
  console.log(`before            RSS ${before.rssMb.toFixed(0)} MB   threads ${before.threads}`);
  const started = performance.now();
  let peak = before;
  for (const { studyId } of studies) {
    await request(`${server.url}/studies/${studyId}`, { headers: asOwner(server) });
    const annotator = await joinedAnnotator(server, studyId, `Visitor of ${studyId}`);
    const pair = await annotator.nextPair();
    await annotator.vote(pair.assignmentId, "left");
    annotator.close();
    const now = processFigures(server.pid);
    if (now.rssMb > peak.rssMb) peak = now;
  }
  const after = processFigures(server.pid);
  console.log(
    `right after       RSS ${after.rssMb.toFixed(0)} MB   threads ${after.threads}   (peak while opening: RSS ${peak.rssMb.toFixed(0)} MB, ${peak.threads} threads; ${((performance.now() - started) / 1000).toFixed(1)} s for all)`,
  );
  const idleStarted = performance.now();
  // The engines stop ENGINE_IDLE_SECONDS after their last use; allow the stops themselves a little longer.
  let idle = processFigures(server.pid);
  while (performance.now() - idleStarted < (options["idle-seconds"] + 60) * 1000) {
    await sleep(1000);
    idle = processFigures(server.pid);
    if (performance.now() - idleStarted > options["idle-seconds"] * 1000 && idle.threads <= before.threads) break;
  }
  console.log(
    `after idle period RSS ${idle.rssMb.toFixed(0)} MB   threads ${idle.threads}   (${((performance.now() - idleStarted) / 1000).toFixed(0)} s after the last use; ENGINE_IDLE_SECONDS=${options["idle-seconds"]})   targets: ≤ 400 MB, ≤ 24 threads`,
  );

  const annotator = await joinedAnnotator(server, big.studyId, "Big study visitor");
  let t0 = performance.now();
  await annotator.nextPair();
  const cold = await annotator.engineIdle();
  const coldSeconds = (performance.now() - t0) / 1000;
  console.log(
    `1,000-prompt study (5,000 votes), engine rebuilt from SQLite: first fit in ${coldSeconds.toFixed(1)} s (round ${cold.round}, ${cold.policy})`,
  );
  // Stop it as the idle sweep would (the test hook is not a route owners have): wait out the idle period.
  const waitStarted = performance.now();
  while (processFigures(server.pid).threads > before.threads && performance.now() - waitStarted < (options["idle-seconds"] + 60) * 1000)
    await sleep(1000);
  t0 = performance.now();
  await annotator.nextPair();
  const resumed = await annotator.engineIdle();
  console.log(
    `same study after its engine stopped idle: resumed from its saved state in ${((performance.now() - t0) / 1000).toFixed(1)} s (round ${resumed.round})`,
  );
  annotator.close();
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * A synthetic raw log of `count` votes over 200 prompts and 20 queries, valid line by line: about
 * 470 bytes a vote, like the 47 MB, 100,000-vote log of issue 14 (the upload limit is 50 MB).
 */
function syntheticRawLog(count: number): string {
  const prompts = Array.from(
    { length: 200 },
    (_, k) => `Imported prompt ${k}: you are a ${TONES[k % TONES.length]} assistant who answers in ${1 + (k % 5)} steps.`,
  );
  const queries = Array.from({ length: 20 }, (_, k) => `Imported question ${k}: why does my thermostat show E${k}?`);
  const lines: string[] = [];
  const start = Date.UTC(2025, 0, 1);
  const choices = ["left", "right", "tie", "both_bad", "skip"] as const;
  for (let k = 0; k < count; k++) {
    const a = Math.floor(random() * prompts.length);
    let b = Math.floor(random() * prompts.length);
    if (b === a) b = (a + 1) % prompts.length;
    const q = k % queries.length;
    const aSide = random() < 0.5 ? "left" : "right";
    const choice = choices[k % choices.length]!;
    const preferred = choice === "left" || choice === "right" ? (choice === aSide ? a + 1 : b + 1) : null;
    const votedAt = start + k * 7_000;
    lines.push(
      JSON.stringify({
        vote_id: k + 1,
        study_id: 1,
        study_name: "Source",
        annotator_id: 1 + (k % 25),
        annotator_name: `Annotator ${1 + (k % 25)}`,
        query_id: q + 1,
        query: queries[q],
        prompt_a_id: a + 1,
        prompt_a_text: prompts[a],
        prompt_b_id: b + 1,
        prompt_b_text: prompts[b],
        response_a: `Answer ${a + 1}/${q + 1}: check the wiring, then restart the unit.`,
        response_b: `Answer ${b + 1}/${q + 1}: check the wiring, then restart the unit.`,
        prompt_a_side: aSide,
        prompt_b_side: aSide === "left" ? "right" : "left",
        choice,
        preferred_prompt_id: preferred,
        comment: k % 10 === 0 ? "clearer steps" : null,
        issued_at: new Date(votedAt - 6_000).toISOString(),
        voted_at: new Date(votedAt).toISOString(),
        latency_ms: 900 + (k % 4000),
        policy: "duet",
        engine_round: k,
      }),
    );
  }
  return `${lines.join("\n")}\n`;
}

async function benchImport(options: Options) {
  console.log(`\n== import: probe annotator while a ${options["import-votes"].toLocaleString("en")}-vote raw log imports (${load()})`);
  const { dir, databasePath } = freshDatabase("import");
  const sqlite = new Database(databasePath);
  const probeStudy = sqlite.transaction(() => preloadStudy(sqlite, "Probe study", 20, 5))();
  const target = Number(
    sqlite.prepare("insert into studies (name, task, model, status) values ('Import target', 'benchmark', 'bench-model', 'running')").run()
      .lastInsertRowid,
  );
  sqlite.close();
  const log = syntheticRawLog(options["import-votes"]);
  console.log(`log: ${(Buffer.byteLength(log) / MB).toFixed(1)} MB, ${options["import-votes"].toLocaleString("en")} votes`);
  const server = await startServer(dir);
  // Warm up: the probe's first requests (JIT, engine start) are not the import's doing.
  await probe(server, probeStudy.studyId, sleep(3000));
  const form = multipart([{ name: "log", value: log, fileName: "raw.jsonl" }]);
  let settle!: () => void;
  const finished = new Promise<void>((resolve) => (settle = resolve));
  const probing = probe(server, probeStudy.studyId, finished);
  const peak = peakFigures(server.pid, finished);
  const before = processFigures(server.pid);
  const started = performance.now();
  const posted = await request(`${server.url}/studies/${target}/import-log`, {
    method: "POST",
    body: form.body,
    headers: asOwner(server, { "Content-Type": form.contentType, Origin: server.url }),
  });
  const job = await jobSettled(databasePath, target);
  const seconds = (performance.now() - started) / 1000;
  settle();
  const probed = await probing;
  const imported = new Database(databasePath, { readonly: true });
  const stored = imported.prepare("select count(*) from votes where study_id = ?").pluck().get(target) as number;
  imported.close();
  console.log(
    `upload answered ${posted.status} in ${posted.ms.toFixed(0)} ms; job ${job.state} after ${seconds.toFixed(1)} s: ${job.result ?? job.errors}; ${stored.toLocaleString("en")} votes in the study`,
  );
  const { rssMb, threads } = await peak;
  console.log(`server RSS ${before.rssMb.toFixed(0)} MB before, peak ${rssMb.toFixed(0)} MB (${threads} threads) during the import`);
  console.log(`probe vote+next during the import (${load()})   ${probeFigures(probed)}   target p99 ≤ 100 ms`);
  await baselineProbe(server, probeStudy.studyId, seconds);
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}

async function benchAddition(options: Options) {
  const promptCount = options["addition-prompts"];
  const cap = options["addition-cap"];
  console.log(
    `\n== addition: probe annotator while ${options.queries.toLocaleString("en")} queries are added to a ${promptCount}-prompt study, RESPONSES_PER_STUDY_MAX ${cap.toLocaleString("en")} (${load()})`,
  );
  const { dir, databasePath } = freshDatabase("addition");
  const sqlite = new Database(databasePath);
  const probeStudy = sqlite.transaction(() => preloadStudy(sqlite, "Probe study", 20, 5))();
  const target = sqlite.transaction(() => preloadStudy(sqlite, "Addition target", promptCount, 0))();
  // The largest addition of these queries the cap allows, when the asked one is over it.
  const withinCap = Math.floor(cap / options.queries);
  const fallback =
    promptCount * options.queries > cap && withinCap > 0
      ? sqlite.transaction(() => preloadStudy(sqlite, "Addition within the cap", withinCap, 0))()
      : null;
  sqlite.close();
  const file = Array.from({ length: options.queries }, (_, k) => `Why does E${k} blink?`).join("\n");
  console.log(`queries file: ${(Buffer.byteLength(file) / MB).toFixed(1)} MB`);
  const server = await startServer(dir, { RESPONSES_PER_STUDY_MAX: String(cap) });
  await probe(server, probeStudy.studyId, sleep(3000));
  await probedAddition(server, databasePath, probeStudy.studyId, target.studyId, promptCount, file);
  if (fallback) await probedAddition(server, databasePath, probeStudy.studyId, fallback.studyId, withinCap, file);
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Posts the queries to the setup page of `studyId` (confirming the plan if asked) with the probe voting on another study. */
async function probedAddition(server: Server, databasePath: string, probeStudyId: number, studyId: number, promptCount: number, file: string) {
  const queryCount = file.split("\n").length;
  console.log(
    `-- ${queryCount.toLocaleString("en")} queries to a ${promptCount}-prompt study: ${(promptCount * queryCount).toLocaleString("en")} responses to queue`,
  );
  let settle!: () => void;
  const finished = new Promise<void>((resolve) => (settle = resolve));
  const probing = probe(server, probeStudyId, finished);
  const peak = peakFigures(server.pid, finished);
  const before = processFigures(server.pid);
  const started = performance.now();
  const form = multipart([
    { name: "intent", value: "add-queries" },
    { name: "queriesFile", value: file, fileName: "queries.txt" },
  ]);
  const posted = await request(`${server.url}/studies/${studyId}/setup`, {
    method: "POST",
    body: form.body,
    headers: asOwner(server, { "Content-Type": form.contentType, Origin: server.url }),
  });
  if (posted.status !== 200) {
    settle();
    const probed = await probing;
    const refusal = posted.body.match(/This would make [^<"]*/)?.[0] ?? posted.body.slice(0, 200);
    console.log(`upload answered ${posted.status} in ${posted.ms.toFixed(0)} ms, nothing queued: "${refusal}"`);
    console.log(`probe vote+next meanwhile   ${probeFigures(probed)}`);
    await peak;
    return;
  }
  const waiting = await jobSettled(databasePath, studyId);
  const planned = (performance.now() - started) / 1000;
  console.log(
    `upload answered ${posted.status} in ${posted.ms.toFixed(0)} ms; the job ${waiting.state === "awaiting_confirmation" ? "waits for a confirmation" : waiting.state} (${planned.toFixed(1)} s)`,
  );
  if (waiting.state === "awaiting_confirmation") {
    const confirm = new URLSearchParams({ intent: "confirm-job", jobId: String(waiting.id) }).toString();
    await request(`${server.url}/studies/${studyId}/setup`, {
      method: "POST",
      body: confirm,
      headers: asOwner(server, { "Content-Type": "application/x-www-form-urlencoded", Origin: server.url }),
    });
  }
  const job = await jobSettled(databasePath, studyId);
  const seconds = (performance.now() - started) / 1000;
  settle();
  const probed = await probing;
  const added = new Database(databasePath, { readonly: true });
  const counted = added
    .prepare(
      "select (select count(*) from queries where study_id = @study) as queries, (select count(*) from responses join prompts on prompts.id = responses.prompt_id where prompts.study_id = @study) as responses",
    )
    .get({ study: studyId }) as { queries: number; responses: number };
  added.close();
  console.log(
    `job ${job.state} after ${seconds.toFixed(1)} s: ${job.result ?? job.errors}; the study holds ${counted.queries.toLocaleString("en")} queries and ${counted.responses.toLocaleString("en")} responses`,
  );
  const { rssMb, threads } = await peak;
  console.log(`server RSS ${before.rssMb.toFixed(0)} MB before, peak ${rssMb.toFixed(0)} MB (${threads} threads) during the addition`);
  console.log(`probe vote+next during the addition (${load()})   ${probeFigures(probed)}   target p99 ≤ 100 ms`);
  await baselineProbe(server, probeStudyId, seconds);
}

async function benchDashboard(options: Options) {
  const votes = options["dashboard-votes"];
  const promptCount = options["dashboard-prompts"];
  console.log(`\n== dashboard: ${votes.toLocaleString("en")} votes, ${promptCount.toLocaleString("en")} prompts (${load()})`);
  const { dir, databasePath } = freshDatabase("dashboard");
  const sqlite = new Database(databasePath);
  const study = sqlite.transaction(() => {
    const created = preloadStudy(sqlite, "Dashboard study", promptCount, 5);
    preloadVotes(sqlite, created.studyId, created.promptIds, created.queryIds, votes);
    return created;
  })();
  // A snapshot covering every vote, as an engine leaves it: the page then starts no engine.
  const decisive = sqlite.prepare("select count(*) from votes where study_id = ? and choice <> 'skip'").pluck().get(study.studyId) as number;
  const promptStats = study.promptIds.map((promptId, k) => ({
    promptId,
    utility: k / promptCount,
    uncertainty: 0.3,
    pBest: k === 0 ? 0.4 : 0.6 / promptCount,
    score: k / 100,
    lower: k / 100 - 0.2,
    upper: k / 100 + 0.2,
  }));
  sqlite
    .prepare(
      "insert into engine_snapshots (study_id, vote_count, policy, recommended_prompt_id, p_best, converged, left_win_rate, prompt_stats) values (?, ?, 'duet', ?, 0.4, 0, 0.5, ?)",
    )
    .run(study.studyId, decisive, study.promptIds[0], JSON.stringify(promptStats));
  sqlite.close();
  const server = await startServer(dir);
  const page = `${server.url}/studies/${study.studyId}`;
  const headers = asOwner(server);
  // Warm up both paths (JIT, statement caches) so the figures are the steady state, not the first requests.
  for (let k = 0; k < 20; k++) {
    await request(page, { headers });
    await request(`${page}.data`, { headers });
  }
  const documentMs: number[] = [];
  const dataMs: number[] = [];
  let bytes = 0;
  // The server's CPU time per request as well as the wall time: on a loaded machine the wall time is
  // mostly waiting for a core, the CPU time is what the request costs.
  // The request thread's CPU (the main thread: requests are served there) and the whole process's, which
  // also counts background threads: the reliability fit a page schedules when the fit is older than the
  // votes, the engine threads, checkpoints.
  const cpu = () => ({ thread: processCpuMs(server.pid, server.pid), process: processCpuMs(server.pid) });
  const perRequest = (before: ReturnType<typeof cpu>, requests: number) => {
    const after = cpu();
    return `request thread CPU ${((after.thread - before.thread) / requests).toFixed(1)} ms a request (whole process ${((after.process - before.process) / requests).toFixed(1)} ms)`;
  };
  let cpuBefore = cpu();
  for (let k = 0; k < 30; k++) {
    const document = await request(page, { headers });
    bytes = Buffer.byteLength(document.body);
    documentMs.push(document.ms);
  }
  const documentCpu = perRequest(cpuBefore, 30);
  cpuBefore = cpu();
  for (let k = 0; k < 30; k++) dataMs.push((await request(`${page}.data`, { headers })).ms);
  const dataCpu = perRequest(cpuBefore, 30);
  console.log(
    `dashboard page (loader + server render, ${(bytes / 1024).toFixed(0)} KB of HTML)   ${figures(documentMs)}   ${documentCpu}   target ≤ 50 ms`,
  );
  console.log(`dashboard data only (the 5 s refresh, Single Fetch .data)   ${figures(dataMs)}   ${dataCpu}`);
  console.log(
    "times are loopback request times: the server's time plus well under a millisecond of transport; CPU is user + system time (/proc, 10 ms ticks) over the 30 requests, divided by 30",
  );
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}

async function benchSnapshots() {
  console.log(`\n== snapshots: bytes per study after simulated voting, one snapshot every 2 s (the engine's fastest rate) (${load()})`);
  for (const promptCount of [1000, 5000]) {
    const { dir, databasePath } = freshDatabase(`snapshots-${promptCount}`);
    const sqlite = new Database(databasePath);
    const study = sqlite.transaction(() => preloadStudy(sqlite, `Snapshot study ${promptCount}`, promptCount, 1))();
    sqlite.close();
    // The snapshot writer runs in this process on the app's connection to this file.
    process.env.DATABASE_PATH = databasePath;
    closeConnection();
    const { snapshotStorageBound, writeSnapshot } = await import("../app/engine/snapshot-writer.server");
    const reader = new Database(databasePath, { readonly: true });
    const bytes = () =>
      reader
        .prepare("select coalesce(sum(pgsize), 0) from dbstat where name in ('engine_snapshots', 'engine_snapshots_study_idx')")
        .pluck()
        .get() as number;
    const rows = () => reader.prepare("select count(*) from engine_snapshots").pluck().get() as number;
    // Estimates written in full, as the engine's are (short decimals would understate the JSON by a third).
    const full = () => Float64Array.from(study.promptIds, () => random() * 4 - 2);
    const perHour = 1800;
    const report: string[] = [];
    let largest = 0;
    let largestAt = 0;
    for (let k = 1; k <= 5 * perHour; k++) {
      const voteCount = k * 20;
      const utilities = full();
      writeSnapshot(
        study.studyId,
        "duet",
        study.promptIds,
        {
          type: "selection",
          studyId: study.studyId,
          requestId: k,
          voteCount,
          pairs: [],
          recommended: k % 7,
          utilities,
          uncertainties: full(),
          recommendationScores: full(),
          fitMs: 1,
          selectMs: 1,
          interim: false,
        },
        {
          type: "statistics",
          studyId: study.studyId,
          requestId: k,
          voteCount,
          arms: study.promptIds.map((_, arm) => ({
            arm,
            score: utilities[arm]!,
            lower: utilities[arm]! - random(),
            upper: utilities[arm]! + random(),
            probabilityBest: random() / promptCount,
          })),
          leftWinRate: 0.5,
          converged: k > 4 * perHour,
          votesStillNeeded: 100,
          statsMs: 1,
        },
      );
      // After every write, not at a few instants: the storage rises and falls as the series fills and is thinned.
      const now = bytes();
      if (now > largest) [largest, largestAt] = [now, k];
      if (k === perHour || k === 5 * perHour) report.push(`after ${k / perHour} h: ${rows()} rows, ${(now / 1024).toFixed(0)} KB`);
    }
    const latestJson = reader.prepare("select length(prompt_stats) from engine_snapshots order by id desc limit 1").pluck().get() as number;
    console.log(
      `${promptCount.toLocaleString("en")} prompts: ${report.join("; ")}; largest after any write ${(largest / 1024).toFixed(0)} KB (write ${largestAt}); latest statistics ${(latestJson / promptCount).toFixed(0)} bytes a prompt   bound (ADR 0027: 64 KB + 280 bytes a prompt in 4 KB pages) ${(snapshotStorageBound(promptCount) / 1024).toFixed(0)} KB`,
    );
    reader.close();
    closeConnection();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function benchDownloads(options: Options) {
  console.log(`\n== downloads: ${options.downloads} clients that never read a 100,000-vote raw export (${load()})`);
  const { dir, databasePath } = freshDatabase("downloads");
  const sqlite = new Database(databasePath);
  const study = sqlite.transaction(() => {
    const created = preloadStudy(sqlite, "Download study", 50, 10);
    preloadVotes(sqlite, created.studyId, created.promptIds, created.queryIds, 100_000);
    return created;
  })();
  sqlite.close();
  const server = await startServer(dir);
  const url = `${server.url}/studies/${study.studyId}/export/download?format=jsonl`;
  const full = await request(url, { headers: asOwner(server) });
  console.log(`export: ${(Buffer.byteLength(full.body) / MB).toFixed(1)} MB, read in full in ${(full.ms / 1000).toFixed(1)} s`);
  await sleep(3000);
  const baseline = processFigures(server.pid).rssMb;
  const sockets: Socket[] = [];
  await Promise.all(
    Array.from(
      { length: options.downloads },
      () =>
        new Promise<void>((resolve, reject) => {
          const req = http.get(url, { agent: false, headers: asOwner(server) }, (response) => {
            response.pause();
            sockets.push(response.socket);
            resolve();
          });
          req.on("error", reject);
        }),
    ),
  );
  let peak = baseline;
  for (let k = 0; k < 20; k++) {
    await sleep(500);
    peak = Math.max(peak, processFigures(server.pid).rssMb);
  }
  const stalled = processFigures(server.pid).rssMb;
  for (const socket of sockets) socket.destroy();
  await sleep(5000);
  const after = processFigures(server.pid).rssMb;
  console.log(
    `server RSS: ${baseline.toFixed(0)} MB before, ${stalled.toFixed(0)} MB with ${options.downloads} stalled downloads (peak ${peak.toFixed(0)} MB over 10 s), ${after.toFixed(0)} MB 5 s after they disconnected   (before the fix: +184 MB, kept after disconnect)`,
  );
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}

async function main() {
  const options = validateFlags(OptionsSchema, parseFlags(process.argv.slice(2)), USAGE);
  console.log(`bench:owner-ops on ${os.cpus()[0]?.model ?? "unknown CPU"}, ${load()}`);
  if (options.only.includes("pool")) await benchPool(options);
  if (options.only.includes("import")) await benchImport(options);
  if (options.only.includes("addition")) await benchAddition(options);
  if (options.only.includes("dashboard")) await benchDashboard(options);
  if (options.only.includes("snapshots")) await benchSnapshots();
  if (options.only.includes("downloads")) await benchDownloads(options);
  console.log(`\ndone, ${load()}`);
  agent.destroy();
}

main().catch((error) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
