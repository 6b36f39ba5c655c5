import { sql } from "drizzle-orm";
import { blob, index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

// The one place tables are defined (DESIGN §3). Votes are the source of truth: everything the
// engine knows is rebuilt from votes + prompt embeddings.

const createdAt = () =>
  integer("created_at", { mode: "timestamp_ms" })
    .notNull()
    .default(sql`(unixepoch('subsec') * 1000)`);

// draft: being set up, no annotation yet; running: annotators get pairs; paused: annotators are told to
// come back later; closed: complete (by the owner, or by the stopping rule when closeOnConvergence);
// archived: closed and hidden from the studies list by default.
export const STUDY_STATUSES = ["draft", "running", "paused", "closed", "archived"] as const;
export const CLOSED_REASONS = ["owner", "converged"] as const;
export const PROMPT_SOURCES = ["manual", "imported", "generated", "mutated"] as const;
export const RESPONSE_STATUSES = ["pending", "ready", "error"] as const;
export const USER_ROLES = ["owner", "annotator"] as const;
// withdrawn: its vote was undone and the pair handed out again as a new assignment; a late vote on it is refused.
export const ASSIGNMENT_STATUSES = ["open", "answered", "expired", "withdrawn"] as const;
export const VOTE_CHOICES = ["left", "right", "tie", "both_bad", "skip"] as const;

export type VoteChoice = (typeof VOTE_CHOICES)[number];

export const studies = sqliteTable("studies", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  name: text("name").notNull(),
  task: text("task").notNull(),
  model: text("model").notNull(),
  temperature: real("temperature").notNull().default(0.7),
  maxTokens: integer("max_tokens").notNull().default(600),
  // Passed to the provider for best-effort reproducibility; null = provider default.
  seed: integer("seed"),
  policy: text("policy").notNull().default("default"),
  warmupPairs: integer("warmup_pairs").notNull().default(5),
  explorationWeight: real("exploration_weight").notNull().default(1),
  status: text("status", { enum: STUDY_STATUSES }).notNull().default("running"),
  // Why a closed (or archived) study was closed; null while it never was.
  closedReason: text("closed_reason", { enum: CLOSED_REASONS }),
  // The stopping rule closes the study when it fires (annotators then see "complete").
  closeOnConvergence: integer("close_on_convergence", { mode: "boolean" }).notNull().default(true),
  // Owner-written instructions for annotators (markdown, rendered safely), shown on the annotate page.
  guidelines: text("guidelines"),
  // Votes the owner hopes for from each annotator; null = no goal shown.
  annotatorGoal: integer("annotator_goal"),
  // Tell the annotator which prompt won after each vote (Arena style). Off by default: it can bias later votes.
  revealWinner: integer("reveal_winner", { mode: "boolean" }).notNull().default(false),
  createdAt: createdAt(),
});

export const prompts = sqliteTable(
  "prompts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    studyId: integer("study_id")
      .notNull()
      .references(() => studies.id, { onDelete: "cascade" }),
    text: text("text").notNull(),
    // Lower-cased, whitespace-collapsed text: two prompts that differ only in spacing or case are one arm.
    normalizedText: text("normalized_text").notNull(),
    // Owner-facing short name; never shown to annotators.
    label: text("label"),
    source: text("source", { enum: PROMPT_SOURCES }).notNull().default("manual"),
    parentIds: text("parent_ids", { mode: "json" })
      .$type<number[]>()
      .notNull()
      .default(sql`'[]'`),
    // Float32 little-endian vector; unit norm.
    embedding: blob("embedding", { mode: "buffer" }),
    embeddingModel: text("embedding_model"),
    active: integer("active", { mode: "boolean" }).notNull().default(true),
    createdAt: createdAt(),
  },
  (table) => [uniqueIndex("prompts_study_normalized_text_unique").on(table.studyId, table.normalizedText)],
);

export const queries = sqliteTable(
  "queries",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    studyId: integer("study_id")
      .notNull()
      .references(() => studies.id, { onDelete: "cascade" }),
    text: text("text").notNull(),
    // What a good answer must do; shown to owners, optional.
    notes: text("notes"),
    // A disabled query leaves pair selection; its responses and votes stay (marked in exports).
    active: integer("active", { mode: "boolean" }).notNull().default(true),
    createdAt: createdAt(),
  },
  (table) => [uniqueIndex("queries_study_text_unique").on(table.studyId, table.text)],
);

