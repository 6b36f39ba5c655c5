import { eq } from "drizzle-orm";
import { z } from "zod";
import { createStudy } from "../../app/models/study-setup.server";
import type { DB } from "../client";
import { appMeta } from "../schema";
import demoStudyJson from "./demo-study.json";

const DemoStudySchema = z
  .object({
    name: z.string().min(1),
    task: z.string().min(1),
    model: z.object({
      model: z.string().min(1),
      temperature: z.number().min(0).max(2),
      maxTokens: z.number().int().positive(),
      seed: z.number().int().nullable(),
    }),
    prompts: z.array(z.object({ key: z.string(), label: z.string(), text: z.string().min(1) })).min(2),
    queries: z.array(z.object({ key: z.string(), text: z.string().min(1), notes: z.string().optional() })).min(1),
    responses: z.array(z.object({ prompt: z.string(), query: z.string(), content: z.string().min(1) })),
  })
  .superRefine((study, ctx) => {
    const promptKeys = new Set(study.prompts.map((p) => p.key));
    const queryKeys = new Set(study.queries.map((q) => q.key));
    const seen = new Set<string>();
    study.responses.forEach((response, index) => {
      if (!promptKeys.has(response.prompt) || !queryKeys.has(response.query)) {
        ctx.addIssue({ code: "custom", path: ["responses", index], message: "names an unknown prompt or query key" });
      }
      const pair = `${response.prompt}/${response.query}`;
      if (seen.has(pair)) ctx.addIssue({ code: "custom", path: ["responses", index], message: `duplicate response for ${pair}` });
      seen.add(pair);
    });
    if (seen.size !== promptKeys.size * queryKeys.size) {
      ctx.addIssue({ code: "custom", path: ["responses"], message: "every prompt needs a response to every query" });
    }
  });

export type DemoStudy = z.infer<typeof DemoStudySchema>;

const DEMO_SEEDED_KEY = "demo_study_seeded_at";

/**
 * Inserts the shipped demo study, once per database: the marker in app_meta keeps a deleted demo
 * study from coming back on the next start. Goes through the same path as an owner's study with
 * imported responses (createStudy + importResponses: offline embeddings, responses for the study's
 * settings), all in one transaction. Returns the new study id, or null when already seeded.
 */
export function seedDemoStudy(db: DB, demo: unknown = demoStudyJson): number | null {
  const study = DemoStudySchema.parse(demo);
  return db.transaction((tx) => {
    const marker = tx.select().from(appMeta).where(eq(appMeta.key, DEMO_SEEDED_KEY)).get();
    if (marker) return null;
    const promptText = new Map(study.prompts.map((prompt) => [prompt.key, prompt.text]));
    const queryText = new Map(study.queries.map((query) => [query.key, query.text]));
    const { studyId } = createStudy(tx, {
      name: study.name,
      task: study.task,
      ...study.model,
      // Open to annotators at once: the demo is there to be tried.
      status: "running",
      prompts: study.prompts.map((prompt) => ({ text: prompt.text, label: prompt.label, source: "imported" as const })),
      queries: study.queries.map((query) => ({ text: query.text, notes: query.notes ?? null })),
      variants: null,
      responses: study.responses.map((response, index) => ({
        line: index + 1,
        prompt: { text: promptText.get(response.prompt)! },
        query: { text: queryText.get(response.query)! },
        content: response.content,
      })),
    });
    tx.insert(appMeta).values({ key: DEMO_SEEDED_KEY, value: new Date().toISOString() }).run();
    return studyId;
  });
}
