import { MaxPartSizeExceededError, unstable_createMemoryUploadHandler, unstable_parseMultipartFormData } from "@remix-run/node";
import { and, count, eq } from "drizzle-orm";
import { z } from "zod";
import { prompts, queries, responses, studies, type PROMPT_SOURCES } from "../../db/schema";
import { generationSettingsHash, normalizePromptText } from "../../db/text";
import { lexicalEmbedding } from "../llm/embeddings.server";
import { queueStudyResponses } from "../llm/generation-queue.server";
import type { Queryable } from "../llm/queryable.server";
import { MAX_VARIANTS_PER_REQUEST, requestVariants } from "../llm/variants.server";
import {
  ImportError,
  parsePromptBlocks,
  parsePromptsFile,
  parseQueriesFile,
  parseQueryLines,
  parseResponsesJsonl,
  type ParsedPrompt,
  type ParsedQuery,
  type ParsedResponse,
} from "../utils/study-files";

// Creating a study and adding to it: every write of one owner action happens in one synchronous
// transaction (all-or-nothing), prompts get their offline embedding on insert, and the responses
// the new (prompt, query) pairs need are queued in the same transaction. Imports only relative
// modules and takes the database as an argument, so db/seed uses this same path for the demo study.

type PromptSource = (typeof PROMPT_SOURCES)[number];

export interface StudySettings {
  name: string;
  task: string;
  model: string;
  temperature: number;
  maxTokens: number;
  seed: number | null;
}

export interface NewPrompt extends ParsedPrompt {
  source: PromptSource;
}

export interface NewStudy extends StudySettings {
  prompts: NewPrompt[];
  queries: ParsedQuery[];
  /** Generate this many rephrasings of `seedPrompt` (which is also added as a prompt) in the background. */
  variants: { seedPrompt: string; count: number } | null;
  /** Pre-generated responses; prompts and queries they name by text are added when missing. */
  responses: ParsedResponse[];
}

export interface AddedCounts {
  promptsAdded: number;
  promptDuplicates: number;
  queriesAdded: number;
  queryDuplicates: number;
  responsesQueued: number;
}

/** Adds prompts, skipping any whose normalised text the study already has. Returns ids of all given. */
function insertPrompts(db: Queryable, studyId: number, list: NewPrompt[]) {
  let added = 0;
  const ids: number[] = [];
  for (const prompt of list) {
    const normalizedText = normalizePromptText(prompt.text);
    const inserted = db
      .insert(prompts)
      .values({ studyId, text: prompt.text, normalizedText, label: prompt.label, source: prompt.source, ...lexicalEmbedding(prompt.text) })
      .onConflictDoNothing()
      .returning({ id: prompts.id })
      .get();
    if (inserted) {
      added++;
      ids.push(inserted.id);
    } else {
      const existing = db
        .select({ id: prompts.id })
        .from(prompts)
        .where(and(eq(prompts.studyId, studyId), eq(prompts.normalizedText, normalizedText)))
        .get();
      ids.push(existing!.id);
    }
  }
  return { added, duplicates: list.length - added, ids };
}

/** Adds queries, skipping exact repeats of a query the study already has. */
function insertQueries(db: Queryable, studyId: number, list: ParsedQuery[]) {
  let added = 0;
  for (const query of list) {
    added += db.insert(queries).values({ studyId, text: query.text, notes: query.notes }).onConflictDoNothing().run().changes;
  }
  return { added, duplicates: list.length - added };
}

/**
 * Creates a study with its prompts, queries, queued responses, optional variant request and optional
 * pre-generated responses, in one transaction. Throws ImportError (nothing written) when a response
 * line cannot be stored.
 */
