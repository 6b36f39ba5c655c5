import { z } from "zod";
import { normalizePromptText } from "../../db/text";
import { SETUP_UPLOAD_FILE_BYTES } from "~/http/route-handle";
import { MAX_VARIANTS_PER_REQUEST } from "~/llm/variants.server";
import {
  ImportError,
  parsePromptBlocks,
  parsePromptsFile,
  parseQueriesFile,
  parseQueryLines,
  parseResponsesJsonl,
  type ParsedQuery,
  type ParsedResponse,
} from "~/utils/study-files.server";
import { decimalId, formInteger, formNumber, optionalFormInteger } from "~/utils/strict-fields";
import { readUploadForm, UploadSchema, type Upload } from "~/utils/upload-form.server";
import { ActiveFormSchema, GuidanceFormSchema } from "./study-lifecycle.server";
import type { NewPrompt, NewStudy } from "./study-setup.server";

// The forms of the new-study and setup pages. Uploads arrive as { name, content } (read by
// readSetupForm); each schema turns pasted text and files into rows, reporting a parse error on the
// field it came from, with the file name and line.

/** The new-study and setup forms, uploads capped at 5 MB each (the whole body at SETUP_FORM_BODY_BYTES, by the server). */
export function readSetupForm(request: Request) {
  return readUploadForm(request, SETUP_UPLOAD_FILE_BYTES);
}

/** Runs a file parser inside a zod transform, turning its ImportError into an issue on this field. */
function parseUpload<T>(ctx: z.RefinementCtx, file: Upload, parse: (file: Upload) => T[]): T[] {
  try {
    return parse(file);
  } catch (error) {
    if (!(error instanceof ImportError)) throw error;
    ctx.addIssue({ code: "custom", message: `${file.name} ${error.message}` });
    return [];
  }
}

/** Runs a parser of pasted text inside a zod transform, turning its ImportError into an issue on this field. */
function parsePasted<T>(ctx: z.RefinementCtx, text: string, parse: (text: string) => T[]): T[] {
  try {
    return parse(text);
  } catch (error) {
    if (!(error instanceof ImportError)) throw error;
    ctx.addIssue({ code: "custom", message: `The pasted text, ${error.message}` });
    return [];
  }
}

const optionalText = z
  .string()
  .optional()
  .transform((value) => (value && value.trim() !== "" ? value : undefined));

const SettingsFields = {
  name: z.string({ error: "Enter a name" }).trim().min(1, "Enter a name").max(120, "The name must be at most 120 characters"),
  task: z
    .string({ error: "Describe the task" })
    .trim()
    .min(1, "Describe the task the assistant serves")
    .max(4000, "The task description must be at most 4000 characters"),
  model: z.string({ error: "Enter a model name" }).trim().min(1, "Enter a model name").max(200, "The model name is too long"),
  temperature: formNumber({
    min: 0,
    max: 2,
    message: "Temperature must be a number between 0 and 2",
    blankMessage: "Enter a temperature between 0 and 2",
  }),
  maxTokens: formInteger({
    min: 1,
    max: 32768,
    message: "Max tokens must be a whole number between 1 and 32768",
    blankMessage: "Enter max tokens (a whole number between 1 and 32768)",
  }),
  // Blank: the provider's default.
  seed: optionalFormInteger({ min: 0, max: 2_147_483_647, message: "Seed must be a whole number between 0 and 2147483647, or empty" }),
};

const ContentFields = {
  queriesText: optionalText.transform((text, ctx): ParsedQuery[] => (text ? parsePasted(ctx, text, parseQueryLines) : [])),
  queriesFile: UploadSchema.optional().transform((file, ctx) =>
    file ? parseUpload(ctx, file, ({ name, content }) => parseQueriesFile(name, content)) : [],
  ),
  promptsText: optionalText.transform((text, ctx): NewPrompt[] =>
    text ? parsePasted(ctx, text, parsePromptBlocks).map((prompt) => ({ ...prompt, source: "manual" as const })) : [],
  ),
  promptsFile: UploadSchema.optional().transform((file, ctx): NewPrompt[] =>
    file
      ? parseUpload(ctx, file, ({ name, content }) => parsePromptsFile(name, content)).map((prompt) => ({ ...prompt, source: "imported" as const }))
      : [],
  ),
  responsesFile: UploadSchema.optional().transform((file, ctx) =>
    file ? parseUpload(ctx, file, ({ content }) => parseResponsesJsonl(content)) : [],
  ),
  seedPrompt: optionalText.transform((text) => text?.trim()),
  // Blank: no variants asked for.
  variantCount: optionalFormInteger({
    min: 1,
    max: MAX_VARIANTS_PER_REQUEST,
    message: `Variants must be a whole number from 1 to ${MAX_VARIANTS_PER_REQUEST}`,
  }),
};

function listOf<T>(value: T[] | unknown): T[] {
  return Array.isArray(value) ? value : [];
}

/**
 * The new-study form. The cross-field rules run even when a field failed, so the owner sees every
 * problem at once. Variants need a provider; without one the form says to paste or import instead.
 */
