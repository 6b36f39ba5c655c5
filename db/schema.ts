import { sql } from "drizzle-orm";
import { blob, check, index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

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
// Roles of a study member (an account). Annotators are not accounts: they join by invite link.
export const STUDY_ROLES = ["owner", "editor", "viewer"] as const;
export const INVITE_ROLES = [...STUDY_ROLES, "annotator"] as const;
// "judge": an LLM acting as an annotator through the background queue (a later issue).
export const ANNOTATOR_KINDS = ["human", "judge"] as const;
export const TOKEN_SCOPES = ["read", "write"] as const;
export const AUDIT_ACTIONS = [
  "study.created",
  "study.adopted",
  "study.deleted",
  "study.status_changed",
  "study.guidance_changed",
  "prompts.added",
  "queries.added",
  "item.enabled",
  "item.disabled",
  "query.tags_changed",
  "variants.requested",
  "pool.grown",
  "prompt.retired",
  "prompt.restored",
  "study.retirement_changed",
  "study.auto_rounds_changed",
  "auto_round.queued",
  "auto_rounds.stopped",
  "generation.retried",
  "responses.imported",
  "votes.imported",
  "job.confirmed",
  "job.cancelled",
  "job.retried",
  "export.downloaded",
  "invite.created",
  "invite.revoked",
  "member.joined",
  "member.role_changed",
  "member.removed",
  "annotator.removed",
  "annotator.excluded",
  "annotator.reinstated",
  "quality.checks_changed",
  "gold.marked",
  "gold.unmarked",
  "token.created",
  "token.revoked",
  "judge.configured",
  "judge.batch_requested",
  "judge.batch_judged",
] as const;
// withdrawn: its vote was undone and the pair handed out again as a new assignment; a late vote on it is refused.
export const ASSIGNMENT_STATUSES = ["open", "answered", "expired", "withdrawn"] as const;
// Why a pair was served (issue 18 §2, §3; ADR 0034): work (the engine's or random), audit (a pair the
// annotator decided before, sides swapped: a self-consistency check, out of the tallies and the engine),
// gold (an item with an owner's known answer, mixed in at the study's gold rate; counted like work),
// overlap (a (query, pair) decided by exactly one other annotator, served again for agreement at the study's
// overlap rate; a real vote, counted like work: issue 18 §4, ADR 0042).
export const ASSIGNMENT_PURPOSES = ["work", "audit", "gold", "overlap"] as const;
export type AssignmentPurpose = (typeof ASSIGNMENT_PURPOSES)[number];
export const VOTE_CHOICES = ["left", "right", "tie", "both_bad", "skip"] as const;

export type VoteChoice = (typeof VOTE_CHOICES)[number];
export type StudyRole = (typeof STUDY_ROLES)[number];
export type InviteRole = (typeof INVITE_ROLES)[number];
export type TokenScope = (typeof TOKEN_SCOPES)[number];
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

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
  // The retirement rule (bandit/retirement.ts), applied after each engine snapshot: off while null.
  // A prompt with at least this many comparisons whose upper bound is below the leader's lower bound
  // by more than retireMargin leaves selection (its votes stay).
  retireMinComparisons: integer("retire_min_comparisons"),
  retireMargin: real("retire_margin").notNull().default(0),
  // At most this many prompts in selection (growth is refused past it; the rule retires the weakest
  // measured ones when it is lowered); null = no cap.
  poolCap: integer("pool_cap"),
  // Automatic rounds (issue 17 §3; app/llm/auto-rounds.server.ts, ADR 0033): off while autoRoundEvery is null.
  // Every autoRoundEvery decisive votes, when the leader has been stable for autoRoundStableVotes votes, grow by
  // autoRoundCount from the top autoRoundParents; stop after autoRoundMaxRounds rounds, autoRoundMaxPrompts prompts
  // or autoRoundMaxCostUsd of estimated cost, or on the stopping rule with no better prompt from the last round.
  autoRoundEvery: integer("auto_round_every"),
  autoRoundCount: integer("auto_round_count").notNull().default(3),
  autoRoundParents: integer("auto_round_parents").notNull().default(2),
  autoRoundStableVotes: integer("auto_round_stable_votes").notNull().default(10),
  autoRoundMaxRounds: integer("auto_round_max_rounds").notNull().default(5),
  autoRoundMaxPrompts: integer("auto_round_max_prompts"),
  autoRoundMaxCostUsd: real("auto_round_max_cost_usd"),
  // Who turned them on (the growth rounds they queue are requested as this account).
  autoRoundsSetBy: text("auto_rounds_set_by", { mode: "json" }).$type<JobRequester>(),
  // Set when the loop stopped (a budget, the stopping rule, a confirmation it may not give); cleared when saved again.
  autoRoundsStoppedAt: integer("auto_rounds_stopped_at", { mode: "timestamp_ms" }),
  autoRoundsStopReason: text("auto_rounds_stop_reason"),
  // Quality checks (issue 18 §2, §3; ADR 0034). auditRate: the chance a pair request re-serves, sides
  // swapped, a pair the annotator decided earlier (0 = off, the default); never two audits in a row and
  // never more than auditMaxShare of the annotator's answered assignments. goldRate: the chance a pair
  // request serves a gold item the annotator has not answered (0 = off).
  auditRate: real("audit_rate").notNull().default(0),
  auditMaxShare: real("audit_max_share").notNull().default(0.1),
  goldRate: real("gold_rate").notNull().default(0),
  // Served overlaps (issue 18 §4; ADR 0042): the chance a pair request serves a (query, pair) exactly one other
  // annotator decided, so agreement is measured on served overlaps, not only accidental ones (0 = off).
  overlapRate: real("overlap_rate").notNull().default(0),
  createdAt: createdAt(),
});

