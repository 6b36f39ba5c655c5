import { useEffect } from "react";
import { type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Link, useActionData, useLoaderData, useRevalidator } from "@remix-run/react";
import { requireStudyPermission } from "~/auth/require.server";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { JudgeAgreement, JudgeBatchForm, JudgeSettingsForm, JUDGE_MODE_LABELS } from "~/components/judge-panel";
import { StudyNav } from "~/components/study-nav";
import { db } from "~/db.server";
import { JudgeFormSchema } from "~/models/judge-forms.server";
import { judgePage } from "~/models/judge-view.server";
import { configureJudgeAs, requestJudgeBatchAs } from "~/services/judge.server";
import { allMessages, errorsOf } from "~/utils/form-errors";
import { invalidField, invalidForm } from "~/utils/form-errors.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `LLM judge · ${data?.study.name ?? "promptduel"}` }];

// The study's LLM judge (issue 17 §4; ADR 0032): its settings, its batches, its verdicts with their rationales and
// human–judge agreement. Owners only (study:manage): whether the judge's votes count is an exclusion (ADR 0025).
export async function loader({ request, params }: LoaderFunctionArgs) {
  const { study, permissions } = await requireStudyPermission(request, params.studyId, "study:manage");
  return { study: { id: study.id, name: study.name }, permissions: [...permissions], ...judgePage(db(), study) };
}

type ActionResult = { ok: true; intent: string; notice: string };

export async function action({ request, params }: ActionFunctionArgs) {
  const access = await requireStudyPermission(request, params.studyId, "study:manage");
  const fields = Object.fromEntries(await request.formData());
  const intent = typeof fields.intent === "string" ? fields.intent : "";
  const parsed = JudgeFormSchema.safeParse(fields);
  if (!parsed.success) return invalidForm(parsed.error, { intent });
  const form = parsed.data;
  if (form.intent === "judge-settings") {
    const saved = await configureJudgeAs(access, {
      model: form.judgeModel,
      instruction: form.judgeInstruction,
      mode: form.judgeMode,
      maxPairs: form.judgeMaxPairs,
      maxCostUsd: form.judgeMaxCostUsd,
      pairsPerMinute: form.judgePairsPerMinute,
    });
    if (!saved.ok) return invalidField(saved.field, saved.error, { intent });
    return {
      ok: true,
      intent,
      notice: `Saved the judge (${form.judgeModel}). ${form.judgeMode === "separate" ? "Its votes are shown separately." : "Its votes count."}${saved.countingChanged ? " The engine is rebuilt from the votes it now counts." : ""}`,
    } satisfies ActionResult;
  }
  const queued = requestJudgeBatchAs(access, { pairs: form.judgeBatchPairs });
  if (!queued.ok) return invalidField(queued.field, queued.error, { intent });
  return { ok: true, intent, notice: `Judging ${queued.pairs} pairs (batch #${queued.batchId}).` } satisfies ActionResult;
}

const POLL_MS = 1_500;

const WINNER = { a: "A", b: "B", tie: "tie" } as const;

