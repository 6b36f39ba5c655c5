import { and, count, eq } from "drizzle-orm";
import { prompts, queries, responses } from "../../db/schema";
import { generationSettingsHash, normalizePromptText } from "../../db/text";
import { env } from "~/env.server";
import { checkResponseCap } from "./generation-queue.server";
import { estimateCostUsd, type ProviderConfig } from "./provider.server";
import type { Queryable } from "./queryable.server";

// What adding prompts or queries will cost before anything is spent (issue 14 item 3): the study
// ends with P prompts × Q queries responses, N of them new and queued for generation, of about T
// tokens and $X at the model's price with every answer at most max tokens long. Past the configured
// thresholds the owner confirms these figures first; past the per-study cap the addition is refused.

/** Rough tokens per character of English text (OpenAI's rule of thumb: ~4 characters a token). */
const CHARACTERS_PER_TOKEN = 4;
/** Tokens a chat request adds around the system prompt and the user message. */
const MESSAGE_OVERHEAD_TOKENS = 8;

export interface ResponsePlan {
  prompts: number;
  queries: number;
  /** prompts × queries: what the study will hold. */
  responses: number;
  /** The ones it does not have yet for its current settings: what gets queued. */
  newResponses: number;
  inputTokens: number;
  /** Upper bound: every answer as long as the study's max tokens. */
  outputTokens: number;
  /** Null offline (nothing is generated: responses wait for an import) or for a model without a price. */
  costUsd: number | null;
  model: string;
  maxTokens: number;
  /** Whether a provider would generate them. */
  generated: boolean;
}

export interface StudyModel {
  model: string;
  temperature: number;
  maxTokens: number;
  seed: number | null;
}

/**
 * The plan for `studyId` (null: a new study) after adding these prompt and query texts, duplicates
 * of what the study has (prompts up to case and spacing) not counted. Throws ResponseCapError when
 * the study would hold more responses than `cap` (RESPONSES_PER_STUDY_MAX).
 */
export function planResponses(
  db: Queryable,
  studyId: number | null,
  settings: StudyModel,
  additions: { promptTexts: readonly string[]; queryTexts: readonly string[] },
  provider: ProviderConfig | null,
  cap: number = env().RESPONSES_PER_STUDY_MAX,
): ResponsePlan {
  const promptTexts = new Map<string, string>();
  const queryTexts = new Set<string>();
  let existingResponses = 0;
  if (studyId !== null) {
    for (const row of db
      .select({ normalizedText: prompts.normalizedText, text: prompts.text })
      .from(prompts)
      .where(eq(prompts.studyId, studyId))
      .all()) {
      promptTexts.set(row.normalizedText, row.text);
    }
    for (const row of db.select({ text: queries.text }).from(queries).where(eq(queries.studyId, studyId)).all()) queryTexts.add(row.text);
    existingResponses =
      db
        .select({ n: count() })
        .from(responses)
        .innerJoin(prompts, eq(prompts.id, responses.promptId))
        .innerJoin(queries, and(eq(queries.id, responses.queryId), eq(queries.studyId, prompts.studyId)))
        .where(and(eq(prompts.studyId, studyId), eq(responses.settingsHash, generationSettingsHash(settings))))
        .get()?.n ?? 0;
  }
  for (const text of additions.promptTexts) {
    const normalized = normalizePromptText(text);
    if (!promptTexts.has(normalized)) promptTexts.set(normalized, text);
  }
  for (const text of additions.queryTexts) queryTexts.add(text);

  const promptCount = promptTexts.size;
  const queryCount = queryTexts.size;
  checkResponseCap(promptCount, queryCount, cap);
  const total = promptCount * queryCount;
  const newResponses = Math.max(0, total - existingResponses);
  const meanLength = (texts: Iterable<string>, n: number) => {
    let characters = 0;
    for (const text of texts) characters += text.length;
    return n === 0 ? 0 : characters / n;
  };
  const tokensPerRequest =
    (meanLength(promptTexts.values(), promptCount) + meanLength(queryTexts, queryCount)) / CHARACTERS_PER_TOKEN + MESSAGE_OVERHEAD_TOKENS;
  const inputTokens = Math.round(newResponses * tokensPerRequest);
  const outputTokens = newResponses * settings.maxTokens;
  return {
    prompts: promptCount,
    queries: queryCount,
    responses: total,
    newResponses,
    inputTokens,
    outputTokens,
    costUsd: provider ? estimateCostUsd(provider.prices, settings.model, { promptTokens: inputTokens, completionTokens: outputTokens }) : null,
    model: settings.model,
    maxTokens: settings.maxTokens,
    generated: provider !== null,
  };
}

/** Whether the owner must confirm the plan first: more new responses than CONFIRM_RESPONSES_ABOVE, or a cost above CONFIRM_COST_ABOVE_USD. */
export function needsConfirmation(plan: ResponsePlan): boolean {
  const config = env();
  return plan.newResponses > config.CONFIRM_RESPONSES_ABOVE || (plan.costUsd ?? 0) > config.CONFIRM_COST_ABOVE_USD;
}

const integer = (n: number) => Math.round(n).toLocaleString("en");

function formatTokens(tokens: number): string {
  if (tokens >= 1_000_000) return `${(tokens / 1_000_000).toFixed(1)} M`;
  if (tokens >= 10_000) return `${Math.round(tokens / 1000)} k`;
  return integer(tokens);
}

/** The figures in one sentence: "This makes 20 prompts × 1,000 queries = 20,000 responses (19,860 new): ≈ 12.5 M tokens, ≈ $7.31 …". */
export function describePlan(plan: ResponsePlan): string {
  const figures = `This makes ${integer(plan.prompts)} prompts × ${integer(plan.queries)} queries = ${integer(plan.responses)} responses (${integer(plan.newResponses)} new)`;
  if (!plan.generated) return `${figures}. No LLM provider is configured, so nothing is spent: the new responses wait for an import.`;
  const tokens = `≈ ${formatTokens(plan.inputTokens + plan.outputTokens)} tokens (${formatTokens(plan.inputTokens)} in, at most ${formatTokens(plan.outputTokens)} out at ${integer(plan.maxTokens)} max tokens an answer)`;
  const cost =
    plan.costUsd === null
      ? `; ${plan.model} has no price in the price table (OPENAI_PRICES), so no cost estimate`
      : `, ≈ $${plan.costUsd.toFixed(2)} with ${plan.model} at most`;
  return `${figures}: ${tokens}${cost}.`;
}