/** Why the retirement rule took a prompt out of selection: the figures at that moment (bandit/retirement.ts). */
export interface PromptRetirement {
  rule: "ruled-out" | "pool-cap";
  comparisons: number;
  score: number;
  upper: number;
  leaderPromptId: number;
  leaderLower: number;
  margin: number;
  minComparisons: number;
  poolCap: number | null;
  voteCount: number;
}

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
    // Disabled by an owner: out of selection (the engine's arms, pair selection, the recommendation); votes stay.
    active: integer("active", { mode: "boolean" }).notNull().default(true),
    // Retired by the rule (null while not): out of selection like a disabled prompt, with the rule's figures.
    retiredAt: integer("retired_at", { mode: "timestamp_ms" }),
    retirement: text("retirement", { mode: "json" }).$type<PromptRetirement>(),
    // An owner brought it back after a retirement: the rule leaves it alone from then on.
    keptByOwner: integer("kept_by_owner", { mode: "boolean" }).notNull().default(false),
    // Lineage: 0 for the study's own prompts, parent's generation + 1 for a grown one (parentIds, growthRoundId).
    generation: integer("generation").notNull().default(0),
    growthRoundId: integer("growth_round_id").references(() => growthRounds.id, { onDelete: "set null" }),
    createdAt: createdAt(),
  },
  (table) => [uniqueIndex("prompts_study_normalized_text_unique").on(table.studyId, table.normalizedText)],
);

/** In selection: enabled by the owner and not retired by the rule (the one condition pair selection and the engine use). */
export const promptInSelection = sql`(${prompts.active} = 1 and ${prompts.retiredAt} is null)`;

export const GROWTH_STATES = ["queued", "running", "succeeded", "failed"] as const;

/**
 * One round of growing the pool (issue 17): K new prompts asked of the provider from the leaders. The
 * row is the request the generation worker runs (it survives a restart) and, once done, the lineage
 * record of the prompts it made: the exact instruction sent, the model, the parents with their records.
 */
