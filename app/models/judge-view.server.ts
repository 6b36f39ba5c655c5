import { DEFAULT_JUDGE_INSTRUCTION, judgeBudgetLeft, listJudgeBatches, recentJudgeVerdicts, studyJudge } from "~/llm/judge.server";
import type { Queryable } from "~/llm/queryable.server";
import { providerConfig } from "~/llm/runtime.server";
import { formConstraints } from "~/utils/form-constraints";
import { judgeAgreement } from "./judge-agreement.server";
import { JudgeBatchFormSchema, JudgeSettingsFormSchema } from "./judge-forms.server";

// What the setup page's judge section and the judge page read.

/** The study's judge settings, or the defaults a first save would store (the provider's chat model, the default instruction). */
export function judgeSettingsView(db: Queryable, study: { id: number; model: string }) {
  const judge = studyJudge(db, study.id);
  const provider = providerConfig();
  return {
    saved: judge !== undefined,
    annotatorId: judge?.annotatorId ?? null,
    settings: {
      model: judge?.model ?? provider?.chatModel ?? study.model,
      instruction: judge?.instruction ?? DEFAULT_JUDGE_INSTRUCTION,
      mode: judge?.mode ?? ("separate" as const),
      maxPairs: judge?.maxPairs ?? null,
      maxCostUsd: judge?.maxCostUsd ?? null,
      pairsPerMinute: judge?.pairsPerMinute ?? 60,
    },
    providerConfigured: provider !== null,
    priced: judge !== undefined && provider !== null && judge.model in provider.prices,
    // The two forms' input constraints, from the schemas their action parses with (ADR 0040).
    forms: { settings: formConstraints(JudgeSettingsFormSchema), batch: formConstraints(JudgeBatchFormSchema) },
    budget: judge ? judgeBudgetLeft(db, judge) : null,
  };
}

/** Everything the judge page shows. */
export function judgePage(db: Queryable, study: { id: number; model: string }) {
  const prices = providerConfig()?.prices ?? {};
  // A model without a price has no cost estimate: its batches say so rather than $0.
  const batches = listJudgeBatches(db, study.id).map(({ requestedBy: _requestedBy, ...batch }) => ({ ...batch, priced: batch.model in prices }));
  return {
    ...judgeSettingsView(db, study),
    batches,
    running: batches.some((batch) => batch.state === "queued" || batch.state === "running"),
    agreement: judgeAgreement(db, study.id),
    verdicts: recentJudgeVerdicts(db, study.id),
  };
}