export function createStudy(db: Queryable, input: NewStudy): AddedCounts & { studyId: number } {
  return db.transaction((tx) => {
    const { id: studyId } = tx
      .insert(studies)
      .values({
        name: input.name,
        task: input.task,
        model: input.model,
        temperature: input.temperature,
        maxTokens: input.maxTokens,
        seed: input.seed,
      })
      .returning({ id: studies.id })
      .get();
    const fromResponses = textsNamedByResponses(input.responses);
    const promptList: NewPrompt[] = [
      ...(input.variants ? [{ text: input.variants.seedPrompt, label: "seed", source: "manual" as const }] : []),
      ...input.prompts,
      ...fromResponses.prompts.map((text) => ({ text, label: null, source: "imported" as const })),
    ];
    const promptResult = insertPrompts(tx, studyId, promptList);
    const queryResult = insertQueries(tx, studyId, [...input.queries, ...fromResponses.queries.map((text) => ({ text, notes: null }))]);
    if (input.variants) requestVariants(tx, { studyId, seedPromptId: promptResult.ids[0]!, count: input.variants.count });
    const responsesQueued = queueStudyResponses(tx, studyId);
    if (input.responses.length > 0) importResponses(tx, studyId, input.responses);
    return {
      studyId,
      promptsAdded: promptResult.added,
      promptDuplicates: promptResult.duplicates,
      queriesAdded: queryResult.added,
      queryDuplicates: queryResult.duplicates,
      responsesQueued,
    };
  });
}

function textsNamedByResponses(list: ParsedResponse[]) {
  const promptTexts = new Map<string, string>();
  const queryTexts = new Set<string>();
  for (const response of list) {
    if ("text" in response.prompt) promptTexts.set(normalizePromptText(response.prompt.text), response.prompt.text);
    if ("text" in response.query) queryTexts.add(response.query.text);
  }
  return { prompts: [...promptTexts.values()], queries: [...queryTexts] };
}

/** Adds prompts and queries to an existing study and queues the responses they need; one transaction. */
export function addToStudy(db: Queryable, studyId: number, additions: { prompts: NewPrompt[]; queries: ParsedQuery[] }): AddedCounts {
  return db.transaction((tx) => {
    const promptResult = insertPrompts(tx, studyId, additions.prompts);
    const queryResult = insertQueries(tx, studyId, additions.queries);
    return {
      promptsAdded: promptResult.added,
      promptDuplicates: promptResult.duplicates,
      queriesAdded: queryResult.added,
      queryDuplicates: queryResult.duplicates,
      responsesQueued: queueStudyResponses(tx, studyId),
    };
  });
}

function preview(text: string): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length > 60 ? `${oneLine.slice(0, 57)}…` : oneLine;
}

/**
 * Stores pre-generated responses as ready for the study's current settings, replacing any queued or
 * failed one for the same pair. Prompts match by normalised text or id, queries by text or id, both
 * within this study. All-or-nothing: the first line that names an unknown prompt or query, or repeats
 * a pair, throws ImportError and nothing is stored. Returns how many responses were stored.
 */
export function importResponses(db: Queryable, studyId: number, list: ParsedResponse[]): number {
  return db.transaction((tx) => {
    const study = tx.select().from(studies).where(eq(studies.id, studyId)).get();
    if (!study) throw new Error(`importResponses: study ${studyId} does not exist`);
    const settingsHash = generationSettingsHash(study);
    const studyPrompts = tx.select({ id: prompts.id, normalizedText: prompts.normalizedText }).from(prompts).where(eq(prompts.studyId, studyId)).all();
    const studyQueries = tx.select({ id: queries.id, text: queries.text }).from(queries).where(eq(queries.studyId, studyId)).all();
    const promptByText = new Map(studyPrompts.map((p) => [p.normalizedText, p.id]));
    const promptIds = new Set(studyPrompts.map((p) => p.id));
    const queryByText = new Map(studyQueries.map((q) => [q.text.trim(), q.id]));
    const queryByNormalizedText = new Map(studyQueries.map((q) => [normalizePromptText(q.text), q.id]));
    const queryIds = new Set(studyQueries.map((q) => q.id));
    const firstLineOfPair = new Map<string, number>();
    for (const response of list) {
      const promptId =
        "id" in response.prompt
          ? promptIds.has(response.prompt.id) ? response.prompt.id : undefined
          : promptByText.get(normalizePromptText(response.prompt.text));
      if (promptId === undefined) {
        const what = "id" in response.prompt ? `id ${response.prompt.id}` : `"${preview(response.prompt.text)}"`;
        throw new ImportError(response.line, `no prompt in this study matches ${what}`);
      }
      const queryId =
        "id" in response.query
          ? queryIds.has(response.query.id) ? response.query.id : undefined
          : (queryByText.get(response.query.text) ?? queryByNormalizedText.get(normalizePromptText(response.query.text)));
      if (queryId === undefined) {
        const what = "id" in response.query ? `id ${response.query.id}` : `"${preview(response.query.text)}"`;
        throw new ImportError(response.line, `no query in this study matches ${what}`);
      }
      const pair = `${promptId}/${queryId}`;
      const earlier = firstLineOfPair.get(pair);
      if (earlier !== undefined) throw new ImportError(response.line, `repeats the prompt and query of line ${earlier}`);
      firstLineOfPair.set(pair, response.line);
      const stored = { content: response.content, status: "ready" as const, error: null, updatedAt: new Date() };
      tx.insert(responses)
        .values({ promptId, queryId, settingsHash, ...stored })
        .onConflictDoUpdate({ target: [responses.promptId, responses.queryId, responses.settingsHash], set: stored })
        .run();
    }
    return list.length;
  });
}

