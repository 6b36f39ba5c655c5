import { z } from "zod";
import { type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation, useRevalidator } from "@remix-run/react";
import { useEffect, useState, type ReactNode } from "react";
import { requireStudyPermission } from "~/auth/require.server";
import { allMessages, errorsOf } from "~/utils/form-errors";
import { invalidForm, refusedForm } from "~/utils/form-errors.server";
import { ConvergenceChart, IntervalBar, winCellClass } from "~/components/charts";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { StudyNav } from "~/components/study-nav";
import { engineStatus, getStudyEngine } from "~/engine/engine.server";
import { catchUpCaption, getDashboard, responseStatusCounts } from "~/models/dashboard.server";
import { inviteState, listInvites } from "~/models/invite.server";
import { nextSteps, type StepTarget } from "~/models/next-steps";
import { STATUS_ACTIONS, StatusActionSchema, statusActionsFrom } from "~/models/study-lifecycle.server";
import { getStudyCounts } from "~/models/study.server";
import { changeStudyStatusAs } from "~/services/studies.server";
import { MIN_COMPARISONS_TO_RANK } from "~/utils/leaderboard-ranking";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.study.name ?? "Study"} · promptduel` }];

// A page number that is not one shows the first page (as the audit log's `before`).
const PageSchema = z.coerce.number().int().positive().catch(1);

export async function loader({ request, params }: LoaderFunctionArgs) {
  const { study, permissions } = await requireStudyPermission(request, params.studyId, "study:read");
  const dashboard = getDashboard(study.id, { page: PageSchema.parse(new URL(request.url).searchParams.get("page")) });
  // The page reads SQLite only; an engine is started (or queued) only to count votes its scores lack.
  const behind = dashboard.decisiveVotes - (dashboard.engine?.voteCount ?? 0);
  if (behind > 0) getStudyEngine(study.id);
  const counts = getStudyCounts(study.id);
  const generation = responseStatusCounts(study.id);
  const now = new Date();
  return {
    study: { id: study.id, name: study.name, task: study.task, model: study.model, status: study.status, closedReason: study.closedReason },
    permissions: [...permissions],
    // Starting, pausing, closing and archiving are part of running the study: editors and owners.
    statusActions: permissions.has("study:edit")
      ? statusActionsFrom(study.status).map((action) => ({ action, label: STATUS_ACTIONS[action].label }))
      : [],
    counts,
    nextSteps: nextSteps({
      status: study.status,
      canEdit: permissions.has("study:edit"),
      canManage: permissions.has("study:manage"),
      canExport: permissions.has("study:export"),
      prompts: counts.prompts,
      queries: counts.queries,
      responsesReady: generation.ready,
      responsesPending: generation.pending,
      responsesFailed: generation.error,
      usableInviteLinks: permissions.has("study:manage")
        ? listInvites(study.id, "annotator").filter((invite) => inviteState(invite, now) === "usable").length
        : 0,
      votes: counts.votes,
      annotators: dashboard.votesPerAnnotator.length,
      converged: dashboard.engine?.converged ?? false,
      votesStillNeeded: dashboard.engine?.votesStillNeeded ?? null,
      unmeasuredPrompts: dashboard.leaderboard.unmeasured,
      minComparisons: MIN_COMPARISONS_TO_RANK,
    }),
    ...dashboard,
    catchingUp: catchUpCaption(behind, engineStatus(study.id), dashboard.engine?.snapshotAt ?? null),
  };
}

/** The owner's controls of the study's life: start, pause, resume, close, reopen, archive. */
export async function action({ request, params }: ActionFunctionArgs) {
  const access = await requireStudyPermission(request, params.studyId, "study:edit");
  const parsed = StatusActionSchema.safeParse(Object.fromEntries(await request.formData()));
  if (!parsed.success) return invalidForm(parsed.error);
  const result = changeStudyStatusAs(access, parsed.data.statusAction);
  if (!result.ok) return refusedForm(result.error, { status: 409 });
  return { ok: true as const };
}

const STATUS_TEXT = {
  draft: "Draft: annotators are told it has not started",
  running: "Running: annotators get pairs",
  paused: "Paused: annotators are told to come back later",
  closed: "Closed: annotators are told it is complete",
  archived: "Archived",
} as const;

const REFRESH_MS = 5_000;

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? "" : "s"}`;