export const growthRounds = sqliteTable(
  "growth_rounds",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    studyId: integer("study_id")
      .notNull()
      .references(() => studies.id, { onDelete: "cascade" }),
    state: text("state", { enum: GROWTH_STATES }).notNull().default("queued"),
    count: integer("count").notNull(),
    model: text("model").notNull(),
    // The parents (leaders) as shown to the model: id, rank, record, at the time of the request.
    parents: text("parents", { mode: "json" }).$type<GrowthParent[]>().notNull(),
    // The shared part of the mutation request (system and user messages); each call adds its parent and direction.
    instruction: text("instruction").notNull(),
    system: text("system").notNull(),
    error: text("error"),
    result: text("result", { mode: "json" }).$type<{ added: number[]; duplicates: number; failures: number }>(),
    requestedBy: text("requested_by", { mode: "json" }).$type<JobRequester>(),
    createdAt: createdAt(),
    finishedAt: integer("finished_at", { mode: "timestamp_ms" }),
    // The votes the engine counted (all but skips and excluded annotators') when the new prompts were committed:
    // where the convergence chart marks that they joined. Null until then, and for rounds that added nothing.
    joinedAtVotes: integer("joined_at_votes"),
  },
  (table) => [index("growth_rounds_study_idx").on(table.studyId, table.id)],
);

/**
 * One automatic round (issue 17 §3, ADR 0033): the threshold of decisive votes whose crossing triggered it, unique
 * per study so a crossing queues at most one round whatever runs the check (concurrent snapshots, a restart); what it
 * saw (leader, since when), what it queued (the growth round, K after the budgets and the confirmation threshold, its
 * estimated cost) and what the retirement rule had retired since the previous round.
 */
export const autoRounds = sqliteTable(
  "auto_rounds",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    studyId: integer("study_id")
      .notNull()
      .references(() => studies.id, { onDelete: "cascade" }),
    thresholdVotes: integer("threshold_votes").notNull(),
    decisiveVotes: integer("decisive_votes").notNull(),
    voteCount: integer("vote_count").notNull(),
    leaderPromptId: integer("leader_prompt_id").references(() => prompts.id, { onDelete: "set null" }),
    leaderSinceVotes: integer("leader_since_votes").notNull(),
    growthRoundId: integer("growth_round_id").references(() => growthRounds.id, { onDelete: "set null" }),
    count: integer("count").notNull(),
    parents: integer("parents").notNull(),
    estimatedCostUsd: real("estimated_cost_usd"),
    retired: text("retired", { mode: "json" }).$type<number[]>().notNull(),
    note: text("note"),
    createdAt: createdAt(),
  },
  (table) => [uniqueIndex("auto_rounds_study_threshold_idx").on(table.studyId, table.thresholdVotes)],
);

export interface GrowthParent {
  promptId: number;
  rank: number;
  wins: number;
  losses: number;
  ties: number;
  bothBad: number;
  score: number | null;
  generation: number;
}

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

// Owner-given labels of a query ("billing", "refunds"), to read results per kind of question (issue 18 §6).
// Stored normalised (app/models/query-tags.ts): trimmed, inner spaces collapsed, lower-cased.
export const queryTags = sqliteTable(
  "query_tags",
  {
    queryId: integer("query_id")
      .notNull()
      .references(() => queries.id, { onDelete: "cascade" }),
    // Denormalised from the query, so a study's tags are one index range.
    studyId: integer("study_id")
      .notNull()
      .references(() => studies.id, { onDelete: "cascade" }),
    tag: text("tag").notNull(),
  },
  (table) => [primaryKey({ columns: [table.queryId, table.tag] }), index("query_tags_study_tag_idx").on(table.studyId, table.tag)],
);

