import { Form } from "@remix-run/react";
import { Field, FieldError } from "~/components/field";
import type { FormConstraints } from "~/utils/form-constraints";

// The LLM judge as its owners see it (issue 17 §4; ADR 0032): the settings and batch forms (on the setup page and the
// judge page, both posting to /studies/:id/judge), the batches, the verdicts with their rationales, and human–judge
// agreement. No server import: the browser bundle must not pull in db/schema.

type Mode = "separate" | "counted" | "prescreen";

export const JUDGE_MODE_LABELS: Record<Mode, string> = {
  separate: "Shown separately: the judge's votes do not count on the leaderboard or for the engine (default)",
  counted: "Counted: the judge's votes count on the leaderboard and for the engine like an annotator's",
  prescreen:
    "Pre-screen: counted, and its batches spread over the whole pool rather than the pairs humans judged (rank a large pool before humans see it; with the retirement rule or a pool cap, what it rules out leaves selection)",
};

export interface JudgeSettingsView {
  model: string;
  instruction: string;
  mode: Mode;
  maxPairs: number | null;
  maxCostUsd: number | null;
  pairsPerMinute: number;
}

type Errors = Record<string, string[]>;

/** The judge's settings form; `saved` is false while the study has no judge yet (the fields show the defaults). */
export function JudgeSettingsForm({
  studyId,
  settings,
  saved,
  providerConfigured,
  constraints,
  errors,
}: {
  studyId: number;
  settings: JudgeSettingsView;
  saved: boolean;
  providerConfigured: boolean;
  constraints: FormConstraints;
  errors: Errors;
}) {
  const form = { constraints, errors };
  return (
    <Form method="post" action={`/studies/${studyId}/judge`} className="setup-form judge-form" noValidate aria-label="LLM judge settings">
      <fieldset disabled={!providerConfigured}>
        <legend>LLM judge</legend>
        <p className="hint">
          An LLM votes on pairs like an annotator, each pair twice with the answers swapped; when the two orders disagree the pair is a tie and counts
          as position bias. Its short rationale is kept. {saved ? null : "Not set up yet: save to create the judge."}
        </p>
        <Field name="judgeModel" label="Judge model" {...form} input={{ defaultValue: settings.model }} />
        <Field name="judgeInstruction" label="Judge instruction" {...form} textarea input={{ rows: 5, defaultValue: settings.instruction }} />
        <fieldset className="radio-group">
          <legend>The judge&apos;s votes</legend>
          {(Object.keys(JUDGE_MODE_LABELS) as Mode[]).map((mode) => (
            <label key={mode} className="checkbox">
              <input type="radio" name="judgeMode" value={mode} defaultChecked={settings.mode === mode} required={constraints.judgeMode?.required} />{" "}
              {JUDGE_MODE_LABELS[mode]}
            </label>
          ))}
        </fieldset>
        <FieldError id="judgeMode-error" messages={errors.judgeMode} />
        <Field name="judgeMaxPairs" label="Budget: judged pairs in all (empty: none)" {...form} input={{ defaultValue: settings.maxPairs ?? "" }} />
        <Field name="judgeMaxCostUsd" label="Budget: dollars in all (empty: none)" {...form} input={{ defaultValue: settings.maxCostUsd ?? "" }} />
        <Field
          name="judgePairsPerMinute"
          label={`Rate: pairs a minute (${constraints.judgePairsPerMinute?.min}–${constraints.judgePairsPerMinute?.max})`}
          {...form}
          input={{ defaultValue: settings.pairsPerMinute }}
        />
        <button type="submit" name="intent" value="judge-settings">
          Save the judge
        </button>
        {providerConfigured ? null : <p className="hint">Needs an LLM provider.</p>}
      </fieldset>
    </Form>
  );
}