export const responses = sqliteTable(
  "responses",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    promptId: integer("prompt_id")
      .notNull()
      .references(() => prompts.id, { onDelete: "cascade" }),
    queryId: integer("query_id")
      .notNull()
      .references(() => queries.id, { onDelete: "cascade" }),
    // Hash of the generation settings (model, temperature, max tokens, seed): changing them asks for
    // new responses instead of silently mixing outputs of two configurations in one study.
    settingsHash: text("settings_hash").notNull(),
    content: text("content"),
    // The generation queue lives here: a pending row is a job that survives restarts.
    status: text("status", { enum: RESPONSE_STATUSES }).notNull().default("pending"),
    error: text("error"),
    attempts: integer("attempts").notNull().default(0),
    promptTokens: integer("prompt_tokens"),
    completionTokens: integer("completion_tokens"),
    costUsd: real("cost_usd"),
    latencyMs: integer("latency_ms"),
    createdAt: createdAt(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }),
  },
  (table) => [
    uniqueIndex("responses_prompt_query_settings_unique").on(table.promptId, table.queryId, table.settingsHash),
    // Partial: the generation queue looks for pending rows; a plain status index misled the planner
    // into scanning every ready response for per-prompt lookups (bench:server profile).
    index("responses_pending_idx")
      .on(table.id)
      .where(sql`status = 'pending'`),
    index("responses_query_idx").on(table.queryId),
    // Pair requests ask which queries two prompts both have ready answers for: index-only, so the
    // lookup never reads a row, whose status sits behind a long response text (overflow pages).
    index("responses_ready_idx")
      .on(table.promptId, table.settingsHash, table.queryId)
      .where(sql`status = 'ready'`),
  ],
);

/** Ready responses, as a literal the planner can match to responses_ready_idx (a bound 'ready' cannot). */
export const responseIsReady = sql`${responses.status} = 'ready'`;

export const users = sqliteTable(
  "users",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    role: text("role", { enum: USER_ROLES }).notNull().default("annotator"),
    displayName: text("display_name").notNull(),
    // sha256 of the invite token; the token itself is never stored.
    inviteTokenHash: text("invite_token_hash"),
    createdAt: createdAt(),
  },
  (table) => [uniqueIndex("users_invite_token_hash_unique").on(table.inviteTokenHash)],
);