// Items with a known answer (issue 18 §3; ADR 0034): an owner says which prompt's response on this query
// is the better one (e.g. the other is deliberately wrong). Stored as the unordered pair (low id, high id)
// and the preferred prompt; mixed into the work at the study's gold rate; each annotator's gold accuracy is
// the share of the items they judged the way the owner did.
export const goldItems = sqliteTable(
  "gold_items",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    studyId: integer("study_id")
      .notNull()
      .references(() => studies.id, { onDelete: "cascade" }),
    queryId: integer("query_id")
      .notNull()
      .references(() => queries.id, { onDelete: "cascade" }),
    lowPromptId: integer("low_prompt_id")
      .notNull()
      .references(() => prompts.id, { onDelete: "cascade" }),
    highPromptId: integer("high_prompt_id")
      .notNull()
      .references(() => prompts.id, { onDelete: "cascade" }),
    preferredPromptId: integer("preferred_prompt_id").notNull(),
    createdAt: createdAt(),
  },
  (table) => [uniqueIndex("gold_items_item_unique").on(table.studyId, table.queryId, table.lowPromptId, table.highPromptId)],
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
    // Set by every drizzle update and upsert of the row (and its drizzle inserts) from SQLite's clock
    // (ADR 0039), so no caller sets it; null for a row queued by queueStudyResponses and never changed since.
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).$onUpdate(() => sql`(unixepoch('subsec') * 1000)`),
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

// Accounts: owners, editors and viewers of studies (the role is per study, in study_members).
export const users = sqliteTable(
  "users",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    // Stored trimmed and lower-cased: the sign-in key.
    email: text("email").notNull(),
    displayName: text("display_name").notNull(),
    // scrypt, self-describing: "scrypt$N$r$p$salt$hash" (app/auth/password.server.ts).
    passwordHash: text("password_hash").notNull(),
    createdAt: createdAt(),
  },
  (table) => [uniqueIndex("users_email_unique").on(table.email)],
);

// Whoever votes. Not accounts: an annotator is created by following an invite link and known by a
// display name; a member who annotates their own study does so as an annotator linked to their account.
export const annotators = sqliteTable(
  "annotators",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    displayName: text("display_name").notNull(),
    kind: text("kind", { enum: ANNOTATOR_KINDS }).notNull().default("human"),
    // Set when a study member annotates as themselves; their votes are then not blind.
    userId: integer("user_id").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
  },
  (table) => [uniqueIndex("annotators_user_unique").on(table.userId)],
);

// Signed-in browsers (and API clients holding a cookie). The cookie carries a random token; only its
// sha256 is stored, so a copy of the database signs nobody in. Deleting the row signs out at once.
export const sessions = sqliteTable(
  "sessions",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    tokenHash: text("token_hash").notNull(),
    userId: integer("user_id").references(() => users.id, { onDelete: "cascade" }),
    annotatorId: integer("annotator_id").references(() => annotators.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
  },
  (table) => [
    uniqueIndex("sessions_token_hash_unique").on(table.tokenHash),
    index("sessions_user_idx").on(table.userId),
    index("sessions_annotator_idx").on(table.annotatorId),
    // A session is an account's or an annotator's, never both.
    check("sessions_one_identity", sql`(${table.userId} is null) <> (${table.annotatorId} is null)`),
  ],
);

export const studyMembers = sqliteTable(
  "study_members",
  {
    studyId: integer("study_id")
      .notNull()
      .references(() => studies.id, { onDelete: "cascade" }),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: text("role", { enum: STUDY_ROLES }).notNull(),
    createdAt: createdAt(),
  },
  (table) => [primaryKey({ columns: [table.studyId, table.userId] }), index("study_members_user_idx").on(table.userId)],
);

// Invite links: for annotators (role "annotator") or for members (owner / editor / viewer). The
// token is shown once at creation; only its sha256 is stored.
export const invites = sqliteTable(
  "invites",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    studyId: integer("study_id")
      .notNull()
      .references(() => studies.id, { onDelete: "cascade" }),
    role: text("role", { enum: INVITE_ROLES }).notNull(),
    tokenHash: text("token_hash").notNull(),
    // The owner's name for the link ("pilot group"); shown to owners only.
    label: text("label"),
    createdByUserId: integer("created_by_user_id").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }),
    // How many people may join through the link; null = open (a crowd link).
    maxUses: integer("max_uses"),
    uses: integer("uses").notNull().default(0),
    revokedAt: integer("revoked_at", { mode: "timestamp_ms" }),
  },
  (table) => [uniqueIndex("invites_token_hash_unique").on(table.tokenHash), index("invites_study_idx").on(table.studyId)],
);