export default function StudyDashboard() {
  const {
    study,
    permissions,
    statusActions,
    counts,
    nextSteps,
    leaderboard,
    recommended,
    convergence,
    convergenceLegend,
    convergenceJoins,
    minComparisonsForPBest,
    engine,
    winMatrix,
    votesPerAnnotator,
    catchingUp,
    recommendationNote,
    crowd,
  } = useLoaderData<typeof loader>();
  const statusRefusal = allMessages(errorsOf(useActionData<typeof action>()));
  const navigation = useNavigation();
  const revalidator = useRevalidator();
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState === "visible" && revalidator.state === "idle") revalidator.revalidate();
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [revalidator]);

  const [engineDetails, setEngineDetails] = useState(false);
  const legend = new Map(convergenceLegend.map((entry) => [entry.promptId, entry]));
  const { min: axisMin, max: axisMax } = leaderboard.axis;
  const leftRate = engine?.leftWinRate;
  const { unvoted } = leaderboard;
  const firstShown = (leaderboard.page - 1) * leaderboard.pageSize + 1;
  const lastShown = firstShown + leaderboard.rows.length - 1;
  const stepHref = (target: StepTarget) => (target === "status" ? "#study-status" : `/studies/${study.id}/${target}`);

  return (
    <section className="dashboard">
      <h1>{study.name}</h1>
      <StudyNav studyId={study.id} permissions={permissions} />
      <p className="muted task">{study.task}</p>
      <Form method="post" className="status-bar" aria-label="Study status" id="study-status">
        <span className={`badge status-${study.status}`}>{STATUS_TEXT[study.status]}</span>
        {study.status === "closed" && study.closedReason === "converged" ? (
          <span className="muted small">closed automatically when the stopping rule fired</span>
        ) : null}
        {statusActions.map(({ action, label }) => (
          <button
            key={action}
            type="submit"
            name="statusAction"
            value={action}
            className={action === "start" || action === "resume" ? "primary" : undefined}
            disabled={navigation.state !== "idle"}
          >
            {label}
          </button>
        ))}
        {statusRefusal.length > 0 ? (
          <span className="field-error" role="alert">
            {statusRefusal.join(" ")}
          </span>
        ) : null}
      </Form>

      {nextSteps.length > 0 ? (
        <section className="panel next-steps" aria-labelledby="next-steps-heading">
          <h2 id="next-steps-heading">What to do next</h2>
          <ol>
            {nextSteps.map((step) => (
              <li key={step.id} data-step={step.id}>
                {step.text} {step.target ? <Link to={stepHref(step.target)}>{step.action}</Link> : null}
              </li>
            ))}
          </ol>
        </section>
      ) : null}

      <dl className="counts">
        <div>
          <dt>Prompts</dt>
          <dd>{counts.prompts}</dd>
        </div>
        <div>
          <dt>Queries</dt>
          <dd>{counts.queries}</dd>
        </div>
        <div>
          <dt>Responses ready</dt>
          <dd>{counts.responses}</dd>
        </div>
        <div>
          <dt>Votes</dt>
          <dd>{counts.votes}</dd>
        </div>
        <div>
          <dt>Status</dt>
          <dd>
            {engine?.converged ? (
              <span className="badge success" title="The stopping rule fired: see docs/decisions/0005">
                Converged at {engine.convergedAtVotes} votes
              </span>
            ) : engine && engine.votesStillNeeded !== null ? (
              <span className="badge">≈ {engine.votesStillNeeded} more votes</span>
            ) : (
              <span className="badge">Collecting votes</span>
            )}
          </dd>
        </div>
        <div>
          <dt>Left-side win rate</dt>
          <dd title="Share of decisive votes won by the response shown on the left; 50% means no position bias">
            {leftRate === null || leftRate === undefined ? "–" : `${Math.round(leftRate * 100)}%`}
          </dd>
        </div>
      </dl>

      {recommended ? (
        <RecommendedPrompt name={recommended.label ?? `#${recommended.promptId}`} text={recommended.text} comparisons={recommended.comparisons} />
      ) : null}

      <h2>Leaderboard</h2>
      <p className="muted small">
        Bradley–Terry score from the raw votes with its 95% bootstrap interval; P(best) from the bootstrap. Utility is the{" "}
        {engine?.policy ?? "engine’s"} policy’s estimate, ± the exploration width it uses to choose pairs: a guide to what it will ask next, not a
        confidence interval (with noisy annotators it is overconfident; trust the BT interval).
        {engine ? ` Scores, utilities and P(best) count ${plural(engine.voteCount, "vote")} (skips excluded).` : null}
        {engine && unvoted > 0
          ? ` P(best) treats the ${plural(unvoted, "prompt")} with no votes yet as average, so it overstates the leader until every prompt has been compared.`
          : null}
        {catchingUp ? <strong> {catchingUp}</strong> : null}
      </p>
      <p className="muted small">
        A prompt needs {MIN_COMPARISONS_TO_RANK} comparisons before it is ranked by its score or shown a P(best); until then it is listed below the
        measured ones, marked &ldquo;too few to rank&rdquo;. Ties and both-bad votes are counted in their own columns, apart from wins and losses; the
        BT score and its interval count each of them as half a win to both prompts.{" "}
        <label className="inline-check">
          <input type="checkbox" checked={engineDetails} onChange={(event) => setEngineDetails(event.target.checked)} /> Show engine details (utility
          and exploration width)
        </label>
      </p>
      {recommendationNote ? <p className="small">{recommendationNote}</p> : null}
      <CrowdNote crowd={crowd} studyId={study.id} />
      <TableScroll label="Leaderboard, scrolls sideways">
        <table className="data-table leaderboard" aria-label="Leaderboard">
          <thead>
            <tr>
              <th>#</th>
              <th>Prompt</th>
              <th className="num">Comparisons</th>
              <th className="num">BT score</th>
              <th>
                95% interval{" "}
                <span className="muted small">
                  (axis {axisMin.toFixed(1)} to {axisMax.toFixed(1)})
                </span>
              </th>
              <th className="num">P(best)</th>
              <th className="num">Crowd score (rank)</th>
              {engineDetails ? <th className="num">Utility ± width</th> : null}
              <th className="num">Wins</th>
              <th className="num">Losses</th>
              <th className="num">Ties</th>
              <th className="num">Both bad</th>
            </tr>
          </thead>
          <tbody>
            {leaderboard.rows.map((entry) => (
              <tr key={entry.promptId} className={entry.recommended ? "recommended" : entry.rank !== null ? undefined : "unmeasured"}>
                <td>{entry.rank ?? <span className="muted small">too few to rank</span>}</td>
                <td>
                  {entry.recommended ? <span className="badge success">recommended</span> : null}
                  {entry.active ? null : (
                    <span className="badge" title="Disabled by an owner: no new pairs; its votes still count">
                      disabled
                    </span>
                  )}{" "}
                  <PromptText label={entry.label} text={entry.text} />
                </td>
                <td className="num">{entry.comparisons}</td>
                <td className="num">{entry.stats ? entry.stats.score.toFixed(2) : "–"}</td>
                <td className="interval-cell">
                  {entry.stats ? (
                    <>
                      <IntervalBar score={entry.stats.score} lower={entry.stats.lower} upper={entry.stats.upper} min={axisMin} max={axisMax} />
                      <span className="small">
                        {entry.stats.lower.toFixed(2)} to {entry.stats.upper.toFixed(2)}
                      </span>
                    </>
                  ) : (
                    "–"
                  )}
                </td>
                <td className="num">{entry.stats && entry.rank !== null ? `${Math.round(entry.stats.pBest * 100)}%` : "–"}</td>
                <td className="num">
                  {entry.crowdScore === null ? "–" : entry.crowdScore.toFixed(2)}
                  {entry.crowdRank === null ? null : <span className="muted small"> ({entry.crowdRank})</span>}
                </td>
                {engineDetails ? (
                  <td className="num">{entry.stats ? `${entry.stats.utility.toFixed(2)} ± ${entry.stats.uncertainty.toFixed(2)}` : "–"}</td>
                ) : null}
                <td className="num">{entry.wins}</td>
                <td className="num">{entry.losses}</td>
                <td className="num">{entry.ties}</td>
                <td className="num">{entry.bothBad}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableScroll>
      {leaderboard.pageCount > 1 ? (
        <nav className="pager small" aria-label="Leaderboard pages">
          <span>
            Prompts {firstShown.toLocaleString("en")}–{lastShown.toLocaleString("en")} of {leaderboard.total.toLocaleString("en")}
          </span>
          {leaderboard.page > 1 ? (
            <Link to={`?page=${leaderboard.page - 1}`} preventScrollReset>
              Previous {leaderboard.pageSize}
            </Link>
          ) : null}
          {leaderboard.page < leaderboard.pageCount ? (
            <Link to={`?page=${leaderboard.page + 1}`} preventScrollReset>
              Next {leaderboard.pageSize}
            </Link>
          ) : null}
        </nav>
      ) : null}

      <div className="panels">
        <div className="panel">
          <h2>Convergence</h2>
          {convergence.length > 0 ? (
            <>
              {/* Two drawings of one chart: the page shows the wide one, or the narrow one on a phone (styles.css). */}
              {(["wide", "narrow"] as const).map((layout) => (
                <ConvergenceChart
                  key={layout}
                  layout={layout}
                  points={convergence}
                  promptLegend={legend}
                  convergedAtVotes={engine?.convergedAtVotes ?? null}
                  joins={convergenceJoins}
                  minComparisons={minComparisonsForPBest}
                />
              ))}
              <p className="muted small convergence-rule">
                P(best): the chance that the recommended prompt is the best, from the bootstrap of the votes. It is drawn only once the recommended
                prompt has at least {minComparisonsForPBest} comparisons, the leaderboard&apos;s minimum to rank a prompt (shaded: too few); a gap
                means a new leader with fewer. Dashed markers: where a growth round&apos;s new prompts joined (+ how many).
              </p>
              {convergenceJoins.length > 0 ? (
                <ul className="small convergence-joins" aria-label="Where new prompts joined">
                  {convergenceJoins.map((join) => (
                    <li key={join.roundId}>
                      Round #{join.roundId} ({join.automatic ? "automatic" : "by an owner"}): {plural(join.added, "new prompt")} at{" "}
                      {join.voteCount.toLocaleString("en")} votes
                    </li>
                  ))}
                </ul>
              ) : null}
            </>
          ) : (
            <p className="muted">The chart appears after the first votes.</p>
          )}
        </div>
        <div className="panel">
          <h2>Win matrix</h2>
          <p className="muted small">
            Row prompt’s wins against the column prompt (the top {winMatrix.promptIds.length} of the ranking); under them, the pair’s ties and
            both-bad votes.
          </p>
          <p className="wm-legend small" aria-label="Win matrix legend">
            <span className="wm-win wm-4">row leads</span> <span className="wm-loss wm-4">column leads</span>{" "}
            <span className="wm-even wm-2">even</span> · paler cells rest on fewer decisive votes: <span className="wm-win wm-1">1</span>{" "}
            <span className="wm-win wm-2">2–4</span> <span className="wm-win wm-3">5–9</span> <span className="wm-win wm-4">10+</span> ·{" "}
            <span className="wm-draws-key">3 T</span> = 3 ties or both-bad votes, counted apart (not as half-wins)
          </p>
          <TableScroll label="Win matrix, scrolls sideways">
            <table className="win-matrix" aria-label="Win matrix">
              <thead>
                <tr>
                  <th />
                  {winMatrix.labels.map((label, j) => (
                    <th key={winMatrix.promptIds[j]} scope="col" title={label}>
                      {j + 1}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {winMatrix.labels.map((label, i) => (
                  <tr key={winMatrix.promptIds[i]}>
                    <th scope="row" title={label}>
                      {i + 1}. {label}
                    </th>
                    {winMatrix.wins[i]!.map((won, j) => {
                      const lost = winMatrix.wins[j]![i]!;
                      const drawn = winMatrix.draws[i]![j]!;
                      if (i === j) return <td key={j} className="diagonal" />;
                      return (
                        <td
                          key={j}
                          className={winCellClass(won, lost, drawn)}
                          title={`${label} won ${won}, lost ${lost}; ${drawn} ties or both bad against ${winMatrix.labels[j]}`}
                        >
                          {won + lost > 0 ? `${won}–${lost}` : null}
                          {drawn > 0 ? <span className="wm-draws">{drawn} T</span> : null}
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          </TableScroll>
        </div>
      </div>

      <h2>Annotators</h2>
      {votesPerAnnotator.length === 0 ? (
        <p className="muted">No votes yet.</p>
      ) : (
        <TableScroll label="Annotators, scrolls sideways">
          <table className="data-table compact">
            <thead>
              <tr>
                <th>Annotator</th>
                <th className="num">Votes</th>
                <th className="num">Skips</th>
                <th className="num">Mean time per vote</th>
              </tr>
            </thead>
            <tbody>
              {votesPerAnnotator.map((row) => (
                <tr key={row.annotatorId}>
                  <td>
                    {row.displayName}
                    {row.member ? (
                      <span className="badge" title="A study member voting as themselves: not blind to the prompts">
                        member
                      </span>
                    ) : null}
                    {row.removed ? (
                      <span className="badge danger" title="Removed from the study by an owner; their votes still count">
                        removed
                      </span>
                    ) : null}
                  </td>
                  <td className="num">{row.votes}</td>
                  <td className="num">{row.skips}</td>
                  <td className="num">{row.meanLatencyMs === null ? "–" : `${(row.meanLatencyMs / 1000).toFixed(1)} s`}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
    </section>
  );
}

/** A table wider than a phone scrolls sideways in its box: keyboard users must be able to focus it to scroll it (WCAG 2.1.1; axe scrollable-region-focusable). */
function TableScroll({ label, children }: { label: string; children: ReactNode }) {
  return (
    // eslint-disable-next-line jsx-a11y/no-noninteractive-tabindex -- a scrolling region, see above
    <div className="table-scroll" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}

// A prompt text longer than this is clamped to three lines and opens in full on a click.
const CLAMPED_TEXT_LENGTH = 160;

function PromptText({ label, text }: { label: string | null; text: string }) {
  const name = label ? <strong>{label}: </strong> : null;
  if (text.length <= CLAMPED_TEXT_LENGTH) {
    return (
      <>
        {name}
        <span className="prompt-text">{text}</span>
      </>
    );
  }
  return (
    <details className="prompt-expand">
      <summary>
        {name}
        <span className="prompt-text">{text}</span>
      </summary>
    </details>
  );
}

/** The engine's recommendation in full, with a button that copies it (the text stays selectable without script). */
/** What the crowd model (ADR 0041) says beside the ranking: as of which vote, its side term, and its leader when another. */
function CrowdNote({ crowd, studyId }: { crowd: ReturnType<typeof useLoaderData<typeof loader>>["crowd"]; studyId: number }) {
  if (!crowd) return null;
  return (
    <p className="muted small" data-testid="crowd-note">
      Crowd score: Bradley–Terry with each annotator&apos;s fitted reliability and the side term γ = {crowd.side.toFixed(2)} taken out (the left
      response wins {Math.round(crowd.leftShareAtEqualScores * 100)}% at equal scores), so careless and adversarial annotators weigh less; its own
      scale, ranked among the ranked prompts. Reliabilities as of vote {crowd.votes}
      {crowd.truncated ? " (the latest votes only)" : ""}
      {crowd.pending ? ", newer votes being fitted" : ""}; {crowd.flaggedAnnotators} annotator{crowd.flaggedAnnotators === 1 ? "" : "s"} flagged (
      <Link to={`/studies/${studyId}/quality`}>quality</Link>).
      {crowd.differentLeader ? (
        <strong>
          {" "}
          The crowd model puts {crowd.differentLeader.name} first
          {crowd.differentLeader.text ? ` (“${crowd.differentLeader.text.slice(0, 80)}${crowd.differentLeader.text.length > 80 ? "…" : ""}”)` : ""}.
        </strong>
      ) : null}
    </p>
  );
}

function RecommendedPrompt({ name, text, comparisons }: { name: string; text: string; comparisons: number }) {
  const [copied, setCopied] = useState<"copied" | "failed" | null>(null);
  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setCopied("copied");
    } catch {
      setCopied("failed");
    }
  }
  return (
    <section className="panel recommended-prompt" aria-labelledby="recommended-heading">
      <div className="title-row">
        <h2 id="recommended-heading">Recommended prompt: {name}</h2>
        <button type="button" className="small-button" onClick={copy}>
          Copy prompt
        </button>
      </div>
      {comparisons < MIN_COMPARISONS_TO_RANK ? (
        <p className="small provisional">
          <strong>Provisional:</strong> the engine recommends it on {plural(comparisons, "comparison")}, fewer than the {MIN_COMPARISONS_TO_RANK} a
          rank needs, so the leaderboard lists it with the under-measured prompts until more votes confirm it.
        </p>
      ) : null}
      {/* A long prompt scrolls in its box: focusable, so a keyboard can scroll it too (axe: scrollable-region-focusable). */}
      {/* eslint-disable-next-line jsx-a11y/no-noninteractive-tabindex -- a scrolling region, as TableScroll */}
      <pre className="prompt-full" tabIndex={0} role="region" aria-label="Full text of the recommended prompt">
        {text}
      </pre>
      <p className="muted small" role="status">
        {copied === "copied"
          ? "Copied the full prompt."
          : copied === "failed"
            ? "The browser refused the clipboard: select the text and copy it."
            : ""}
      </p>
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}
