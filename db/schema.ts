import { sql } from "drizzle-orm";
import { blob, index, integer, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

// The one place tables are defined (DESIGN §3). Votes are the source of truth: everything the
// engine knows is rebuilt from votes + prompt embeddings.

const createdAt = () =>
  integer("created_at", { mode: "timestamp_ms" })
    .notNull()
    .default(sql`(unixepoch('subsec') * 1000)`);

export const STUDY_STATUSES = ["draft", "running", "done"] as const;
export const PROMPT_SOURCES = ["manual", "imported", "generated", "mutated"] as const;
export const RESPONSE_STATUSES = ["pending", "ready", "error"] as const;
export const USER_ROLES = ["owner", "annotator"] as const;
export const ASSIGNMENT_STATUSES = ["open", "answered", "expired"] as const;
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
  ],
);

/** The open assignments, as a literal the planner can match to the partial indexes (a bound 'open' cannot). */
export const assignmentIsOpen = sql`${assignments.status} = 'open'`;

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
    createdAt: createdAt(),
  },
  (table) => [uniqueIndex("votes_assignment_unique").on(table.assignmentId), index("votes_study_idx").on(table.studyId, table.id)],
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

// Small key/value facts about this database (e.g. that the demo study was seeded once).
export const appMeta = sqliteTable("app_meta", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});