// ---------------------------------------------------------------------------------------------
// Forms. Uploads arrive as { name, content } (read by readSetupForm); each schema turns pasted text
// and files into rows, reporting a parse error on the field it came from, with the line.

export const MAX_UPLOAD_BYTES = 5_000_000;

const UploadSchema = z.object({ name: z.string(), content: z.string() });
type Upload = z.infer<typeof UploadSchema>;

/**
 * The fields of a (possibly multipart) form, uploads read into memory as text. An empty file input
 * counts as absent. Returns field errors instead when an upload is larger than MAX_UPLOAD_BYTES.
 */
export async function readSetupForm(
  request: Request,
): Promise<{ fields: Record<string, string | Upload> } | { errors: Record<string, string[]> }> {
  let formData: FormData;
  try {
    formData = (request.headers.get("content-type") ?? "").startsWith("multipart/form-data")
      ? await unstable_parseMultipartFormData(request, unstable_createMemoryUploadHandler({ maxPartSize: MAX_UPLOAD_BYTES }))
      : await request.formData();
  } catch (error) {
    if (error instanceof MaxPartSizeExceededError) {
      return { errors: { [error.field]: [`The file is larger than ${MAX_UPLOAD_BYTES / 1_000_000} MB.`] } };
    }
    throw error;
  }
  const fields: Record<string, string | Upload> = {};
  for (const [name, value] of formData.entries()) {
    if (typeof value === "string") fields[name] = value;
    else if (value.size > 0 || value.name !== "") fields[name] = { name: value.name, content: await value.text() };
  }
  return { fields };
}

function parseWith<T>(ctx: z.RefinementCtx, field: string, label: string, parse: () => T): T | undefined {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof ImportError)) throw error;
    ctx.addIssue({ code: "custom", path: [field], message: `${label} ${error.message}` });
    return undefined;
  }
}

const optionalText = z
  .string()
  .optional()
  .transform((value) => (value && value.trim() !== "" ? value : undefined));

function optionalInteger(message: string, min: number, max: number) {
  return z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === "") return null;
      const number = Number(value);
      if (!Number.isInteger(number) || number < min || number > max) {
        ctx.addIssue({ code: "custom", message });
        return z.NEVER;
      }
      return number;
    });
}

const SettingsFields = {
  name: z.string({ error: "Enter a name" }).trim().min(1, "Enter a name").max(120, "The name must be at most 120 characters"),
  task: z
    .string({ error: "Describe the task" })
    .trim()
    .min(1, "Describe the task the assistant serves")
    .max(4000, "The task description must be at most 4000 characters"),
  model: z.string({ error: "Enter a model name" }).trim().min(1, "Enter a model name").max(200, "The model name is too long"),
  temperature: z.coerce
    .number({ error: "Temperature must be a number" })
    .min(0, "Temperature must be between 0 and 2")
    .max(2, "Temperature must be between 0 and 2"),
  maxTokens: z.coerce
    .number({ error: "Max tokens must be a whole number" })
    .int("Max tokens must be a whole number")
    .min(1, "Max tokens must be between 1 and 32768")
    .max(32768, "Max tokens must be between 1 and 32768"),
  seed: optionalInteger("Seed must be a whole number between 0 and 2147483647, or empty", 0, 2_147_483_647),
};