export const assignments = sqliteTable(
  "assignments",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    studyId: integer("study_id")
      .notNull()
      .references(() => studies.id, { onDelete: "cascade" }),
    annotatorId: integer("annotator_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    promptAId: integer("prompt_a_id")
      .notNull()
      .references(() => prompts.id, { onDelete: "cascade" }),
    promptBId: integer("prompt_b_id")
      .notNull()
      .references(() => prompts.id, { onDelete: "cascade" }),
    queryId: integer("query_id")
      .notNull()
      .references(() => queries.id, { onDelete: "cascade" }),
    // Which prompt's response was shown on the left: randomised per assignment against position bias.
    leftIsA: integer("left_is_a", { mode: "boolean" }).notNull(),
    issuedAt: integer("issued_at", { mode: "timestamp_ms" }).notNull(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
    policy: text("policy").notNull(),
    engineRound: integer("engine_round").notNull().default(0),
    status: text("status", { enum: ASSIGNMENT_STATUSES }).notNull().default("open"),
  },
  (table) => [
    // Every pair request expires the overdue open assignments and asks whether a pair is held. Partial
    // indexes over the open rows only stay a few pages however long the study runs, so the writes of
    // a vote touch less (bench:server). Queries must say status = 'open' literally: assignmentIsOpen.
    index("assignments_open_expiry_idx")
      .on(table.studyId, table.expiresAt)
      .where(sql`status = 'open'`),
    index("assignments_open_pair_idx")
      .on(table.studyId, table.promptAId, table.promptBId)
      .where(sql`status = 'open'`),
    // An annotator's latest assignment in a study (which is their open one, if any): rowid order.
    index("assignments_annotator_idx").on(table.annotatorId, table.studyId),
    // Fresh pairs first: who already answered which query of a prompt pair, index-only (prompt ids are
    // unique across studies, so no study column is needed).
    index("assignments_answered_pair_idx")
      .on(table.promptAId, table.promptBId, table.queryId, table.annotatorId)
      .where(sql`status = 'answered'`),
  ],
);

/** The open assignments, as a literal the planner can match to the partial indexes (a bound 'open' cannot). */
export const assignmentIsOpen = sql`${assignments.status} = 'open'`;

/** The answered assignments, as a literal the planner can match to assignments_answered_pair_idx. */
export const assignmentIsAnswered = sql`${assignments.status} = 'answered'`;

export const votes = sqliteTable(
  "votes",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    // UNIQUE: a double submit of the same assignment never counts twice.
    assignmentId: integer("assignment_id")
      .notNull()
      .references(() => assignments.id, { onDelete: "cascade" }),
    // Denormalised from the assignment so the engine rebuild and exports scan one index.
    studyId: integer("study_id")
      .notNull()
      .references(() => studies.id, { onDelete: "cascade" }),
    annotatorId: integer("annotator_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    choice: text("choice", { enum: VOTE_CHOICES }).notNull(),
    comment: text("comment"),
    // Time from the pair being shown to the click, measured in the browser.
    latencyMs: integer("latency_ms"),
    // Where an imported vote came from: the fingerprint of its content in the raw log it was imported
    // from (app/export/raw-log-import.server.ts); null for a vote cast here. A study holds at most one
    // vote per origin, so importing a log again, or an overlapping one, adds each vote once. Imported
    // votes are added to the tallies by the import itself (one upsert per prompt, pair and annotator,
    // not three per vote): the tally trigger on insert skips them.
    origin: text("origin"),
    createdAt: createdAt(),
  },
  (table) => [
    uniqueIndex("votes_assignment_unique").on(table.assignmentId),
    index("votes_study_idx").on(table.studyId, table.id),
    // An annotator's votes in a study: their "N done" counter and their latest vote (undo), in id order.
    index("votes_annotator_idx").on(table.annotatorId, table.studyId),
    uniqueIndex("votes_study_origin_unique")
      .on(table.studyId, table.origin)
      .where(sql`origin is not null`),
  ],
);

// Running totals of the votes, kept by triggers on votes (migrations/0007_vote_tallies.sql) so the
// dashboard reads O(prompts) rows instead of every vote (issue 14), whatever path inserted the vote.
// A vote's left/right choice is resolved to prompts through its assignment's left_is_a, as
// app/models/vote-duel.ts does; skips count for nobody but the annotator.

/** Per prompt: decisive wins and losses, ties and both-bad votes it took part in. */
export const promptTallies = sqliteTable(
  "prompt_tallies",
  {
    promptId: integer("prompt_id")
      .primaryKey()
      .references(() => prompts.id, { onDelete: "cascade" }),
    studyId: integer("study_id")
      .notNull()
      .references(() => studies.id, { onDelete: "cascade" }),
    wins: integer("wins").notNull().default(0),
    losses: integer("losses").notNull().default(0),
    ties: integer("ties").notNull().default(0),
    bothBad: integer("both_bad").notNull().default(0),
  },
  (table) => [index("prompt_tallies_study_idx").on(table.studyId)],
);

/** Per unordered prompt pair (low id, high id): decisive wins of each, and draws (ties + both bad). */
export const pairTallies = sqliteTable(
  "pair_tallies",
  {
    lowPromptId: integer("low_prompt_id")
      .notNull()
      .references(() => prompts.id, { onDelete: "cascade" }),
    highPromptId: integer("high_prompt_id")
      .notNull()
      .references(() => prompts.id, { onDelete: "cascade" }),
    lowWins: integer("low_wins").notNull().default(0),
    highWins: integer("high_wins").notNull().default(0),
    draws: integer("draws").notNull().default(0),
  },
  (table) => [primaryKey({ columns: [table.lowPromptId, table.highPromptId] }), index("pair_tallies_high_idx").on(table.highPromptId)],
);

/**
 * Per (study, annotator): votes (skips included), skips, and the latencies that were measured.
 * annotator_id carries no foreign key: the annotator table's shape is the accounts work's
 * (issue 13); the study's cascade removes these rows.
 */
export const annotatorTallies = sqliteTable(
  "annotator_tallies",
  {
    studyId: integer("study_id")
      .notNull()
      .references(() => studies.id, { onDelete: "cascade" }),
    annotatorId: integer("annotator_id").notNull(),
    votes: integer("votes").notNull().default(0),
    skips: integer("skips").notNull().default(0),
    latencySumMs: integer("latency_sum_ms").notNull().default(0),
    latencyCount: integer("latency_count").notNull().default(0),
  },
  (table) => [primaryKey({ columns: [table.studyId, table.annotatorId] })],
);

export interface PromptStat {
  promptId: number;
  /** The policy's utility estimate and its uncertainty (sigma). */
  utility: number;
  uncertainty: number;
  /** What the recommendation ranks by (duet: a lower confidence bound); null or absent when not known. */
  engineScore?: number | null;
  /** Bradley–Terry score from the raw votes, its 95% bootstrap interval, and P(best) from the bootstrap. */
  score: number;
  lower: number;
  upper: number;
  pBest: number;
}

export const engineSnapshots = sqliteTable(
  "engine_snapshots",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    studyId: integer("study_id")
      .notNull()
      .references(() => studies.id, { onDelete: "cascade" }),
    voteCount: integer("vote_count").notNull(),
    policy: text("policy").notNull(),
    recommendedPromptId: integer("recommended_prompt_id").references(() => prompts.id, { onDelete: "set null" }),
    // P(best) of the recommended prompt.
    pBest: real("p_best"),
    converged: integer("converged", { mode: "boolean" }).notNull().default(false),
    // The stopping rule's rough estimate (docs/decisions/0005); null once converged or when unknown.
    votesStillNeeded: integer("votes_still_needed"),
    leftWinRate: real("left_win_rate"),
    promptStats: text("prompt_stats", { mode: "json" }).$type<PromptStat[]>().notNull(),
    createdAt: createdAt(),
  },
  (table) => [index("engine_snapshots_study_idx").on(table.studyId, table.voteCount)],
);

