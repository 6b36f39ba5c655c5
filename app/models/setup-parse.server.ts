import path from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { z } from "zod";
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

/** Forms whose text fields and uploads together exceed this are parsed on the parse thread. */
export const OFF_THREAD_FORM_BYTES = 256 * 1024;

export type FormKind = "new-study" | "setup";
type Output<K extends FormKind> = K extends "new-study"
  ? z.output<ReturnType<typeof newStudyFormSchema>>
  : z.output<ReturnType<typeof studySetupFormSchema>>;
export type FormParse<K extends FormKind> = { success: true; data: Output<K> } | { success: false; errors: FormErrors };
type Fields = Record<string, string | Upload>;
type Options = { providerConfigured: boolean };

/** Parses on the calling thread (small forms; the parse thread itself). */
export function parseFormHere<K extends FormKind>(kind: K, options: Options, fields: Fields): FormParse<K> {
  const outcome = <T>(parsed: z.ZodSafeParseResult<T>): FormParse<K> =>
    parsed.success ? { success: true, data: parsed.data as Output<K> } : { success: false, errors: zodFormErrors(parsed.error) };
  return kind === "new-study" ? outcome(newStudyFormSchema(options).safeParse(fields)) : outcome(studySetupFormSchema(options).safeParse(fields));
}

function formSize(fields: Fields): number {
  let size = 0;
  for (const value of Object.values(fields)) size += typeof value === "string" ? value.length : value.content.length;
  return size;
}

export type ToParseThread = { id: number; kind: FormKind; options: Options; fields: Fields };
export type FromParseThread = { id: number; result: FormParse<FormKind> } | { id: number; error: string };

let thread: Worker | null = null;
let nextId = 1;
const waiting = new Map<number, { resolve: (result: FormParse<FormKind>) => void; reject: (error: Error) => void }>();

function parseThread(): Worker {
  if (thread) return thread;
  const worker = new Worker(path.join(repoRoot(), "app/engine/worker-bootstrap.mjs"), {
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
    if ("error" in message) waiter.reject(new Error(`parsing the form failed: ${message.error}`));
    else waiter.resolve(message.result);
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

/** The form parsed and validated, on the parse thread when it is large. */
export async function parseSetupFormFields<K extends FormKind>(kind: K, options: Options, fields: Fields): Promise<FormParse<K>> {
  if (formSize(fields) <= OFF_THREAD_FORM_BYTES) return parseFormHere(kind, options, fields);
  const id = nextId++;
  const result = new Promise<FormParse<FormKind>>((resolve, reject) => waiting.set(id, { resolve, reject }));
  parseThread().postMessage({ id, kind, options, fields } satisfies ToParseThread);
  return (await result) as FormParse<K>;
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
