import { and, count, eq, like, sql } from "drizzle-orm";
import type OpenAI from "openai";
import { z } from "zod";
import type { Queryable } from "./queryable.server";
import { appMeta, prompts, studies } from "../../db/schema";
import { insertStudyPrompts } from "~/models/prompts.server";
import { queueStudyResponses } from "./generation-queue.server";

// A request for N variants of a seed prompt is persisted in app_meta under
// "variant-request:<seed prompt id>" so it survives a restart like the response queue does, without a
// table of its own (ADR 0004). Completed requests are deleted; failed ones keep the provider's message.

const KEY_PREFIX = "variant-request:";

const VariantRequestSchema = z.object({
  studyId: z.number().int(),
  seedPromptId: z.number().int(),
  count: z.number().int().positive(),
  error: z.string().nullable(),
});

export type VariantRequest = z.infer<typeof VariantRequestSchema>;

export const MAX_VARIANTS_PER_REQUEST = 20;

/**
 * Asks the worker for `count` more variants of the seed prompt. A second request for the same seed
 * adds to the first, uncapped: each job runs at most MAX_VARIANTS_PER_REQUEST of them (loadVariantJob)
 * and the rest stays asked for, so nothing the owner requested is dropped, even while a job runs.
 * Synchronous; safe inside a caller's transaction.
 */
export function requestVariants(db: Queryable, request: { studyId: number; seedPromptId: number; count: number }): void {
  const key = `${KEY_PREFIX}${request.seedPromptId}`;
  const existing = readRequest(db.select().from(appMeta).where(eq(appMeta.key, key)).get()?.value);
  const count = (existing?.count ?? 0) + request.count;
  const value = JSON.stringify({ studyId: request.studyId, seedPromptId: request.seedPromptId, count, error: null });
  db.insert(appMeta).values({ key, value }).onConflictDoUpdate({ target: appMeta.key, set: { value } }).run();
}

function readRequest(value: string | undefined): VariantRequest | null {
  if (value === undefined) return null;
  const parsed = VariantRequestSchema.safeParse(JSON.parse(value));
  return parsed.success ? parsed.data : null;
}

/** Every stored variant request, oldest seed first; `studyId` narrows to one study. */
export function listVariantRequests(db: Queryable, studyId?: number): VariantRequest[] {
  return db
    .select()
    .from(appMeta)
    .where(like(appMeta.key, `${KEY_PREFIX}%`))
    .all()
    .map((row) => readRequest(row.value))
    .filter((request): request is VariantRequest => request !== null && (studyId === undefined || request.studyId === studyId))
    .sort((a, b) => a.seedPromptId - b.seedPromptId);
}

/** Clears the error of the study's failed variant requests so the worker tries them again. */
export function retryFailedVariantRequests(db: Queryable, studyId: number): number {
  const failed = listVariantRequests(db, studyId).filter((request) => request.error !== null);
  for (const request of failed) saveRequest(db, { ...request, error: null });
  return failed.length;
}

/**
 * Marks a request failed so the worker stops running it until the owner retries: after paid calls
 * whose results could not be stored, an open request would be re-run at once, and again.
 */
export function failVariantRequest(db: Queryable, request: VariantRequest, message: string): void {
  saveRequest(db, { ...request, error: message });
}

function saveRequest(db: Queryable, request: VariantRequest): void {
  db.update(appMeta)
    .set({ value: JSON.stringify(request) })
    .where(eq(appMeta.key, `${KEY_PREFIX}${request.seedPromptId}`))
    .run();
}

// One direction per variant, so N calls explore N different rewrites instead of sampling the same one
// N times (APE's resampling with an explicit edit, as APOHF's candidate pools do).
const REWRITE_DIRECTIONS = [
  "Keep the meaning and rephrase it in your own words.",
  "Make it more concise without dropping any rule.",
  "Restructure it as a short list of explicit, numbered rules.",
  "Make the tone warmer and more empathetic.",
  "Stress accuracy: the assistant must say so when it does not know, and never invent facts.",
  "Tell the assistant to lead with the direct answer, then give the details.",
  "Add guidance for the edge cases the task implies.",
  "Tell the assistant to ask one clarifying question when a request is ambiguous.",
  "Make the tone more formal and professional.",
  "Add guidance on answer length and formatting (short paragraphs, lists where they help).",
];

const REWRITER_SYSTEM_PROMPT =
  "You rewrite system prompts for an AI assistant. Keep the task and every factual constraint of the " +
  "original; change wording, structure and emphasis as asked. Answer with the rewritten system prompt " +
  "only: no preamble, no quotes, no commentary.";

/**
 * The chat messages asking for variant `index` (0-based, counted over every variant ever asked of this
 * seed, so a later request takes new directions) of `total`.
 */
