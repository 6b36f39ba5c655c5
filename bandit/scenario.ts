import { z } from "zod";
import { embedText } from "./lexical-embedding";
import type { RandomSource } from "./random";
import { randomInt } from "./random";

/** A benchmark scenario file (shared/bench/README.md): latent utilities plus features and/or texts. */
export const scenarioSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().optional(),
    source: z.string().optional(),
    texts: z.array(z.string()).optional(),
    utility: z.array(z.number().finite()).min(2, "a scenario needs at least two arms"),
    features: z.array(z.array(z.number().finite()).min(1)).optional(),
  })
  .superRefine((scenario, context) => {
    const n = scenario.utility.length;
    if (!scenario.features && !scenario.texts) {
      context.addIssue({ code: "custom", message: "a scenario needs `features` or `texts`" });
    }
    if (scenario.features) {
      if (scenario.features.length !== n) {
        context.addIssue({ code: "custom", path: ["features"], message: `has ${scenario.features.length} rows but utility has ${n}` });
      }
      const dimension = scenario.features[0]?.length ?? 0;
      scenario.features.forEach((row, i) => {
        if (row.length !== dimension)
          context.addIssue({ code: "custom", path: ["features", i], message: `has ${row.length} dimensions, expected ${dimension}` });
      });
    }
    if (scenario.texts && scenario.texts.length !== n) {
      context.addIssue({ code: "custom", path: ["texts"], message: `has ${scenario.texts.length} entries but utility has ${n}` });
    }
    const first = scenario.utility[0]!;
    if (scenario.utility.every((u) => u === first)) {
      context.addIssue({ code: "custom", path: ["utility"], message: "is constant, so regret is undefined" });
    }
  });

export type ScenarioFile = z.infer<typeof scenarioSchema>;

/** A scenario ready for simulation: one feature row per arm. */
export interface Scenario {
  name: string;
  utility: Float64Array;
  features: Float64Array[];
  /** "file" when the features came with the scenario, else the embedder's model name. */
  featureSource: string;
}

/**
 * Validates parsed JSON as a scenario and builds its features (given `features`, else `embedText(texts)`).
 * Cost: O(n d) or O(total text length). Throws an Error listing every schema problem with its path.
 */
export function parseScenario(json: unknown, embed: (text: string) => Float64Array = (text) => embedText(text)): Scenario {
  const result = scenarioSchema.safeParse(json);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`);
    throw new Error(`parseScenario: invalid scenario\n  ${problems.join("\n  ")}`);
  }
  const file = result.data;
  const features = file.features ? file.features.map((row) => Float64Array.from(row)) : file.texts!.map(embed);
  return {
    name: file.name,
    utility: Float64Array.from(file.utility),
    features,
    featureSource: file.features ? "file" : "lexical",
  };
}

/**
 * A uniformly random subset of `arms` arms (a partial Fisher–Yates shuffle), named `name[arms]`; the whole scenario
 * when arms >= n. Studies in the app have tens of prompts, the shared pools hundreds.
 * Cost: O(n). Throws if arms < 2.
 */
export function randomSubset(scenario: Scenario, arms: number, random: RandomSource): Scenario {
  if (!Number.isInteger(arms) || arms < 2) throw new Error("randomSubset requires at least two arms");
  const n = scenario.utility.length;
  if (arms >= n) return scenario;
  const indices = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = randomInt(random, i + 1);
    [indices[i], indices[j]] = [indices[j]!, indices[i]!];
  }
  const chosen = indices.slice(0, arms);
  return {
    ...scenario,
    name: `${scenario.name}[${arms}]`,
    utility: Float64Array.from(chosen, (i) => scenario.utility[i]!),
    features: chosen.map((i) => scenario.features[i]!),
  };
}