// A study's stopped engine: what its policy had learned (bandit PolicyState, v8-serialised), on which
// features and arms, after how many duels. The engine resumes from it exactly instead of learning
// again from every vote (ADR 0008). Votes stay the truth: a missing or outdated row only costs a refit.
export const engineCheckpoints = sqliteTable("engine_checkpoints", {
  studyId: integer("study_id")
    .primaryKey()
    .references(() => studies.id, { onDelete: "cascade" }),
  policy: text("policy").notNull(),
  // Which features the arms had (lexical, or one stored embedding model) and their prompt ids in arm order.
  featureSource: text("feature_source").notNull(),
  armPromptIds: text("arm_prompt_ids", { mode: "json" }).$type<number[]>().notNull(),
  voteCount: integer("vote_count").notNull(),
  state: blob("state", { mode: "buffer" }).notNull(),
  createdAt: createdAt(),
});

export const JOB_KINDS = ["import-log", "create-study", "add-to-study", "import-responses", "reembed"] as const;
export const JOB_STATES = ["awaiting_confirmation", "queued", "running", "succeeded", "failed"] as const;
export type JobKind = (typeof JOB_KINDS)[number];
export type JobState = (typeof JOB_STATES)[number];

// Owner operations too big for a request (issue 14; ADR 0010): a raw-log import, creating a study or
// adding thousands of rows to one, importing responses, re-embedding. A row per job; the work runs on
// the job thread (app/jobs/), commits in one transaction together with the job's "succeeded", and is
// queued again after a crash. A job over the confirmation thresholds waits for the owner's yes.
export const jobs = sqliteTable(
  "jobs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    kind: text("kind", { enum: JOB_KINDS }).notNull(),
    // The study it works on; null for a study being created (the result names it once done).
    studyId: integer("study_id").references(() => studies.id, { onDelete: "cascade" }),
    state: text("state", { enum: JOB_STATES }).notNull().default("queued"),
    // The job's input, a JSON file in the jobs folder beside the database (uploads can be 50 MB);
    // removed once the job can no longer run.
    inputFile: text("input_file").notNull(),
    // What the job will do, as shown (and confirmed) before it runs: counts, responses, cost.
    plan: text("plan", { mode: "json" }).$type<Record<string, unknown>>(),
    phase: text("phase"),
    progressDone: integer("progress_done").notNull().default(0),
    progressTotal: integer("progress_total").notNull().default(0),
    attempts: integer("attempts").notNull().default(0),
    // Why it failed: the input's problems (line by line) or the error that stopped its last attempt.
    errors: text("errors", { mode: "json" }).$type<string[]>(),
    result: text("result", { mode: "json" }).$type<Record<string, unknown>>(),
    createdAt: createdAt(),
    startedAt: integer("started_at", { mode: "timestamp_ms" }),
    finishedAt: integer("finished_at", { mode: "timestamp_ms" }),
  },
  (table) => [index("jobs_state_idx").on(table.state, table.id), index("jobs_study_idx").on(table.studyId, table.id)],
);

// Small key/value facts about this database (e.g. that the demo study was seeded once).
export const appMeta = sqliteTable("app_meta", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});