export function newStudyFormSchema(options: { providerConfigured: boolean }) {
  return z
    .object({ ...SettingsFields, ...ContentFields })
    .superRefine(
      (form, ctx) => {
        // A count rule is moot while one of its sources failed to parse: that field has the error.
        const failed = new Set(ctx.issues.map((issue) => issue.path?.[0]));
        const responseList = listOf<ParsedResponse>(form.responsesFile);
        const idReference = responseList.find((r) => "id" in r.prompt || "id" in r.query);
        if (idReference) {
          ctx.addIssue({
            code: "custom",
            path: ["responsesFile"],
            message: `line ${idReference.line}: a new study has no ids yet; name the prompt and query by their text`,
          });
        }
        const wantsVariants = typeof form.variantCount === "number";
        const seedPrompt = typeof form.seedPrompt === "string" ? form.seedPrompt : "";
        if (wantsVariants && !seedPrompt) {
          ctx.addIssue({ code: "custom", path: ["seedPrompt"], message: "Enter the seed prompt to generate variants of" });
        }
        if (wantsVariants && !options.providerConfigured) {
          ctx.addIssue({
            code: "custom",
            path: ["variantCount"],
            message: "Generating variants needs an LLM provider (OPENAI_API_KEY or OPENAI_BASE_URL); paste or import prompts instead",
          });
        }
        const distinctPrompts = new Set([
          ...(seedPrompt ? [normalizePromptText(seedPrompt)] : []),
          ...[...listOf<NewPrompt>(form.promptsText), ...listOf<NewPrompt>(form.promptsFile)].map((p) => normalizePromptText(p.text)),
          ...responseList.flatMap((r) => ("text" in r.prompt ? [normalizePromptText(r.prompt.text)] : [])),
        ]);
        const promptSourceFailed = failed.has("promptsFile") || failed.has("responsesFile");
        if (!(wantsVariants && seedPrompt) && distinctPrompts.size < 2 && !promptSourceFailed) {
          ctx.addIssue({
            code: "custom",
            path: ["promptsText"],
            message: "A study compares at least two different prompts: paste or upload two, or generate variants of a seed prompt",
          });
        }
        const queryCount = listOf(form.queriesText).length + listOf(form.queriesFile).length + responseList.filter((r) => "text" in r.query).length;
        const querySourceFailed = failed.has("queriesFile") || failed.has("responsesFile");
        if (queryCount === 0 && !querySourceFailed) ctx.addIssue({ code: "custom", path: ["queriesText"], message: "Add at least one query" });
      },
      { when: () => true },
    )
    .transform((form): NewStudy => {
      const variants = form.seedPrompt && form.variantCount !== null ? { seedPrompt: form.seedPrompt, count: form.variantCount } : null;
      const seedAsPrompt: NewPrompt[] = form.seedPrompt && !variants ? [{ text: form.seedPrompt, label: null, source: "manual" }] : [];
      return {
        name: form.name,
        task: form.task,
        model: form.model,
        temperature: form.temperature,
        maxTokens: form.maxTokens,
        seed: form.seed,
        prompts: [...seedAsPrompt, ...form.promptsText, ...form.promptsFile],
        queries: [...form.queriesText, ...form.queriesFile],
        variants,
        responses: form.responsesFile,
      };
    });
}

/** Actions of the setup page of an existing study, told apart by `intent`. */
export function studySetupFormSchema(options: { providerConfigured: boolean }) {
  return z.discriminatedUnion(
    "intent",
    [
      z
        .object({ intent: z.literal("add-queries"), queriesText: ContentFields.queriesText, queriesFile: ContentFields.queriesFile })
        .transform((form, ctx) => {
          const queries = [...form.queriesText, ...form.queriesFile];
          if (queries.length === 0) ctx.addIssue({ code: "custom", path: ["queriesText"], message: "Paste or upload at least one query" });
          return { intent: form.intent, queries };
        }),
      z
        .object({ intent: z.literal("add-prompts"), promptsText: ContentFields.promptsText, promptsFile: ContentFields.promptsFile })
        .transform((form, ctx) => {
          const prompts = [...form.promptsText, ...form.promptsFile];
          if (prompts.length === 0) ctx.addIssue({ code: "custom", path: ["promptsText"], message: "Paste or upload at least one prompt" });
          return { intent: form.intent, prompts };
        }),
      z
        .object({
          intent: z.literal("generate-variants"),
          seedPromptId: decimalId("Choose a seed prompt"),
          variantCount: ContentFields.variantCount,
        })
        .transform((form, ctx) => {
          if (form.variantCount === null) {
            ctx.addIssue({ code: "custom", path: ["variantCount"], message: "Say how many variants to generate" });
          } else if (!options.providerConfigured) {
            ctx.addIssue({
              code: "custom",
              path: ["variantCount"],
              message: "Generating variants needs an LLM provider (OPENAI_API_KEY or OPENAI_BASE_URL)",
            });
          }
          return { intent: form.intent, seedPromptId: form.seedPromptId, count: form.variantCount ?? 0 };
        }),
      z.object({ intent: z.literal("import-responses"), responsesFile: ContentFields.responsesFile }).transform((form, ctx) => {
        if (form.responsesFile.length === 0) {
          ctx.addIssue({ code: "custom", path: ["responsesFile"], message: "Choose a JSONL file of responses" });
        }
        return { intent: form.intent, responses: form.responsesFile };
      }),
      z.object({ intent: z.literal("retry-failed") }),
      GuidanceFormSchema.extend({ intent: z.literal("update-guidance") }),
      ActiveFormSchema.extend({ intent: z.literal("set-active") }),
    ],
    {
      error: "intent must be one of: add-queries, add-prompts, generate-variants, import-responses, retry-failed, update-guidance, set-active",
    },
  );
}
