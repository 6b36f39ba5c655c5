import { type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { requireStudyPermission } from "~/auth/require.server";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { StudyNav } from "~/components/study-nav";
import { AnnotatorQualityFormSchema } from "~/models/access-forms.server";
import {
  annotatorQuality,
  MAX_PAIRS,
  PAIR_MIN_ITEMS,
  READING_RULE,
  SIDE_BIAS_MARGIN,
  TOO_FAST_MIN_VOTES,
  TOO_FAST_SHARE,
} from "~/models/annotator-quality.server";
import {
  goldChoices,
  listGoldItems,
  MarkGoldFormSchema,
  MAX_CHECK_RATE,
  QualityChecksFormSchema,
  UnmarkGoldFormSchema,
} from "~/models/quality-checks.server";
import { setAnnotatorExclusionAs } from "~/services/members.server";
import { markGoldAs, setQualityChecksAs, unmarkGoldAs } from "~/services/quality.server";
import { JudgeAgreement } from "~/components/judge-panel";
import { AnnotatorReliability } from "~/components/annotator-reliability";
import { annotatorReliability } from "~/models/annotator-reliability.server";
import { RELIABILITY_FLAG_SHARE } from "~/models/reliability-fit.server";
import { db } from "~/db.server";
import { judgeAgreement } from "~/models/judge-agreement.server";
import { studyJudge } from "~/llm/judge.server";
import { providerConfig } from "~/llm/runtime.server";
import { constraintAttributes } from "~/components/field";
import { formConstraints } from "~/utils/form-constraints";
import { allMessages, errorsOf } from "~/utils/form-errors";
import { invalidField, invalidForm } from "~/utils/form-errors.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `Annotator quality · ${data?.study.name ?? "promptduel"}` }];

// Owners see which annotators to trust (position bias, speed, agreement with others) and can exclude
// an annotator: their votes stay, flagged, but leave the leaderboard and the engine until reinstated.
export async function loader({ request, params }: LoaderFunctionArgs) {
  const { study, permissions } = await requireStudyPermission(request, params.studyId, "study:manage");
  return {
    study: { id: study.id, name: study.name },
    permissions: [...permissions],
    report: annotatorQuality(study),
    checks: {
      auditRate: study.auditRate,
      auditMaxShare: study.auditMaxShare,
      goldRate: study.goldRate,
      overlapRate: study.overlapRate,
      maxRate: MAX_CHECK_RATE,
    },
    checksForm: formConstraints(QualityChecksFormSchema),
    goldForm: formConstraints(MarkGoldFormSchema),
    gold: listGoldItems(study.id),
    choices: goldChoices(study.id),
    // Reliability and side term fitted with the prompt scores (ADR 0037), read from the cached fit (ADR 0041).
    reliability: annotatorReliability(study.id),
    reliabilityFlagShare: RELIABILITY_FLAG_SHARE,
    // The LLM judge (ADR 0032): its row has no exclude button (its setting decides), and its agreement with humans.
    judge: (() => {
      const judge = studyJudge(db(), study.id);
      return judge
        ? { annotatorId: judge.annotatorId, agreement: judgeAgreement(db(), study.id), priced: judge.model in (providerConfig()?.prices ?? {}) }
        : null;
    })(),
    rules: {
      charsPerSecond: READING_RULE.charsPerSecond,
      floorMs: READING_RULE.floorMs,
      tooFastShare: TOO_FAST_SHARE,
      tooFastMinVotes: TOO_FAST_MIN_VOTES,
      sideBiasMargin: SIDE_BIAS_MARGIN,
      pairMinItems: PAIR_MIN_ITEMS,
      maxPairs: MAX_PAIRS,
    },
  };
}

type ActionResult = { ok: true; notice: string };

export async function action({ request, params }: ActionFunctionArgs) {
  const access = await requireStudyPermission(request, params.studyId, "study:manage");
  const form = Object.fromEntries(await request.formData());
  if (form.intent === "checks") {
    const checks = QualityChecksFormSchema.safeParse(form);
    if (!checks.success) return invalidForm(checks.error);
    const { intent: _intent, ...rates } = checks.data;
    void _intent;
    const changed = setQualityChecksAs(access, rates);
    return { ok: true, notice: changed === "changed" ? "Quality checks saved." : "The quality checks were already set so." } satisfies ActionResult;
  }
  if (form.intent === "mark-gold") {
    const gold = MarkGoldFormSchema.safeParse(form);
    if (!gold.success) return invalidForm(gold.error);
    const { queryId, promptAId, promptBId, preferred } = gold.data;
    const marked = markGoldAs(access, { queryId, promptAId, promptBId, preferredPromptId: preferred === "a" ? promptAId : promptBId });
    if (!marked.ok) return invalidField(marked.field, marked.message);
    return { ok: true, notice: marked.replaced ? "That item was gold already: its answer is updated." : "Gold item added." } satisfies ActionResult;
  }
  if (form.intent === "unmark-gold") {
    const gold = UnmarkGoldFormSchema.safeParse(form);
    if (!gold.success) return invalidForm(gold.error);
    if (!unmarkGoldAs(access, gold.data.goldId)) return invalidField("goldId", "No such gold item in this study", { status: 404 });
    return { ok: true, notice: "Gold item removed: votes on it stay, and no longer count for gold accuracy." } satisfies ActionResult;
  }
  const parsed = AnnotatorQualityFormSchema.safeParse(form);
  if (!parsed.success) return invalidForm(parsed.error);
  const { intent, annotatorId } = parsed.data;
  const result = await setAnnotatorExclusionAs(access, annotatorId, intent === "exclude");
  if (result === "not_found") return invalidField("annotatorId", "No such annotator in this study", { status: 404 });
  if (result === "judge") return invalidField("annotatorId", "Whether the LLM judge's votes count is its setting: change it on the LLM judge page.");
  const notices = {
    exclude: {
      changed: "Annotator excluded: their votes stay, flagged, and no longer count on the leaderboard or for the engine.",
      unchanged: "That annotator was excluded already.",
    },
    reinstate: { changed: "Annotator reinstated: their votes count again.", unchanged: "That annotator's votes count already." },
  } as const;
  return { ok: true, notice: notices[intent][result] } satisfies ActionResult;
}

const percent = (value: number | null) => (value === null ? "—" : `${Math.round(value * 100)}%`);
const decimal = (value: number | null) => (value === null ? "—" : value.toFixed(2));
const seconds = (ms: number | null) => (ms === null ? "—" : `${(ms / 1000).toFixed(1)} s`);

function Interval({ lower, upper, format }: { lower: number | null; upper: number | null; format: (value: number | null) => string }) {
  if (lower === null || upper === null) return null;
  return (
    <span className="muted">
      {" "}
      ({format(lower)}–{format(upper)})
    </span>
  );
}

function CheckCell({ check, none }: { check: { judged: number; matched: number; rate: number | null; lower: number; upper: number }; none: string }) {
  if (check.judged === 0) return <span className="muted">{none}</span>;
  return (
    <>
      {percent(check.rate)}
      <Interval lower={check.lower} upper={check.upper} format={percent} /> of {check.judged}
    </>
  );
}

export default function AnnotatorQualityPage() {
  const { study, permissions, report, rules, checks, checksForm, gold, goldForm, choices, judge, reliability, reliabilityFlagShare } =
    useLoaderData<typeof loader>();
  const promptLabel = (id: number) => {
    const text = choices.prompts.find((prompt) => prompt.id === id)?.text ?? "";
    return `#${id} ${text.length > 40 ? `${text.slice(0, 40)}…` : text}`;
  };
  const result = useActionData<typeof action>();
  const notice = result?.ok ? result.notice : null;
  const refusals = allMessages(errorsOf(result));
  const { overall } = report;
  return (
    <section className="access-page quality-page">
      <h1>{study.name}</h1>
      <StudyNav studyId={study.id} permissions={permissions} />
      <h2>Annotator quality</h2>
      <p className="muted">
        Which annotators to trust. Excluding an annotator keeps their votes (flagged in exports) but takes them out of the leaderboard and the engine,
        until you reinstate them; to take away their access, remove them on the <Link to={`/studies/${study.id}/annotators`}>Annotators</Link> page.
        Intervals are 95%.
      </p>
      {notice ? (
        <p className="notice" role="status">
          {notice}
        </p>
      ) : null}
      {refusals.length > 0 ? (
        <p className="notice warning" role="alert">
          {refusals.join(" ")}
        </p>
      ) : null}

      <h3>Whole study</h3>
      <dl className="quality-summary">
        <dt>Left-side win rate</dt>
        <dd>
          {percent(overall.leftSide.rate)}
          <Interval lower={overall.leftSide.rate === null ? null : overall.leftSide.lower} upper={overall.leftSide.upper} format={percent} /> of{" "}
          {overall.leftSide.trials} decisive votes {overall.leftSide.strong ? <span className="badge warning">strong side bias</span> : null}
        </dd>
        <dt>Items judged by two or more annotators</dt>
        <dd>
          {overall.overlapItems}
          {overall.overlapItems > 0 ? (
            <span className="muted">
              {" "}
              ({overall.servedOverlapItems} served as overlaps at the overlap rate, {overall.overlapItems - overall.servedOverlapItems} by chance)
            </span>
          ) : null}
        </dd>
        <dt>Krippendorff&apos;s alpha</dt>
        <dd>
          {decimal(overall.krippendorffAlpha.value)}
          <Interval lower={overall.krippendorffAlpha.lower} upper={overall.krippendorffAlpha.upper} format={decimal} />
        </dd>
        <dt>Fleiss&apos; kappa</dt>
        <dd>
          {overall.fleissKappa ? (
            <>
              {decimal(overall.fleissKappa.value)}
              <Interval lower={overall.fleissKappa.lower} upper={overall.fleissKappa.upper} format={decimal} /> on {overall.fleissKappa.items} items
              with {overall.fleissKappa.ratersPerItem} annotators each
            </>
          ) : (
            "—"
          )}
        </dd>
      </dl>
      <p className="muted">
        Agreement is computed on what the annotators said about each prompt pair for a query (which prompt won, or a draw: tie or both bad), whichever
        side each was shown on; skips are left out, and an annotator&apos;s latest vote on an item is theirs. Excluded annotators do not count. Alpha
        and kappa: 1 is perfect agreement, 0 what chance gives; intervals by bootstrap over items.
      </p>

      <h3>Annotators</h3>
      {report.annotators.length === 0 ? (
        <p className="muted">Nobody has joined or voted yet.</p>
      ) : (
        <div className="table-scroll">
          <table className="data-table compact">
            <caption className="visually-hidden">Quality of each annotator&apos;s votes</caption>
            <thead>
              <tr>
                <th scope="col">Annotator</th>
                <th scope="col" className="num">
                  Votes
                </th>
                <th scope="col">Left-side rate</th>
                <th scope="col">Median time (reading needs)</th>
                <th scope="col">Too fast</th>
                <th scope="col">Agrees with others</th>
                <th scope="col">Consistency (audits)</th>
                <th scope="col">Gold accuracy</th>
                <th scope="col">
                  <span className="visually-hidden">Action</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {report.annotators.map((annotator) => (
                <tr key={annotator.annotatorId}>
                  <th scope="row">
                    {annotator.displayName} {annotator.member ? <span className="badge">member</span> : null}{" "}
                    {annotator.removed ? <span className="badge danger">removed</span> : null}{" "}
                    {annotator.excluded ? <span className="badge danger">excluded</span> : null}
                  </th>
                  <td className="num">{annotator.votes}</td>
                  <td>
                    {percent(annotator.leftSide.rate)}
                    <Interval
                      lower={annotator.leftSide.rate === null ? null : annotator.leftSide.lower}
                      upper={annotator.leftSide.upper}
                      format={percent}
                    />{" "}
                    {annotator.leftSide.strong ? <span className="badge warning">side bias</span> : null}
                  </td>
                  <td>
                    {seconds(annotator.medianLatencyMs)} ({seconds(annotator.medianRequiredMs)})
                  </td>
                  <td>
                    {annotator.tooFastVotes} of {annotator.timedVotes} {annotator.tooFast ? <span className="badge warning">too fast</span> : null}
                  </td>
                  <td>
                    {annotator.agreement.pairings === 0 ? (
                      <span className="muted">no shared items</span>
                    ) : (
                      <>
                        {percent(annotator.agreement.rate)}
                        <Interval lower={annotator.agreement.lower} upper={annotator.agreement.upper} format={percent} /> on{" "}
                        {annotator.agreement.sharedItems} items
                      </>
                    )}
                  </td>
                  <td>
                    <CheckCell check={annotator.consistency} none="no audits" />
                  </td>
                  <td>
                    <CheckCell check={annotator.gold} none="no gold items" />
                  </td>
                  <td>
                    {annotator.annotatorId === judge?.annotatorId ? (
                      <Link to={`/studies/${study.id}/judge`}>Judge settings</Link>
                    ) : (
                      <Form method="post">
                        <input type="hidden" name="annotatorId" value={annotator.annotatorId} />
                        {annotator.excluded ? (
                          <button type="submit" name="intent" value="reinstate" aria-label={`Reinstate ${annotator.displayName}`}>
                            Reinstate
                          </button>
                        ) : (
                          <button type="submit" name="intent" value="exclude" aria-label={`Exclude ${annotator.displayName}`}>
                            Exclude
                          </button>
                        )}
                      </Form>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p className="muted">
        Left-side rate: the share of an annotator&apos;s decisive votes that went to the response shown on the left (sides are random, so 50% is no
        bias); flagged when even its interval lies beyond {percent(0.5 - rules.sideBiasMargin)}–{percent(0.5 + rules.sideBiasMargin)}. A vote is too
        fast when it took less than the time to skim both responses at {rules.charsPerSecond} characters a second (about 600 words a minute), and
        never less than {seconds(rules.floorMs)}; an annotator is flagged when more than {percent(rules.tooFastShare)} of at least{" "}
        {rules.tooFastMinVotes} timed votes were. Agreement with others: how often their label matched another counted annotator&apos;s on the same
        item. Consistency: how often an audit (a pair they decided before, served again with the sides swapped) got the same answer (the same winner,
        or a draw both times). Gold accuracy: how often they chose the better response of a gold item (a draw is not the answer).
      </p>

      <h3>Reliability in the model</h3>
      <AnnotatorReliability
        report={reliability.report}
        pending={reliability.pending}
        names={Object.fromEntries(report.annotators.map((annotator) => [annotator.annotatorId, annotator.displayName]))}
        flagShare={reliabilityFlagShare}
      />

      {judge ? (
        <>
          <h3>Human–judge agreement</h3>
          <JudgeAgreement report={judge.agreement} priced={judge.priced} />
        </>
      ) : null}

      <h3>Quality checks</h3>
      <Form method="post" className="quality-checks">
        <input type="hidden" name="intent" value="checks" />
        <div className="field-row">
          {(
            [
              ["auditRate", "Audit rate"],
              ["auditMaxShare", "Most audits as a share of an annotator's work"],
              ["goldRate", "Gold rate"],
              ["overlapRate", "Overlap rate"],
            ] as const
          ).map(([name, label]) => (
            <label key={name}>
              {label}
              <input
                name={name}
                {...constraintAttributes(checksForm[name], false)}
                inputMode="decimal"
                defaultValue={String(checks[name])}
                aria-describedby="checks-hint"
              />
            </label>
          ))}
          <button type="submit">Save the checks</button>
        </div>
        <p id="checks-hint" className="hint">
          Each pair request serves an audit with the audit rate (never two in a row, never more than the share of the annotator&apos;s answered
          pairs), a gold item they have not answered with the gold rate, or with the overlap rate a pair exactly one other annotator decided (a recent
          one), so that agreement is measured on served overlaps. Rates from 0 (off, the default) to {checks.maxRate}, at most 1 together; a few
          percent is usual (10–20% for overlaps). Audit votes do not count on the leaderboard or for the engine; votes on gold items and overlaps
          count like any other.
        </p>
      </Form>

      <h3>Gold items</h3>
      {gold.length === 0 ? (
        <p className="muted">No gold items yet.</p>
      ) : (
        <table className="data-table compact">
          <caption className="visually-hidden">Gold items and their answers</caption>
          <thead>
            <tr>
              <th scope="col">Query</th>
              <th scope="col">Prompts</th>
              <th scope="col">Better response</th>
              <th scope="col">
                <span className="visually-hidden">Action</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {gold.map((item) => (
              <tr key={item.id}>
                <th scope="row">{item.query}</th>
                <td>
                  {promptLabel(item.lowPromptId)} and {promptLabel(item.highPromptId)}
                </td>
                <td>{promptLabel(item.preferredPromptId)}</td>
                <td>
                  <Form method="post">
                    <input type="hidden" name="intent" value="unmark-gold" />
                    <input type="hidden" name="goldId" value={item.id} />
                    <button type="submit" aria-label={`Remove gold item ${item.id}`}>
                      Remove
                    </button>
                  </Form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Form method="post" className="gold-form">
        <input type="hidden" name="intent" value="mark-gold" />
        <div className="field-row">
          <label>
            Query
            <select name="queryId" defaultValue="" required={goldForm.queryId?.required}>
              <option value="">Choose a query</option>
              {choices.queries.map((query) => (
                <option key={query.id} value={query.id}>
                  #{query.id} {query.text.length > 60 ? `${query.text.slice(0, 60)}…` : query.text}
                </option>
              ))}
            </select>
          </label>
          <label>
            First prompt
            <select name="promptAId" defaultValue="" required={goldForm.promptAId?.required}>
              <option value="">Choose a prompt</option>
              {choices.prompts.map((prompt) => (
                <option key={prompt.id} value={prompt.id}>
                  {promptLabel(prompt.id)}
                </option>
              ))}
            </select>
          </label>
          <label>
            Second prompt
            <select name="promptBId" defaultValue="" required={goldForm.promptBId?.required}>
              <option value="">Choose a prompt</option>
              {choices.prompts.map((prompt) => (
                <option key={prompt.id} value={prompt.id}>
                  {promptLabel(prompt.id)}
                </option>
              ))}
            </select>
          </label>
          <label>
            Better response
            <select name="preferred" defaultValue="" required={goldForm.preferred?.required}>
              <option value="">Choose</option>
              <option value="a">The first prompt&apos;s</option>
              <option value="b">The second prompt&apos;s</option>
            </select>
          </label>
          <button type="submit">Mark as gold</button>
        </div>
        <p className="hint">For example a pair where one response is deliberately wrong for the query. Marking an item again changes its answer.</p>
      </Form>

      <h3>Annotator pairs</h3>
      {report.pairs.length === 0 ? (
        <p className="muted">No two annotators have judged {rules.pairMinItems} or more of the same items yet.</p>
      ) : (
        <table className="data-table compact">
          <caption className="visually-hidden">Cohen&apos;s kappa for each pair of annotators</caption>
          <thead>
            <tr>
              <th scope="col">Annotators</th>
              <th scope="col" className="num">
                Shared items
              </th>
              <th scope="col">Cohen&apos;s kappa</th>
            </tr>
          </thead>
          <tbody>
            {report.pairs.map((pair) => (
              <tr key={`${pair.first.annotatorId}:${pair.second.annotatorId}`}>
                <th scope="row">
                  {pair.first.displayName} and {pair.second.displayName}
                </th>
                <td className="num">{pair.sharedItems}</td>
                <td>
                  {decimal(pair.cohenKappa.value)}
                  <Interval lower={pair.cohenKappa.lower} upper={pair.cohenKappa.upper} format={decimal} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p className="muted">
        Pairs with at least {rules.pairMinItems} shared items, the {rules.maxPairs} with the most.
      </p>
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}
