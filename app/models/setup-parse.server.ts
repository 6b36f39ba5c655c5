import path from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { eq } from "drizzle-orm";
import { type z } from "zod";
import { studies } from "../../db/schema";
import { ResponseCapError } from "~/llm/generation-queue.server";
import type { ProviderConfig } from "~/llm/provider.server";
import type { Queryable } from "~/llm/queryable.server";
import { planResponses, type ResponsePlan, type StudyModel } from "~/llm/response-plan.server";
import type { Upload } from "~/utils/upload-form.server";
import { env } from "~/env.server";
import type { FormErrors } from "~/utils/form-errors";
import { zodFormErrors } from "~/utils/form-errors.server";
import { repoRoot } from "~/utils/repo-root.server";
import { newStudyFormSchema, studySetupFormSchema } from "./study-setup-forms.server";

// The new-study and setup forms parsed and validated off the request thread when they are large
// (ADR 0036): turning a 100,000-line upload into rows took ~150 ms of the request thread at load 8,
// and every other request waited. A form over OFF_THREAD_FORM_BYTES is parsed on a parse thread
// (setup-parse.worker.ts, started on first use and kept), with the same schema and the same field
// errors; a smaller one here, where a thread round trip would cost more than the parse.
// The response plan of an addition or a new study (P × Q responses, N new, their cost) is computed on
// the parse thread too, on a connection of its own (ADR 0043, 0046), for the forms and the JSON API
// alike (planOffThread): it reads every prompt and query of the study and counts its responses,
// O(prompts + queries + responses) however small the addition, which took the request thread tens of
// milliseconds for a 100,000-query study.

/** Forms whose text fields and uploads together exceed this are parsed on the parse thread. */
export const OFF_THREAD_FORM_BYTES = 256 * 1024;

export type FormKind = "new-study" | "setup";
type Output<K extends FormKind> = K extends "new-study"
  ? z.output<ReturnType<typeof newStudyFormSchema>>
  : z.output<ReturnType<typeof studySetupFormSchema>>;
/** The plan of what a form adds (null: it adds nothing that needs one), or why the study's response cap refuses it. */
export type PlanOutcome = { plan: ResponsePlan } | { capError: string } | null;
export type FormParse<K extends FormKind> = { success: true; data: Output<K>; planned?: PlanOutcome } | { success: false; errors: FormErrors };
type Fields = Record<string, string | Upload>;
type Options = { providerConfigured: boolean };
/**
 * What a plan needs besides the form, as the request thread sees it: the study added to (null: a
 * new study), the provider's prices, the per-study response cap, the database to read.
 */
export type PlanRequest = { studyId: number | null; provider: ProviderConfig | null; responseCap: number; databasePath: string };
/** The texts to plan for: a new study's, with its settings, or an addition's (the study's settings are read with the plan). */
export type PlanSubject = { settings?: StudyModel; additions: { promptTexts: string[]; queryTexts: string[] } };

/** Parses on the calling thread (small forms; the parse thread itself). */
export function parseFormHere<K extends FormKind>(kind: K, options: Options, fields: Fields): FormParse<K> {
  const outcome = <T>(parsed: z.ZodSafeParseResult<T>): FormParse<K> =>
    parsed.success ? { success: true, data: parsed.data as Output<K> } : { success: false, errors: zodFormErrors(parsed.error) };
  return kind === "new-study" ? outcome(newStudyFormSchema(options).safeParse(fields)) : outcome(studySetupFormSchema(options).safeParse(fields));
}

/** What a parsed form asks to plan: a new study, or a setup form adding prompts or queries; null for any other setup intent. */
function planSubjectOf(kind: FormKind, data: Output<FormKind>): PlanSubject | null {
  if (kind === "new-study") {
    const study = data as Output<"new-study">;
    return {
      settings: { model: study.model, temperature: study.temperature, maxTokens: study.maxTokens, seed: study.seed },
      additions: {
        promptTexts: [...(study.variants ? [study.variants.seedPrompt] : []), ...study.prompts.map((prompt) => prompt.text)],
        queryTexts: study.queries.map((query) => query.text),
      },
    };
  }
  const input = data as Output<"setup">;
  if (input.intent !== "add-prompts" && input.intent !== "add-queries") return null;
  return {
    additions: {
      promptTexts: input.intent === "add-prompts" ? input.prompts.map((prompt) => prompt.text) : [],
      queryTexts: input.intent === "add-queries" ? input.queries.map((query) => query.text) : [],
    },
  };
}

/**
 * The response plan of `subject`, read from `db` (planResponses; on the parse thread): a new study's
 * (its settings given, `request.studyId` null), or that of an addition to `request.studyId`; null
 * for a study that is not there.
 */