// Which studies an annotator joined. A removed annotator loses access; their votes stay, flagged. An
// excluded annotator keeps access, but their votes (kept, flagged in exports) leave the vote tallies,
// the leaderboard and the engine until an owner reinstates them (migrations/0011; ADR 0025).
export const studyAnnotators = sqliteTable(
  "study_annotators",
  {
    studyId: integer("study_id")
      .notNull()
      .references(() => studies.id, { onDelete: "cascade" }),
    annotatorId: integer("annotator_id")
      .notNull()
      .references(() => annotators.id, { onDelete: "cascade" }),
    // Null for a member annotating as themselves.
    inviteId: integer("invite_id").references(() => invites.id, { onDelete: "set null" }),
    joinedAt: integer("joined_at", { mode: "timestamp_ms" })
      .notNull()
      .default(sql`(unixepoch('subsec') * 1000)`),
    removedAt: integer("removed_at", { mode: "timestamp_ms" }),
    excludedAt: integer("excluded_at", { mode: "timestamp_ms" }),
  },
  (table) => [primaryKey({ columns: [table.studyId, table.annotatorId] }), index("study_annotators_annotator_idx").on(table.annotatorId)],
);

// An owner's API token, scoped to one study and read or write; the token is shown once, its sha256 stored.
export const apiTokens = sqliteTable(
  "api_tokens",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    studyId: integer("study_id")
      .notNull()
      .references(() => studies.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    scope: text("scope", { enum: TOKEN_SCOPES }).notNull(),
    tokenHash: text("token_hash").notNull(),
    // The first characters of the token, so an owner can tell tokens apart without the secret.
    prefix: text("prefix").notNull(),
    createdAt: createdAt(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }),
    // Written at most once a minute per token (app/models/api-token.server.ts).
    lastUsedAt: integer("last_used_at", { mode: "timestamp_ms" }),
    revokedAt: integer("revoked_at", { mode: "timestamp_ms" }),
  },
  (table) => [uniqueIndex("api_tokens_token_hash_unique").on(table.tokenHash), index("api_tokens_study_idx").on(table.studyId)],
);

// Owner-side actions, shown to the study's owners. Rows outlive their study and actor: study_id has no
// foreign key on purpose (study ids are AUTOINCREMENT, never reused), so a deleted study's history
// stays whole; the actor's label at the time is kept in `actor`.
export const auditLog = sqliteTable(
  "audit_log",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    // Null for actions outside any study (an account created from the command line).
    studyId: integer("study_id"),
    actorUserId: integer("actor_user_id").references(() => users.id, { onDelete: "set null" }),
    actorTokenId: integer("actor_token_id").references(() => apiTokens.id, { onDelete: "set null" }),
    actor: text("actor").notNull(),
    action: text("action", { enum: AUDIT_ACTIONS }).notNull(),
    details: text("details", { mode: "json" })
      .$type<Record<string, unknown>>()
      .notNull()
      .default(sql`'{}'`),
    createdAt: createdAt(),
  },
  (table) => [index("audit_log_study_idx").on(table.studyId, table.id)],
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
      .references(() => annotators.id, { onDelete: "cascade" }),
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
    purpose: text("purpose", { enum: ASSIGNMENT_PURPOSES }).notNull().default("work"),
    // An audit's original: the answered assignment whose (query, pair) it serves again, sides swapped.
    auditOf: integer("audit_of"),
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
    // The foreign-key lookups of a delete (ADR 0046): without them deleting a study scanned every
    // assignment once (the staging study of each import's and addition's publishing commit), and
    // deleting a prompt or a query scanned them once per row (the clean-up of an unpublished job:
    // 35 ms of CPU per query at 200,000 assignments, with the write lock held). The partial indexes
    // above cannot serve them. Written at an assignment's insert only: a vote changes none of these.
    index("assignments_study_idx").on(table.studyId),
    index("assignments_prompt_a_idx").on(table.promptAId),
    index("assignments_prompt_b_idx").on(table.promptBId),
    index("assignments_query_idx").on(table.queryId),
  ],
);

