import { eq } from "drizzle-orm";
import { z } from "zod";
import type { DB } from "../client";
import { appMeta, prompts, queries, responses, studies } from "../schema";
import { generationSettingsHash, normalizePromptText } from "../text";
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
 * study from coming back on the next start. Returns the new study id, or null when already seeded.
 */
export function seedDemoStudy(db: DB, demo: unknown = demoStudyJson): number | null {
  const study = DemoStudySchema.parse(demo);
  return db.transaction((tx) => {
    const marker = tx.select().from(appMeta).where(eq(appMeta.key, DEMO_SEEDED_KEY)).get();
    if (marker) return null;
    const settingsHash = generationSettingsHash(study.model);
    const inserted = tx
      .insert(studies)
      .values({ name: study.name, task: study.task, ...study.model, status: "running" })
      .returning({ id: studies.id })
      .get();
    const promptIds = new Map<string, number>();
    for (const prompt of study.prompts) {
      const row = tx
        .insert(prompts)
        .values({
          studyId: inserted.id,
          text: prompt.text,
          normalizedText: normalizePromptText(prompt.text),
          label: prompt.label,
          source: "imported",
        })
        .returning({ id: prompts.id })
        .get();
      promptIds.set(prompt.key, row.id);
    }
    const queryIds = new Map<string, number>();
    for (const query of study.queries) {
      const row = tx
        .insert(queries)
        .values({ studyId: inserted.id, text: query.text, notes: query.notes ?? null })
        .returning({ id: queries.id })
        .get();
      queryIds.set(query.key, row.id);
    }
    for (const response of study.responses) {
      tx.insert(responses)
        .values({
          promptId: promptIds.get(response.prompt)!,
          queryId: queryIds.get(response.query)!,
          settingsHash,
          content: response.content,
          status: "ready",
        })
        .run();
    }
    tx.insert(appMeta).values({ key: DEMO_SEEDED_KEY, value: new Date().toISOString() }).run();
    return inserted.id;
  });
}