export function planSubject(db: Queryable, subject: PlanSubject, request: Omit<PlanRequest, "databasePath">): PlanOutcome {
  const settings =
    subject.settings ??
    (request.studyId === null
      ? undefined
      : db
          .select({ model: studies.model, temperature: studies.temperature, maxTokens: studies.maxTokens, seed: studies.seed })
          .from(studies)
          .where(eq(studies.id, request.studyId))
          .get());
  if (!settings) return null;
  try {
    return { plan: planResponses(db, subject.settings ? null : request.studyId, settings, subject.additions, request.provider, request.responseCap) };
  } catch (error) {
    if (error instanceof ResponseCapError) return { capError: error.message };
    throw error;
  }
}

/** The response plan of a parsed form (planSubject); null for a setup intent that adds nothing. */
export function planParsedForm(db: Queryable, kind: FormKind, data: Output<FormKind>, request: Omit<PlanRequest, "databasePath">): PlanOutcome {
  const subject = planSubjectOf(kind, data);
  return subject ? planSubject(db, subject, request) : null;
}

function formSize(fields: Fields): number {
  let size = 0;
  for (const value of Object.values(fields)) size += typeof value === "string" ? value.length : value.content.length;
  return size;
}

export type ToParseThread =
  | { id: number; type: "parse"; kind: FormKind; options: Options; fields: Fields; plan: PlanRequest | null }
  | { id: number; type: "plan"; subject: PlanSubject; plan: PlanRequest };
export type FromParseThread = { id: number; result: FormParse<FormKind> } | { id: number; planned: PlanOutcome } | { id: number; error: string };
type Reply = Exclude<FromParseThread, { error: string }>;

let thread: Worker | null = null;
let nextId = 1;
const waiting = new Map<number, { resolve: (reply: Reply) => void; reject: (error: Error) => void }>();

function parseThread(): Worker {
  if (thread) return thread;
  const worker = new Worker(path.join(repoRoot(), "app/engine/worker-bootstrap.mjs"), {
    // No databasePath here: each plan request names its database (tests open a new one per file).
    workerData: {
      entry: pathToFileURL(path.join(repoRoot(), "app/models/setup-parse.worker.ts")).href,
      priority: env().BACKGROUND_THREAD_PRIORITY,
    },
  });
  worker.unref();
  worker.on("message", (message: FromParseThread) => {
    const waiter = waiting.get(message.id);
    waiting.delete(message.id);
    if (!waiter) return;
    if ("error" in message) waiter.reject(new Error(`the form parse thread failed: ${message.error}`));
    else waiter.resolve(message);
  });
  const lost = (error: Error) => {
    if (thread !== worker) return;
    thread = null;
    for (const waiter of waiting.values()) waiter.reject(error);
    waiting.clear();
  };
  worker.on("error", lost);
  worker.on("exit", (code) => lost(new Error(`the form parse thread exited with code ${code}`)));
  thread = worker;
  return worker;
}

function onParseThread(message: ToParseThread): Promise<Reply> {
  const reply = new Promise<Reply>((resolve, reject) => waiting.set(message.id, { resolve, reject }));
  parseThread().postMessage(message);
  return reply;
}

/**
 * The response plan of `subject` made on the parse thread, on its own connection to `request.databasePath`
 * (planSubject): the one planning path of the setup forms and the JSON API's additions, never the request thread.
 */
export async function planOffThread(subject: PlanSubject, request: PlanRequest): Promise<PlanOutcome> {
  const reply = await onParseThread({ id: nextId++, type: "plan", subject, plan: request });
  if (!("planned" in reply)) throw new Error("the form parse thread answered a plan with a parse");
  return reply.planned;
}

/**
 * The form parsed and validated, on the parse thread when it is large; with `plan`, also the
 * response plan of what it adds (`planned`), always computed on the parse thread: with the parse
 * for a large form, from the parsed texts for a small one (planOffThread).
 */
export async function parseSetupFormFields<K extends FormKind>(
  kind: K,
  options: Options,
  fields: Fields,
  plan: PlanRequest | null = null,
): Promise<FormParse<K>> {
  if (formSize(fields) > OFF_THREAD_FORM_BYTES) {
    const reply = await onParseThread({ id: nextId++, type: "parse", kind, options, fields, plan });
    if (!("result" in reply)) throw new Error("the form parse thread answered a parse with a plan");
    return reply.result as FormParse<K>;
  }
  const parsed = parseFormHere(kind, options, fields);
  const subject = parsed.success && plan !== null ? planSubjectOf(kind, parsed.data) : null;
  if (!parsed.success || plan === null || subject === null) return parsed;
  return { ...parsed, planned: await planOffThread(subject, plan) };
}

/** Whether the parse thread is running (it starts with the first large form). */
export function parseThreadStarted(): boolean {
  return thread !== null;
}

/** Stops the parse thread (tests). */
export async function stopParseThread(): Promise<void> {
  const worker = thread;
  thread = null;
  await worker?.terminate();
}