/** The open assignments, as a literal the planner can match to the partial indexes (a bound 'open' cannot). */
export const assignmentIsOpen = sql`${assignments.status} = 'open'`;

/**
 * Votes whose annotator an owner has not excluded from the study (study_annotators.excluded_at): the
 * votes the leaderboard and the engine count. Use it in a query over `votes`; the same condition is in
 * the tally triggers (migrations/0011).
 */
export const voteIsCounted = sql`not exists (select 1 from study_annotators excluded where excluded.study_id = "votes"."study_id" and excluded.annotator_id = "votes"."annotator_id" and excluded.excluded_at is not null)`;

/**
 * Votes an import has published (ADR 0036): every vote cast here, and an imported one once its job's
 * row has left pending_imports. Every reader of votes uses it (or votePublishedAs in raw SQL), as do
 * the tally triggers (migrations/0016, 0017).
 */
export const votePublished = sql`("votes"."import_job_id" is null or "votes"."import_job_id" not in (select job_id from pending_imports))`;

/** votePublished for raw SQL where the votes table goes by `alias`. */
export function votePublishedAs(alias: string) {
  return sql.raw(`(${alias}.import_job_id is null or ${alias}.import_job_id not in (select job_id from pending_imports))`);
}
/** Assignments whose vote counts for the tallies and the engine: audits do not (ADR 0034). Use with a join on assignments. */
export const assignmentIsCounted = sql`${assignments.purpose} <> 'audit'`;

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
      .references(() => annotators.id, { onDelete: "cascade" }),
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
    // The import job that wrote it in one of its chunks (ADR 0036): invisible (votePublished) while
    // that job's row is in pending_imports, visible from the job's small publishing commit on. Null
    // for a vote cast here.
    importJobId: integer("import_job_id"),
    createdAt: createdAt(),
  },
  (table) => [
    uniqueIndex("votes_assignment_unique").on(table.assignmentId),
    index("votes_import_job_idx")
      .on(table.importJobId)
      .where(sql`import_job_id is not null`),
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

/** A prompt's record from its tally row, zero when it has none (select with a left join on promptTallies). */
export const promptRecordColumns = {
  wins: sql<number>`coalesce(${promptTallies.wins}, 0)`,
  losses: sql<number>`coalesce(${promptTallies.losses}, 0)`,
  ties: sql<number>`coalesce(${promptTallies.ties}, 0)`,
  bothBad: sql<number>`coalesce(${promptTallies.bothBad}, 0)`,
};

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
    // Comparisons of the recommended prompt (wins, losses, ties, both bad) when the snapshot was taken: the chart
    // shows P(best) only from MIN_COMPARISONS_TO_RANK on. Null in rows written before migration 0015.
    recommendedComparisons: integer("recommended_comparisons"),
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

/** The cached crowd fit of a study (ADR 0041), as the quality page, the leaderboard and exports read it. */
export interface ReliabilityFitResult {
  /** Decided votes fitted (the latest RELIABILITY_MAX_VOTES at most) and whether older ones were left out. */
  votes: number;
  truncated: boolean;
  side: number;
  sideStdErr: number;
  converged: boolean;
  annotators: { annotatorId: number; votes: number; reliability: number; stdErr: number; upper: number; flagged: boolean; reversed: boolean }[];
  /** Crowd scores: beta-weighted, side-corrected Bradley–Terry scores of the prompts in the fitted votes. */
  prompts: { promptId: number; score: number }[];
}

// The reliability fit of each study (issue 18 §5; ADR 0041), computed on the reliability thread after an engine
// snapshot's commit and replaced whole: one row per study, O(prompts + annotators) of JSON. A cache: deleting it
// loses nothing but the time to fit again. `last_vote_id` is the newest vote the fit read, to tell whether it is current.
export const reliabilityFits = sqliteTable("reliability_fits", {
  studyId: integer("study_id")
    .primaryKey()
    .references(() => studies.id, { onDelete: "cascade" }),
  lastVoteId: integer("last_vote_id").notNull(),
  fit: text("fit", { mode: "json" }).$type<ReliabilityFitResult>().notNull(),
  fitMs: real("fit_ms").notNull(),
  createdAt: createdAt(),
});

// The LLM judge (issue 17 §4; ADR 0032): an annotator of kind "judge", one per study, whose votes are
// stored like anyone's. How they count is the exclusion flag of ADR 0025 on its study_annotators row:
// "separate" (the default) keeps excluded_at set, so its votes leave the tallies and the engine and are
// shown apart; "counted" and "prescreen" clear it. "prescreen" also spreads its batches over the whole
// pool instead of the pairs humans judged, to rank a large pool before humans see it.
export const JUDGE_MODES = ["separate", "counted", "prescreen"] as const;
export type JudgeMode = (typeof JUDGE_MODES)[number];

export const studyJudges = sqliteTable("study_judges", {
  studyId: integer("study_id")
    .primaryKey()
    .references(() => studies.id, { onDelete: "cascade" }),
  annotatorId: integer("annotator_id")
    .notNull()
    .references(() => annotators.id, { onDelete: "cascade" }),
  model: text("model").notNull(),
  // The judge's system message (the owner's, or the default in app/llm/judge.server.ts).
  instruction: text("instruction").notNull(),
  mode: text("mode", { enum: JUDGE_MODES }).notNull().default("separate"),
  // Budgets over the study's whole life: at most this many judged pairs, at most this many dollars; null = none.
  maxPairs: integer("max_pairs"),
  maxCostUsd: real("max_cost_usd"),
  // Its own rate: at most this many pairs (two calls each) a minute, whatever the generation queue does.
  pairsPerMinute: integer("pairs_per_minute").notNull().default(60),
  createdAt: createdAt(),
});

export const JUDGE_BATCH_STATES = ["queued", "running", "succeeded", "failed"] as const;
export const JUDGE_WINNERS = ["a", "b", "tie"] as const;
export type JudgeWinner = (typeof JUDGE_WINNERS)[number];

/** One judged batch: a request the generation worker runs (it survives a restart) and its running totals. */
export const judgeBatches = sqliteTable(
  "judge_batches",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    studyId: integer("study_id")
      .notNull()
      .references(() => studies.id, { onDelete: "cascade" }),
    state: text("state", { enum: JUDGE_BATCH_STATES }).notNull().default("queued"),
    // Pairs asked for (already cut to what the budget of pairs left at the time).
    pairs: integer("pairs").notNull(),
    model: text("model").notNull(),
    mode: text("mode", { enum: JUDGE_MODES }).notNull(),
    judged: integer("judged").notNull().default(0),
    positionBias: integer("position_bias").notNull().default(0),
    failures: integer("failures").notNull().default(0),
    costUsd: real("cost_usd").notNull().default(0),
    // Why it stopped early (budget spent, no pair left, the provider's last error).
    error: text("error"),
    requestedBy: text("requested_by", { mode: "json" }).$type<JobRequester>(),
    createdAt: createdAt(),
    finishedAt: integer("finished_at", { mode: "timestamp_ms" }),
  },
  (table) => [index("judge_batches_study_idx").on(table.studyId, table.id)],
);

