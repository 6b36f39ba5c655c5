import { asc, count, eq, inArray, sql } from "drizzle-orm";
import type { DB } from "../../db/client";
import { pendingImports, prompts, queries, queryTags, responses, studies } from "../../db/schema";
import { generationSettingsHash, normalizePromptText } from "../../db/text";
import { JobInputError, type JobContext, type JobResult, type Transaction } from "~/jobs/job-context.server";
import { inRanges, openStaging, STAGED_CHUNK_ROWS, stagingClash, stagingExists, type StagedWriter } from "~/jobs/staged-writes.server";
import { lexicalEmbedding } from "~/llm/embeddings.server";
import { checkResponseCap, ResponseCapError } from "~/llm/generation-queue.server";
import { requestVariants } from "~/llm/variants.server";
import { ImportError, type ParsedQuery, type ParsedResponse } from "~/utils/study-files.server";
import { setMemberRole } from "./membership.server";
import {
  insertPrompts,
  studyRow,
  insertQueries,
  resolveResponses,
  storeResponses,
  textsNamedByResponses,
  type AddedCounts,
  type NewPrompt,
  type NewStudy,
  type PromptEmbeddings,
} from "./study-setup.server";

// Study creation, additions and response imports as jobs (ADR 0010, 0043). Prompts are embedded
// first (with progress); creation and additions then write their rows in short chunks nobody sees
// (app/jobs/staged-writes.server.ts, the raw-log import's mechanism) and publish them in one small
// commit that also marks the job succeeded:
// - a new study is itself the staging study: archived, with no members, until the publishing commit
//   gives it its status, its owner and its variant request;
// - an addition writes its new prompts and queries into a staging study, and the pending responses of
//   every new pair (each names a staged prompt or query, so no reader of the study sees it); the
//   publishing commit moves the staged prompts, queries and tags into the study and queues the pairs
//   of the study's own prompts and queries that still lack a response (none, unless an import left
//   some).
// A line that cannot be stored or more responses than the study may hold fails the job with the
// reason; any other error retries it. Either way what it staged is removed at once.

/** What a staged setup job reports. */
type SetupResult = JobResult & AddedCounts & { studyId: number };

/** The staged rows were removed, or the study changed, between the chunks and the publication: the job runs again, preparing afresh. */
class SetupRaced extends Error {}

/** The offline embeddings of the prompts a job will add, computed before it writes. */
function embedPrompts(ctx: JobContext, texts: string[]): PromptEmbeddings {
  const embeddings = new Map<string, { embedding: Buffer; embeddingModel: string }>();
  texts.forEach((text, k) => {
    if (k % 100 === 0) ctx.progress("embedding prompts", k, texts.length);
    if (!embeddings.has(text)) embeddings.set(text, lexicalEmbedding(text));
  });
  return embeddings;
}

type Progress = (phase: string, done: number, total: number) => void;
interface StagedOptions {
  chunkRows?: number;
  progress?: Progress;
}

/**
 * Queues a pending response, in chunks, for every pair of each block (promptIds × queryIds) that has
 * none for `settingsHash`. Returns how many were queued. O(pairs) rows written, none read.
 */
function queuePairs(
  writer: StagedWriter<unknown>,
  settingsHash: string,
  blocks: readonly (readonly [readonly number[], readonly number[]])[],
  chunkRows: number,
  progress: Progress,
): number {
  const total = blocks.reduce((sum, [promptIds, queryIds]) => sum + promptIds.length * queryIds.length, 0);
  let queued = 0;
  let offset = 0;
  for (const [promptIds, queryIds] of blocks) {
    const n = promptIds.length * queryIds.length;
    inRanges(chunkRows, writer, n, (tx, from, to) => {
      const insert = tx
        .insert(responses)
        .values({ promptId: sql.placeholder("promptId"), queryId: sql.placeholder("queryId"), settingsHash, status: "pending" })
        .onConflictDoNothing()
        .prepare();
      for (let k = from; k < to; k++) {
        queued += insert.run({ promptId: promptIds[Math.floor(k / queryIds.length)]!, queryId: queryIds[k % queryIds.length]! }).changes;
      }
      progress("queueing responses", offset + to, total);
    });
    offset += n;
  }
  return queued;
}