const variantCountField = optionalInteger(`Variants must be a whole number from 1 to ${MAX_VARIANTS_PER_REQUEST}`, 1, MAX_VARIANTS_PER_REQUEST);

function collectQueries(ctx: z.RefinementCtx, text: string | undefined, file: Upload | undefined): ParsedQuery[] {
  const fromText = text ? parseQueryLines(text) : [];
  const fromFile = file ? (parseWith(ctx, "queriesFile", file.name, () => parseQueriesFile(file.name, file.content)) ?? []) : [];
  return [...fromText, ...fromFile];
}

function collectPrompts(ctx: z.RefinementCtx, text: string | undefined, file: Upload | undefined): NewPrompt[] {
  const fromText = text ? parsePromptBlocks(text).map((p) => ({ ...p, source: "manual" as const })) : [];
  const fromFile = file
    ? (parseWith(ctx, "promptsFile", file.name, () => parsePromptsFile(file.name, file.content)) ?? []).map((p) => ({ ...p, source: "imported" as const }))
    : [];
  return [...fromText, ...fromFile];
}

/** The new-study form. Variants need a provider; without one the form says to import instead. */
export function newStudyFormSchema(options: { providerConfigured: boolean }) {
  return z
    .object({
      ...SettingsFields,
      queriesText: optionalText,
      queriesFile: UploadSchema.optional(),
      promptsText: optionalText,
      promptsFile: UploadSchema.optional(),
      seedPrompt: optionalText,
      variantCount: variantCountField,
      responsesFile: UploadSchema.optional(),
    })
    .transform((form, ctx): NewStudy => {
      const queryList = collectQueries(ctx, form.queriesText, form.queriesFile);
      const promptList = collectPrompts(ctx, form.promptsText, form.promptsFile);
      const responseList = form.responsesFile
        ? (parseWith(ctx, "responsesFile", form.responsesFile.name, () => parseResponsesJsonl(form.responsesFile!.content)) ?? [])
        : [];
      const idReference = responseList.find((r) => "id" in r.prompt || "id" in r.query);
      if (idReference) {
        ctx.addIssue({
          code: "custom",
          path: ["responsesFile"],
          message: `line ${idReference.line}: a new study has no ids yet; name the prompt and query by their text`,
        });
      }
      const seedPrompt = form.seedPrompt?.trim();
      if (form.variantCount !== null && !seedPrompt) {
        ctx.addIssue({ code: "custom", path: ["seedPrompt"], message: "Enter the seed prompt to generate variants of" });
      }
      if (form.variantCount !== null && !options.providerConfigured) {
        ctx.addIssue({
          code: "custom",
          path: ["variantCount"],
          message: "Generating variants needs an LLM provider (OPENAI_API_KEY or OPENAI_BASE_URL); paste or import prompts instead",
        });
      }
      const variants = seedPrompt && form.variantCount !== null ? { seedPrompt, count: form.variantCount } : null;
      const seedAsPrompt = seedPrompt && !variants ? [{ text: seedPrompt, label: null, source: "manual" as const }] : [];
      const distinctPrompts = new Set(
        [...seedAsPrompt, ...promptList].map((p) => normalizePromptText(p.text)).concat(
          responseList.flatMap((r) => ("text" in r.prompt ? [normalizePromptText(r.prompt.text)] : [])),
        ),
      );
      if (!variants && distinctPrompts.size < 2) {
        ctx.addIssue({
          code: "custom",
          path: ["promptsText"],
          message: "A study compares at least two different prompts: paste or upload two, or generate variants of a seed prompt",
        });
      }
      const hasQueries = queryList.length > 0 || responseList.some((r) => "text" in r.query);
      if (!hasQueries) ctx.addIssue({ code: "custom", path: ["queriesText"], message: "Add at least one query" });
      return {
        name: form.name,
        task: form.task,
        model: form.model,
        temperature: form.temperature,
        maxTokens: form.maxTokens,
        seed: form.seed,
        prompts: [...seedAsPrompt, ...promptList],
        queries: queryList,
        variants,
        responses: responseList,
      };
    });
}