export function JudgeBatchForm({
  studyId,
  enabled,
  constraints,
  errors,
}: {
  studyId: number;
  enabled: boolean;
  constraints: FormConstraints;
  errors: Errors;
}) {
  const batch = constraints.judgeBatchPairs;
  return (
    <Form method="post" action={`/studies/${studyId}/judge`} className="setup-form" noValidate aria-label="Run a judged batch">
      <fieldset disabled={!enabled}>
        <legend>Run a judged batch</legend>
        <p className="hint">
          Pairs humans voted on come first (so agreement can be measured), then random pairs of the pool; each pair costs two calls.
        </p>
        <Field
          name="judgeBatchPairs"
          label={`Pairs to judge (${batch?.min}–${batch?.max})`}
          constraints={constraints}
          errors={errors}
          input={{ defaultValue: 20 }}
        />
        <button type="submit" name="intent" value="judge-batch">
          Run a judged batch
        </button>
      </fieldset>
    </Form>
  );
}

interface Interval {
  rate: number | null;
  lower: number;
  upper: number;
  successes: number;
  trials: number;
}

interface Estimate {
  value: number | null;
  lower: number | null;
  upper: number | null;
}

interface Figures {
  items: number;
  pairings: number;
  agreement: Interval;
  cohenKappa: Estimate;
}

export interface JudgeAgreementView {
  overall: Figures;
  perQuery: (Figures & { queryId: number; query: string })[];
  verdicts: number;
  positionBias: Interval;
  costUsd: number;
}

const percent = (value: number | null) => (value === null ? "—" : `${Math.round(value * 100)}%`);
const decimal = (value: number | null) => (value === null ? "—" : value.toFixed(2));
const range = (lower: number | null, upper: number | null, format: (value: number | null) => string) =>
  lower === null || upper === null ? "" : ` (${format(lower)}–${format(upper)})`;

function AgreementCells({ figures }: { figures: Figures }) {
  return (
    <>
      <td className="num">{figures.items}</td>
      <td className="num">{figures.pairings}</td>
      <td>
        {percent(figures.agreement.rate)}
        <span className="muted">{figures.agreement.rate === null ? "" : range(figures.agreement.lower, figures.agreement.upper, percent)}</span>
      </td>
      <td>
        {decimal(figures.cohenKappa.value)}
        <span className="muted">
          {figures.cohenKappa.value !== null && figures.cohenKappa.lower === null
            ? " (too few votes for an interval)"
            : range(figures.cohenKappa.lower, figures.cohenKappa.upper, decimal)}
        </span>
      </td>
    </>
  );
}

/** Human–judge agreement, overall and per query, with the judge's position bias. */
export function JudgeAgreement({ report, priced }: { report: JudgeAgreementView; priced: boolean }) {
  return (
    <div className="judge-agreement">
      <p>
        {report.verdicts} pairs judged; the two orders disagreed (position bias, stored as a tie) on {report.positionBias.successes} ={" "}
        {percent(report.positionBias.rate)}
        <span className="muted">{report.positionBias.rate === null ? "" : range(report.positionBias.lower, report.positionBias.upper, percent)}</span>
        ; {priced ? `cost $${report.costUsd.toFixed(4)}.` : "cost unknown: no price is set for the judge's model (OPENAI_PRICES)."}
      </p>
      {report.overall.pairings === 0 ? (
        <p className="muted">No pair has been judged by both the judge and a human yet.</p>
      ) : (
        <div className="table-scroll">
          <table className="data-table compact" aria-label="Human–judge agreement">
            <thead>
              <tr>
                <th scope="col">Where</th>
                <th scope="col" className="num">
                  Pairs both judged
                </th>
                <th scope="col" className="num">
                  Human votes compared
                </th>
                <th scope="col">Agreement</th>
                <th scope="col">Cohen&apos;s kappa</th>
              </tr>
            </thead>
            <tbody>
              <tr data-query-id="all">
                <th scope="row">All queries</th>
                <AgreementCells figures={report.overall} />
              </tr>
              {report.perQuery.map((row) => (
                <tr key={row.queryId} data-query-id={row.queryId}>
                  <th scope="row">
                    #{row.queryId} <span className="muted">{row.query.length > 60 ? `${row.query.slice(0, 59)}…` : row.query}</span>
                  </th>
                  <AgreementCells figures={row} />
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p className="muted small">
        A pair is a query and two prompts; the judge&apos;s verdict is compared with each counted human&apos;s latest vote on it (which prompt won, or
        a draw: tie or both bad). Kappa: 1 is perfect agreement, 0 what chance gives. Intervals are 95%: Wilson for agreement and position bias,
        bootstrap over the compared votes for kappa.
      </p>
    </div>
  );
}