function idsOf(db: DB | Transaction, table: typeof prompts | typeof queries, studyId: number): number[] {
  return db
    .select({ id: table.id })
    .from(table)
    .where(eq(table.studyId, studyId))
    .orderBy(asc(table.id))
    .all()
    .map((row) => row.id);
}

/**
 * Creates a study with its prompts, queries, imported responses and queued responses in chunks, then
 * publishes it (status, owner, variant request) in one small commit. Until then the study is
 * archived, has no members and is named by the job's pending row: nobody sees it, no engine or
 * generation worker touches it, and a crash leaves only what pendingImportCleanUp removes.
 * Throws ImportError (a response line), ResponseCapError, or SetupRaced.
 */
export function writeStudyCreation(
  db: DB,
  jobId: number,
  input: NewStudy,
  ownerUserId: number,
  embeddings: PromptEmbeddings,
  writer: StagedWriter<JobResult>,
  { chunkRows = STAGED_CHUNK_ROWS, progress = () => {} }: StagedOptions = {},
): SetupResult {
  let studyId = 0;
  writer.chunk((tx) => {
    studyId = tx.insert(studies).values(studyRow(input, "archived")).returning({ id: studies.id }).get().id;
    openStaging(tx, jobId, studyId, studyId);
  });
  const fromResponses = textsNamedByResponses(input.responses);
  const promptList: NewPrompt[] = [
    ...(input.variants ? [{ text: input.variants.seedPrompt, label: "seed", source: "manual" as const }] : []),
    ...input.prompts,
    ...fromResponses.prompts.map((text) => ({ text, label: null, source: "imported" as const })),
  ];
  const queryList: ParsedQuery[] = [...input.queries, ...fromResponses.queries.map((text) => ({ text, notes: null }))];
  const promptIds: number[] = [];
  let promptsAdded = 0;
  inRanges(chunkRows, writer, promptList.length, (tx, from, to) => {
    const inserted = insertPrompts(tx, studyId, promptList.slice(from, to), embeddings);
    promptIds.push(...inserted.ids);
    promptsAdded += inserted.added;
    progress("writing prompts", to, promptList.length);
  });
  let queriesAdded = 0;
  inRanges(chunkRows, writer, queryList.length, (tx, from, to) => {
    queriesAdded += insertQueries(tx, studyId, queryList.slice(from, to)).added;
    progress("writing queries", to, queryList.length);
  });
  const settingsHash = generationSettingsHash(input);
  // Imported responses first: only the pairs still without one are queued for generation.
  if (input.responses.length > 0) {
    const { rows } = resolveResponses(db, studyId, input.responses);
    inRanges(chunkRows, writer, rows.length, (tx, from, to) => storeResponses(tx, settingsHash, rows.slice(from, to)));
  }
  const studyPrompts = idsOf(db, prompts, studyId);
  const studyQueries = idsOf(db, queries, studyId);
  checkResponseCap(studyPrompts.length, studyQueries.length);
  const responsesQueued = queuePairs(writer, settingsHash, [[studyPrompts, studyQueries]], chunkRows, progress);
  return writer.publish((tx) => {
    if (!stagingExists(tx, jobId)) throw new SetupRaced("the study's written rows were removed meanwhile");
    tx.update(studies)
      .set({ status: input.status ?? "draft" })
      .where(eq(studies.id, studyId))
      .run();
    setMemberRole(tx, studyId, ownerUserId, "owner");
    if (input.variants) requestVariants(tx, { studyId, seedPromptId: promptIds[0]!, count: input.variants.count });
    // The one row that hid the study: from this commit on it is its owner's.
    tx.delete(pendingImports).where(eq(pendingImports.jobId, jobId)).run();
    return {
      studyId,
      promptsAdded,
      promptDuplicates: promptList.length - promptsAdded,
      queriesAdded,
      queryDuplicates: queryList.length - queriesAdded,
      responsesQueued,
    };
  }) as SetupResult;
}

/**
 * Adds prompts and queries to a study in chunks and queues the responses they need, then publishes
 * them in one small commit (see the file's comment). Duplicates of what the study has (prompts up to
 * case and spacing, queries exactly) are skipped; the tags of a repeated query are added to the
 * study's own. Throws ResponseCapError (nothing published) or SetupRaced (the owner added one of the
 * same texts meanwhile: the job runs again).
 */