/** Actions of the setup page of an existing study, told apart by `intent`. */
export function studySetupFormSchema(options: { providerConfigured: boolean }) {
  return z.discriminatedUnion(
    "intent",
    [
      z
        .object({ intent: z.literal("add-queries"), queriesText: optionalText, queriesFile: UploadSchema.optional() })
        .transform((form, ctx) => {
          const list = collectQueries(ctx, form.queriesText, form.queriesFile);
          if (list.length === 0) ctx.addIssue({ code: "custom", path: ["queriesText"], message: "Paste or upload at least one query" });
          return { intent: form.intent, queries: list };
        }),
      z
        .object({ intent: z.literal("add-prompts"), promptsText: optionalText, promptsFile: UploadSchema.optional() })
        .transform((form, ctx) => {
          const list = collectPrompts(ctx, form.promptsText, form.promptsFile);
          if (list.length === 0) ctx.addIssue({ code: "custom", path: ["promptsText"], message: "Paste or upload at least one prompt" });
          return { intent: form.intent, prompts: list };
        }),
      z
        .object({
          intent: z.literal("generate-variants"),
          seedPromptId: z.coerce.number({ error: "Choose a seed prompt" }).int().positive("Choose a seed prompt"),
          variantCount: variantCountField,
        })
        .transform((form, ctx) => {
          if (form.variantCount === null) {
            ctx.addIssue({ code: "custom", path: ["variantCount"], message: "Say how many variants to generate" });
          }
          if (!options.providerConfigured) {
            ctx.addIssue({
              code: "custom",
              path: ["variantCount"],
              message: "Generating variants needs an LLM provider (OPENAI_API_KEY or OPENAI_BASE_URL)",
            });
          }
          return { intent: form.intent, seedPromptId: form.seedPromptId, count: form.variantCount ?? 0 };
        }),
      z
        .object({ intent: z.literal("import-responses"), responsesFile: UploadSchema.optional() })
        .transform((form, ctx) => {
          if (!form.responsesFile) {
            ctx.addIssue({ code: "custom", path: ["responsesFile"], message: "Choose a JSONL file of responses" });
            return z.NEVER;
          }
          const file = form.responsesFile;
          const list = parseWith(ctx, "responsesFile", file.name, () => parseResponsesJsonl(file.content));
          return { intent: form.intent, responses: list ?? [] };
        }),
      z.object({ intent: z.literal("retry-failed") }),
    ],
    { error: "intent must be one of: add-queries, add-prompts, generate-variants, import-responses, retry-failed" },
  );
}

/** Whether the prompt exists in this study (a variant seed must). */
export function studyHasPrompt(db: Queryable, studyId: number, promptId: number): boolean {
  return db.select({ id: prompts.id }).from(prompts).where(and(eq(prompts.id, promptId), eq(prompts.studyId, studyId))).get() !== undefined;
}

/** The study's prompts for the owner's setup page, oldest first. */
export function listStudyPrompts(db: Queryable, studyId: number) {
  return db
    .select({
      id: prompts.id,
      text: prompts.text,
      label: prompts.label,
      source: prompts.source,
      parentIds: prompts.parentIds,
      embeddingModel: prompts.embeddingModel,
    })
    .from(prompts)
    .where(eq(prompts.studyId, studyId))
    .orderBy(prompts.id)
    .all();
}

/** How many queries the study has. */
export function countStudyQueries(db: Queryable, studyId: number): number {
  return db.select({ n: count() }).from(queries).where(eq(queries.studyId, studyId)).get()?.n ?? 0;
}