/**
 * A (query, prompt pair) the judge judged: both orders (A first, then B first), what each said and why, the verdict
 * stored as its vote (a disagreement between the orders is a tie and counts as position bias), tokens and cost.
 * promptAId is the lower prompt id, so a pair is judged at most once per query.
 */
export const judgeVerdicts = sqliteTable(
  "judge_verdicts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    studyId: integer("study_id")
      .notNull()
      .references(() => studies.id, { onDelete: "cascade" }),
    batchId: integer("batch_id")
      .notNull()
      .references(() => judgeBatches.id, { onDelete: "cascade" }),
    voteId: integer("vote_id")
      .notNull()
      .references(() => votes.id, { onDelete: "cascade" }),
    queryId: integer("query_id")
      .notNull()
      .references(() => queries.id, { onDelete: "cascade" }),
    promptAId: integer("prompt_a_id")
      .notNull()
      .references(() => prompts.id, { onDelete: "cascade" }),
    promptBId: integer("prompt_b_id")
      .notNull()
      .references(() => prompts.id, { onDelete: "cascade" }),
    // What the judge said with A's response shown first, and with B's shown first (both in terms of A and B).
    aFirst: text("a_first", { enum: JUDGE_WINNERS }).notNull(),
    bFirst: text("b_first", { enum: JUDGE_WINNERS }).notNull(),
    winner: text("winner", { enum: JUDGE_WINNERS }).notNull(),
    positionBias: integer("position_bias", { mode: "boolean" }).notNull(),
    rationaleAFirst: text("rationale_a_first").notNull(),
    rationaleBFirst: text("rationale_b_first").notNull(),
    promptTokens: integer("prompt_tokens"),
    completionTokens: integer("completion_tokens"),
    costUsd: real("cost_usd"),
    createdAt: createdAt(),
  },
  (table) => [
    uniqueIndex("judge_verdicts_pair_unique").on(table.studyId, table.queryId, table.promptAId, table.promptBId),
    index("judge_verdicts_batch_idx").on(table.batchId),
    index("judge_verdicts_vote_idx").on(table.voteId),
  ],
);

