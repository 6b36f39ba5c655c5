import { type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Link, useLoaderData, useRevalidator } from "@remix-run/react";
import { useEffect } from "react";
import { ConvergenceChart, IntervalBar, colorFor, winShareColor } from "~/components/charts";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { getStudyEngine } from "~/engine/engine.server";
import { getDashboard } from "~/models/dashboard.server";
import { getStudyCounts, requireStudy } from "~/models/study.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.study.name ?? "Study"} · promptduel` }];

export async function loader({ params }: LoaderFunctionArgs) {
  const study = requireStudy(params.studyId);
  const dashboard = getDashboard(study.id);
  // After a restart the engine starts on first use; the owner looking counts as use.
  if (!dashboard.engine?.upToDate) getStudyEngine(study.id);
  return {
    study: { id: study.id, name: study.name, task: study.task, model: study.model, status: study.status },
    counts: getStudyCounts(study.id),
    ...dashboard,
  };
}

const REFRESH_MS = 5_000;

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? "" : "s"}`;

export default function StudyDashboard() {
  const { study, counts, leaderboard, convergence, engine, winMatrix, votesPerAnnotator, recommendationNote } = useLoaderData<typeof loader>();
  const revalidator = useRevalidator();
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState === "visible" && revalidator.state === "idle") revalidator.revalidate();
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [revalidator]);

  const legend = new Map(leaderboard.map((entry, i) => [entry.promptId, { label: entry.label ?? `#${entry.promptId}`, colorIndex: i }]));
  const scored = leaderboard.filter((entry) => entry.stats);
  const axisMin = Math.min(0, ...scored.map((entry) => entry.stats!.lower));
  const axisMax = Math.max(0, ...scored.map((entry) => entry.stats!.upper));
  const leftRate = engine?.leftWinRate;
  const unvoted = leaderboard.filter((entry) => entry.wins + entry.losses + entry.ties + entry.bothBad === 0).length;

  return (
    <section className="dashboard">
      <div className="title-row">
        <h1>{study.name}</h1>
        <div className="actions">
          <Link className="button primary" to={`/studies/${study.id}/annotate`}>
            Annotate this study
          </Link>
          <Link className="button" to={`/studies/${study.id}/setup`}>
            Setup &amp; generation
          </Link>
          <Link className="button" to={`/studies/${study.id}/export`}>
            Export
          </Link>
        </div>
      </div>
      <p className="muted task">{study.task}</p>

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

      <h2>Leaderboard</h2>
      <p className="muted small">
        Bradley–Terry score from the raw votes with its 95% bootstrap interval; P(best) from the bootstrap. Utility is the{" "}
        {engine?.policy ?? "engine’s"} policy’s estimate, ± the exploration width it uses to choose pairs: a guide to what it will ask next, not a
        confidence interval (with noisy annotators it is overconfident; trust the BT interval).
        {engine ? ` Scores, utilities and P(best) count ${plural(engine.voteCount, "vote")} (skips excluded).` : null}
        {engine && unvoted > 0
          ? ` P(best) treats the ${plural(unvoted, "prompt")} with no votes yet as average, so it overstates the leader until every prompt has been compared.`
          : null}
        {engine && engine.decisiveVotes > engine.voteCount ? (
          <strong>
            {" "}
            {plural(engine.decisiveVotes - engine.voteCount, "newer vote")} will be counted within seconds; W / L / T already include them.
          </strong>
        ) : null}
      </p>
      {recommendationNote ? <p className="small">{recommendationNote}</p> : null}
      <div className="table-scroll">
        <table className="data-table leaderboard">
          <thead>
            <tr>
              <th>#</th>
              <th>Prompt</th>
              <th className="num">BT score</th>
              <th>95% interval</th>
              <th className="num">P(best)</th>
              <th className="num">Utility</th>
              <th className="num">W / L / T</th>
              <th className="num">Both bad</th>
            </tr>
          </thead>
          <tbody>
            {leaderboard.map((entry, rank) => (
              <tr key={entry.promptId} className={entry.recommended ? "recommended" : undefined}>
                <td>
                  <span className="swatch" style={{ background: colorFor(rank) }} />
                  {rank + 1}
                </td>
                <td>
                  {entry.recommended ? <span className="badge success">recommended</span> : null}{" "}
                  {entry.label ? <strong>{entry.label}: </strong> : null}
                  <span className="prompt-text">{entry.text}</span>
                </td>
                <td className="num">{entry.stats ? entry.stats.score.toFixed(2) : "–"}</td>
                <td>
                  {entry.stats ? (
                    <span title={`[${entry.stats.lower.toFixed(2)}, ${entry.stats.upper.toFixed(2)}]`}>
                      <IntervalBar score={entry.stats.score} lower={entry.stats.lower} upper={entry.stats.upper} min={axisMin} max={axisMax} />
                    </span>
                  ) : (
                    "–"
                  )}
                </td>
                <td className="num">{entry.stats ? `${Math.round(entry.stats.pBest * 100)}%` : "–"}</td>
                <td className="num">{entry.stats ? `${entry.stats.utility.toFixed(2)} ± ${entry.stats.uncertainty.toFixed(2)}` : "–"}</td>
                <td className="num">
                  {entry.wins} / {entry.losses} / {entry.ties}
                </td>
                <td className="num">{entry.bothBad}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <div className="panels">
        <div className="panel">
          <h2>Convergence</h2>
          {convergence.length > 0 ? (
            <ConvergenceChart points={convergence} promptLegend={legend} convergedAtVotes={engine?.convergedAtVotes ?? null} />
          ) : (
            <p className="muted">The chart appears after the first votes.</p>
          )}
        </div>
        <div className="panel">
          <h2>Win matrix</h2>
          <p className="muted small">Row prompt’s wins against column prompt (top {winMatrix.promptIds.length} of the leaderboard).</p>
          <div className="table-scroll">
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
                      const total = won + lost;
                      return (
                        <td key={j} style={{ background: i === j ? "#f1f3f5" : winShareColor(total > 0 ? won / total : null) }}>
                          {i === j || total === 0 ? "" : `${won}–${lost}`}
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      </div>

      <h2>Annotators</h2>
      {votesPerAnnotator.length === 0 ? (
        <p className="muted">No votes yet.</p>
      ) : (
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
                <td>{row.displayName}</td>
                <td className="num">{row.votes}</td>
                <td className="num">{row.skips}</td>
                <td className="num">{row.meanLatencyMs === null ? "–" : `${(row.meanLatencyMs / 1000).toFixed(1)} s`}</td>
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