export function writeStudyAddition(
  db: DB,
  jobId: number,
  studyId: number,
  additions: { prompts: NewPrompt[]; queries: ParsedQuery[] },
  embeddings: PromptEmbeddings,
  writer: StagedWriter<JobResult>,
  { chunkRows = STAGED_CHUNK_ROWS, progress = () => {} }: StagedOptions = {},
): SetupResult {
  const study = db.select().from(studies).where(eq(studies.id, studyId)).get();
  if (!study) throw new SetupRaced(`study ${studyId} is gone`);
  const settingsHash = generationSettingsHash(study);
  // What the study has, read once without the lock: the additions are matched against it here and
  // checked again in the publishing commit.
  const ownPrompts = db.select({ id: prompts.id, normalizedText: prompts.normalizedText }).from(prompts).where(eq(prompts.studyId, studyId)).all();
  const ownQueries = db.select({ id: queries.id, text: queries.text }).from(queries).where(eq(queries.studyId, studyId)).all();
  const ownPromptTexts = new Set(ownPrompts.map((row) => row.normalizedText));
  const ownQueryByText = new Map(ownQueries.map((row) => [row.text, row.id]));
  const newPrompts = additions.prompts.filter((prompt) => !ownPromptTexts.has(normalizePromptText(prompt.text)));
  const newQueries = additions.queries.filter((query) => !ownQueryByText.has(query.text));
  const tagsOfOwnQueries = additions.queries.flatMap((query) => {
    const queryId = ownQueryByText.get(query.text);
    return queryId === undefined ? [] : (query.tags ?? []).map((tag) => ({ queryId, tag }));
  });

  let stagingStudyId = 0;
  writer.chunk((tx) => {
    stagingStudyId = tx
      .insert(studies)
      .values(studyRow({ ...study, name: `Addition staging (job ${jobId})`, task: "addition staging" }, "archived"))
      .returning({ id: studies.id })
      .get().id;
    openStaging(tx, jobId, studyId, stagingStudyId);
  });
  let promptsAdded = 0;
  inRanges(chunkRows, writer, newPrompts.length, (tx, from, to) => {
    promptsAdded += insertPrompts(tx, stagingStudyId, newPrompts.slice(from, to), embeddings).added;
    progress("writing prompts", to, newPrompts.length);
  });
  let queriesAdded = 0;
  inRanges(chunkRows, writer, newQueries.length, (tx, from, to) => {
    queriesAdded += insertQueries(tx, stagingStudyId, newQueries.slice(from, to)).added;
    progress("writing queries", to, newQueries.length);
  });
  const stagedPrompts = idsOf(db, prompts, stagingStudyId);
  const stagedQueries = idsOf(db, queries, stagingStudyId);
  const ownPromptIds = ownPrompts.map((row) => row.id);
  const ownQueryIds = ownQueries.map((row) => row.id);
  checkResponseCap(ownPromptIds.length + stagedPrompts.length, ownQueryIds.length + stagedQueries.length);
  let responsesQueued = queuePairs(
    writer,
    settingsHash,
    [
      [stagedPrompts, [...ownQueryIds, ...stagedQueries]],
      [ownPromptIds, stagedQueries],
    ],
    chunkRows,
    progress,
  );
  // Pairs of the study's own prompts and queries without a response (an import adds prompts and
  // queries without queueing their pairs): read here, queued in the publishing commit.
  const ownGaps = db.all<{ promptId: number; queryId: number }>(
    sql`select p.id as promptId, q.id as queryId from prompts p join queries q on q.study_id = p.study_id
        where p.study_id = ${studyId} and not exists (select 1 from responses r where r.prompt_id = p.id and r.query_id = q.id and r.settings_hash = ${settingsHash})`,
  );

  return writer.publish((tx) => {
    if (!stagingExists(tx, jobId)) throw new SetupRaced("the addition's written rows were removed meanwhile");
    if (!tx.select({ id: studies.id }).from(studies).where(eq(studies.id, studyId)).get()) throw new SetupRaced(`study ${studyId} is gone`);
    const clash = stagingClash(tx, studyId, stagingStudyId);
    if (clash) throw new SetupRaced(`one of the ${clash === "prompt" ? "prompts" : "queries"} was added to the study meanwhile`);
    const both = inArray(prompts.studyId, [studyId, stagingStudyId]);
    const promptTotal = tx.select({ n: count() }).from(prompts).where(both).get()!.n;
    const queryTotal = tx
      .select({ n: count() })
      .from(queries)
      .where(inArray(queries.studyId, [studyId, stagingStudyId]))
      .get()!.n;
    checkResponseCap(promptTotal, queryTotal);

    tx.update(prompts).set({ studyId }).where(eq(prompts.studyId, stagingStudyId)).run();
    tx.update(queries).set({ studyId }).where(eq(queries.studyId, stagingStudyId)).run();
    tx.update(queryTags).set({ studyId }).where(eq(queryTags.studyId, stagingStudyId)).run();
    const tag = tx
      .insert(queryTags)
      .values({ studyId, queryId: sql.placeholder("queryId"), tag: sql.placeholder("tag") })
      .onConflictDoNothing()
      .prepare();
    for (const row of tagsOfOwnQueries) tag.run(row);
    const queue = tx
      .insert(responses)
      .values({ promptId: sql.placeholder("promptId"), queryId: sql.placeholder("queryId"), settingsHash, status: "pending" })
      .onConflictDoNothing()
      .prepare();
    for (const gap of ownGaps) responsesQueued += queue.run(gap).changes;
    tx.delete(studies).where(eq(studies.id, stagingStudyId)).run();
    // The one row that hid the staged rows: from this commit on they are the study's.
    tx.delete(pendingImports).where(eq(pendingImports.jobId, jobId)).run();
    return {
      studyId,
      promptsAdded,
      promptDuplicates: additions.prompts.length - promptsAdded,
      queriesAdded,
      queryDuplicates: additions.queries.length - queriesAdded,
      responsesQueued,
    };
  }) as SetupResult;
}