export const JOB_KINDS = ["import-log", "create-study", "add-to-study", "import-responses", "reembed"] as const;
export const JOB_STATES = ["awaiting_confirmation", "queued", "running", "succeeded", "failed"] as const;
export type JobKind = (typeof JOB_KINDS)[number];
export type JobState = (typeof JOB_STATES)[number];

// Owner operations too big for a request (issue 14; ADR 0010): a raw-log import, creating a study or
// adding thousands of rows to one, importing responses, re-embedding. A row per job; the work runs on
// the job thread (app/jobs/), commits in one transaction together with the job's "succeeded", and is
// queued again after a crash. A job over the confirmation thresholds waits for the owner's yes.
/** The acting identity behind a job, as an audit row records it (app/services). */
export interface JobRequester {
  userId: number | null;
  tokenId: number | null;
  label: string;
}

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
    // Who queued it (an owner's account or API token, as the audit log names them): the job's commit
    // writes the audit row of what it did in the same transaction. Null for jobs nobody asked for
    // (offline re-embedding from the command line).
    requestedBy: text("requested_by", { mode: "json" }).$type<JobRequester>(),
    createdAt: createdAt(),
    startedAt: integer("started_at", { mode: "timestamp_ms" }),
    finishedAt: integer("finished_at", { mode: "timestamp_ms" }),
  },
  (table) => [index("jobs_state_idx").on(table.state, table.id), index("jobs_study_idx").on(table.studyId, table.id)],
);

// A raw-log import being written in chunks (ADR 0036): while its row is here, its votes
// (votes.import_job_id) are invisible to every reader and to the tallies, and the prompts and
// queries it creates belong to its staging study, a study row nobody is a member of. Its last,
// small commit moves those prompts and queries into the target study, adds the tallies, deletes the
// staging study and this row, and marks the job succeeded: the import appears at once. A row left by
// a crash or a failed attempt is cleaned up, a chunk at a time, before the next job runs. Study
// creation and additions stage their rows the same way (ADR 0043): a study being created is its own
// staging study; an addition's pending responses name a staged prompt or query.
export const pendingImports = sqliteTable("pending_imports", {
  // No foreign keys: a job row (or its study) deleted meanwhile must not make the rows visible.
  jobId: integer("job_id").primaryKey(),
  studyId: integer("study_id").notNull(),
  stagingStudyId: integer("staging_study_id").notNull(),
  // Annotators created for the import (they have no link to any study until it is published).
  annotatorIds: text("annotator_ids", { mode: "json" })
    .$type<number[]>()
    .notNull()
    .default(sql`'[]'`),
  createdAt: createdAt(),
});

// Small key/value facts about this database (e.g. that the demo study was seeded once).
export const appMeta = sqliteTable("app_meta", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});
