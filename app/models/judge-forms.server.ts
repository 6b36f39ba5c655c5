import { z } from "zod";
import { JUDGE_MODES } from "../../db/schema";
import { MAX_JUDGE_BATCH } from "~/llm/judge.server";

// The forms of the LLM judge (the setup page's "LLM judge" section posts them to /studies/:id/judge).

const optional = (schema: z.ZodNumber) =>
  z
    .string()
    .trim()
    .transform((value) => (value === "" ? null : Number(value)))
    .pipe(schema.nullable());

const whole = (name: string, min: number, max: number) =>
  z
    .number({ error: `${name} must be a whole number` })
    .int(`${name} must be a whole number`)
    .min(min, `${name} must be at least ${min}`)
    .max(max, `${name} must be at most ${max}`);

export const JudgeSettingsFormSchema = z.object({
  intent: z.literal("judge-settings"),
  judgeModel: z
    .string({ error: "Enter the judge's model" })
    .trim()
    .min(1, "Enter the judge's model")
    .max(100, "A model name has at most 100 characters")
    .regex(/^[\w.:/@-]+$/, "A model name has letters, digits and . : / @ - _ only"),
  judgeInstruction: z
    .string({ error: "Enter the judge's instruction" })
    .trim()
    .min(20, "The judge's instruction needs at least 20 characters")
    .max(4_000, "The judge's instruction has at most 4000 characters"),
  judgeMode: z.enum(JUDGE_MODES, { error: "Choose how the judge's votes count" }),
  judgeMaxPairs: optional(whole("The budget of pairs", 1, 1_000_000)),
  judgeMaxCostUsd: optional(
    z
      .number({ error: "The budget in dollars must be a number" })
      .finite("The budget in dollars must be a number")
      .positive("The budget in dollars must be above 0")
      .max(100_000, "The budget in dollars must be at most 100000"),
  ),
  judgePairsPerMinute: z
    .string()
    .trim()
    .transform(Number)
    .pipe(whole("Pairs a minute", 1, 600)),
});

export type JudgeSettingsForm = z.infer<typeof JudgeSettingsFormSchema>;

export const JudgeBatchFormSchema = z.object({
  intent: z.literal("judge-batch"),
  judgeBatchPairs: z
    .string()
    .trim()
    .transform(Number)
    .pipe(whole("Pairs to judge", 1, MAX_JUDGE_BATCH)),
});

export const JudgeFormSchema = z.discriminatedUnion("intent", [JudgeSettingsFormSchema, JudgeBatchFormSchema], {
  error: "intent must be judge-settings or judge-batch",
});