export function variantMessages(task: string, seedText: string, index: number, total: number) {
  const direction = REWRITE_DIRECTIONS[index % REWRITE_DIRECTIONS.length]!;
  const round = index >= REWRITE_DIRECTIONS.length ? ` (take ${Math.floor(index / REWRITE_DIRECTIONS.length) + 1})` : "";
  return [
    { role: "system" as const, content: REWRITER_SYSTEM_PROMPT },
    {
      role: "user" as const,
      content:
        `The assistant's task: ${task}\n\nOriginal system prompt:\n<<<\n${seedText}\n>>>\n\n` +
        `Write variant ${index + 1} of ${total}. ${direction}${round}`,
    },
  ];
}

/** A model's answer without the code fence or quotes some models wrap around it. */
export function cleanVariantText(raw: string): string {
  let text = raw.trim();
  const fenced = text.match(/^```[^\n]*\n([\s\S]*?)\n?```$/);
  if (fenced) text = fenced[1]!.trim();
  if (text.length >= 2 && /^["“]/.test(text) && /["”]$/.test(text)) text = text.slice(1, -1).trim();
  return text;
}

export interface VariantJob {
  request: VariantRequest;
  task: string;
  seedText: string;
  model: string;
  /** Variants of this seed already in the study: new ones continue the list of rewrite directions. */
  existingVariants: number;
}

/**
 * The stored request, limited to MAX_VARIANTS_PER_REQUEST variants for this run, with the texts its
 * calls need; null when its seed prompt is gone. What exceeds the limit stays in the stored request
 * (storeVariants keeps whatever was asked beyond this job).
 */
export function loadVariantJob(db: Queryable, request: VariantRequest): VariantJob | null {
  const row = db
    .select({ seedText: prompts.text, task: studies.task, model: studies.model })
    .from(prompts)
    .innerJoin(studies, eq(studies.id, prompts.studyId))
    .where(eq(prompts.id, request.seedPromptId))
    .get();
  if (!row) return null;
  const children = db
    .select({ n: count() })
    .from(prompts)
    .where(
      and(
        eq(prompts.studyId, request.studyId),
        sql`exists (select 1 from json_each(${prompts.parentIds}) where json_each.value = ${request.seedPromptId})`,
      ),
    )
    .get();
  return { request: { ...request, count: Math.min(request.count, MAX_VARIANTS_PER_REQUEST) }, ...row, existingVariants: children?.n ?? 0 };
}

/** Removes a request whose seed prompt (or study) was deleted. */
export function dropVariantRequest(db: Queryable, seedPromptId: number): void {
  db.delete(appMeta)
    .where(eq(appMeta.key, `${KEY_PREFIX}${seedPromptId}`))
    .run();
}

/**
 * One chat completion asking for variant `index`; returns the cleaned text. Throws on a provider
 * error or an answer without text.
 */
export async function generateVariant(client: OpenAI, job: VariantJob, index: number, signal?: AbortSignal): Promise<string> {
  const completion = await client.chat.completions.create(
    {
      model: job.model,
      messages: variantMessages(job.task, job.seedText, job.existingVariants + index, job.existingVariants + job.request.count),
      // High temperature: the point is diverse candidates; duplicates are dropped afterwards.
      temperature: 1,
      max_tokens: 1024,
    },
    { signal },
  );
  const content = completion.choices?.[0]?.message?.content;
  const text = typeof content === "string" ? cleanVariantText(content) : "";
  if (text === "") throw new Error("The provider's answer has no message content.");
  return text;
}

/**
 * Stores generated variants as prompts (source "generated", parent = the seed), dropping any whose
 * normalised text repeats the seed, another variant or an existing prompt, queues their responses,
 * and closes the request, or keeps it open with `failures` when some calls failed, so a retry asks only
 * for the missing ones. One synchronous transaction.
 */
export function storeVariants(db: Queryable, job: VariantJob, texts: string[], failures: string[]): void {
  return db.transaction((tx) => {
    const { addedIds } = insertStudyPrompts(
      tx,
      job.request.studyId,
      texts.map((text) => ({ text, source: "generated" as const, parentIds: [job.request.seedPromptId] })),
    );
    if (addedIds.length > 0) queueStudyResponses(tx, job.request.studyId);
    // The owner may have asked for more variants of this seed while these calls ran: keep those.
    const current = readRequest(
      tx
        .select()
        .from(appMeta)
        .where(eq(appMeta.key, `${KEY_PREFIX}${job.request.seedPromptId}`))
        .get()?.value,
    );
    const askedMeanwhile = Math.max((current?.count ?? 0) - job.request.count, 0);
    const remaining = failures.length + askedMeanwhile;
    if (remaining === 0) dropVariantRequest(tx, job.request.seedPromptId);
    else {
      const error = failures.length > 0 ? `${failures.length} of ${job.request.count} variant requests failed: ${failures[0]}` : null;
      saveRequest(tx, { ...job.request, count: remaining, error });
    }
  });
}