export default function JudgePage() {
  const page = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const revalidator = useRevalidator();
  const { study } = page;
  const running = page.running;
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => {
      if (document.visibilityState === "visible" && revalidator.state === "idle") revalidator.revalidate();
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [running, revalidator]);
  const errorsFor = (intent: string) => errorsOf(result, intent).fieldErrors;
  const notice = result?.ok ? result.notice : null;
  // A refusal no form shows (an intent that is neither): in one alert.
  const unplaced = result && !result.ok && result.intent !== "judge-settings" && result.intent !== "judge-batch" ? allMessages(errorsOf(result)) : [];
  return (
    <section className="access-page judge-page">
      <h1>{study.name}</h1>
      <StudyNav studyId={study.id} permissions={page.permissions} />
      <h2>LLM judge</h2>
      <p className="muted">
        {page.saved ? (
          <>
            Judge <strong>{page.settings.model}</strong>. {JUDGE_MODE_LABELS[page.settings.mode]}.
            {page.budget ? (
              <>
                {" "}
                Budget left: {page.budget.pairs === null ? "no limit on pairs" : `${page.budget.pairs} pairs`},{" "}
                {page.budget.costUsd === null ? "no limit on dollars" : `$${page.budget.costUsd.toFixed(4)}`}.
              </>
            ) : null}
          </>
        ) : (
          "This study has no judge yet."
        )}{" "}
        The settings are also on the <Link to={`/studies/${study.id}/setup`}>setup page</Link>.
      </p>
      {notice ? (
        <p className="notice" role="status">
          {notice}
        </p>
      ) : null}
      {unplaced.length > 0 ? (
        <p className="notice warning" role="alert">
          {unplaced.join(" ")}
        </p>
      ) : null}
      <div className="setup-columns">
        <JudgeSettingsForm
          studyId={study.id}
          settings={page.settings}
          saved={page.saved}
          providerConfigured={page.providerConfigured}
          constraints={page.forms.settings}
          errors={errorsFor("judge-settings")}
        />
        <JudgeBatchForm
          studyId={study.id}
          enabled={page.saved && page.providerConfigured}
          constraints={page.forms.batch}
          errors={errorsFor("judge-batch")}
        />
      </div>

      <h3>Human–judge agreement</h3>
      <JudgeAgreement report={page.agreement} priced={page.priced} />

      <h3>Batches</h3>
      {page.batches.length === 0 ? (
        <p className="muted">No batch yet.</p>
      ) : (
        <table className="data-table compact" aria-label="Judged batches">
          <thead>
            <tr>
              <th scope="col">Batch</th>
              <th scope="col">State</th>
              <th scope="col" className="num">
                Judged
              </th>
              <th scope="col" className="num">
                Position bias
              </th>
              <th scope="col" className="num">
                Failed
              </th>
              <th scope="col" className="num">
                Cost
              </th>
              <th scope="col">Note</th>
            </tr>
          </thead>
          <tbody>
            {page.batches.map((batch) => (
              <tr key={batch.id} data-batch-id={batch.id}>
                <th scope="row">#{batch.id}</th>
                <td>{batch.state}</td>
                <td className="num">
                  {batch.judged} of {batch.pairs}
                </td>
                <td className="num">{batch.positionBias}</td>
                <td className="num">{batch.failures}</td>
                <td className="num">{batch.priced ? `$${batch.costUsd.toFixed(4)}` : "no price"}</td>
                <td className="muted">{batch.error ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h3>Latest verdicts</h3>
      {page.verdicts.length === 0 ? (
        <p className="muted">No verdict yet.</p>
      ) : (
        <table className="data-table compact" aria-label="Judge verdicts">
          <thead>
            <tr>
              <th scope="col">Query</th>
              <th scope="col">Prompts A, B</th>
              <th scope="col">A first</th>
              <th scope="col">B first</th>
              <th scope="col">Verdict</th>
              <th scope="col">Rationale (A first; B first)</th>
            </tr>
          </thead>
          <tbody>
            {page.verdicts.map((verdict) => (
              <tr key={verdict.id} data-verdict-id={verdict.id}>
                <td>
                  <Link to={`/studies/${study.id}/queries/${verdict.queryId}`}>#{verdict.queryId}</Link>
                </td>
                <td>
                  #{verdict.promptAId}, #{verdict.promptBId}
                </td>
                <td>{WINNER[verdict.aFirst]}</td>
                <td>{WINNER[verdict.bFirst]}</td>
                <td>
                  {WINNER[verdict.winner]} {verdict.positionBias ? <span className="badge warning">position bias</span> : null}
                </td>
                <td className="small">
                  {verdict.rationaleAFirst}
                  <br />
                  <span className="muted">{verdict.rationaleBFirst}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}