/** The job's writer: its chunks and its commit (which also marks it succeeded). */
function jobWriter(ctx: JobContext): StagedWriter<JobResult> {
  return { chunk: (write) => ctx.chunk(write), publish: (write) => ctx.commit(write) };
}

/** Runs a job's writes; on failure removes what it staged, and turns the input's problems (a bad line, the response cap) into the job's errors. */
function runSetupWrite(ctx: JobContext, write: () => JobResult): JobResult {
  try {
    return write();
  } catch (error) {
    ctx.discardStaged();
    if (error instanceof ImportError || error instanceof ResponseCapError) throw new JobInputError([error.message]);
    throw error;
  }
}

/** Job "create-study": input NewStudy and the account that becomes its owner. */
export function runCreateStudyJob(ctx: JobContext, input: unknown): JobResult {
  const { ownerUserId, ...study } = input as NewStudy & { ownerUserId: number };
  const embeddings = embedPrompts(ctx, [...(study.variants ? [study.variants.seedPrompt] : []), ...study.prompts.map((prompt) => prompt.text)]);
  return runSetupWrite(ctx, () => writeStudyCreation(ctx.db, ctx.jobId, study, ownerUserId, embeddings, jobWriter(ctx), { progress: ctx.progress }));
}

/** Job "add-to-study": input {studyId, prompts, queries}. */
export function runAddToStudyJob(ctx: JobContext, input: unknown): JobResult {
  const { studyId, ...additions } = input as { studyId: number; prompts: NewPrompt[]; queries: ParsedQuery[] };
  const embeddings = embedPrompts(
    ctx,
    additions.prompts.map((prompt) => prompt.text),
  );
  return runSetupWrite(ctx, () => writeStudyAddition(ctx.db, ctx.jobId, studyId, additions, embeddings, jobWriter(ctx), { progress: ctx.progress }));
}

/**
 * Job "import-responses": input {studyId, responses}. Every line is checked first, reading only;
 * the responses then go in one commit of prepared upserts. They fill rows every reader already sees
 * (queued or failed responses of the study's own pairs), so they are not staged (ADR 0043); the
 * setup form's upload bounds them.
 */
export function runImportResponsesJob(ctx: JobContext, input: unknown): JobResult {
  const { studyId, responses: list } = input as { studyId: number; responses: ParsedResponse[] };
  ctx.progress("checking", 0, list.length);
  return runSetupWrite(ctx, () => {
    const { settingsHash, rows } = resolveResponses(ctx.db, studyId, list);
    ctx.progress("writing", 0, rows.length);
    return ctx.commit((tx) => {
      storeResponses(tx, settingsHash, rows);
      return { studyId, responsesImported: list.length };
    });
  });
}
