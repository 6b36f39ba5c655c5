import type { AnnotatorReliabilityReport } from "~/models/annotator-reliability.server";

const percent = (value: number) => `${Math.round(value * 100)}%`;

/** The engine's weight of an annotator's votes: "1", "0.12", or "−0.64 (counted reversed)". */
function engineWeight(scale: number): string {
  if (scale === 1) return "1";
  const text = Math.abs(scale).toFixed(2);
  return scale < 0 ? `−${text} (counted reversed)` : text;
}

/**
 * The fitted reliability of each annotator and the crowd's side term (docs/decisions/0037), for the quality page:
 * `names` maps annotator ids to display names.
 */
export function AnnotatorReliability({
  report,
  pending,
  names,
  flagShare,
}: {
  report: AnnotatorReliabilityReport | null;
  /** A fit with the newest votes is under way (off the request, ADR 0041). */
  pending: boolean;
  names: Record<number, string>;
  flagShare: number;
}) {
  if (!report)
    return (
      <p className="muted" data-testid="reliability-as-of">
        {pending ? "The reliabilities are being fitted: reload the page in a moment." : "No decided votes yet: nothing to fit."}
      </p>
    );
  const sideLower = report.side - 1.96 * report.sideStdErr;
  const sideUpper = report.side + 1.96 * report.sideStdErr;
  return (
    <>
      <p className="muted" data-testid="reliability-as-of">
        Reliabilities as of vote {report.votes}
        {report.truncated ? " (the latest votes only)" : ""}, fitted {new Date(report.computedAt).toISOString().slice(0, 19).replace("T", " ")} UTC
        {pending ? "; newer votes are being fitted." : "."}
      </p>
      <dl className="quality-summary">
        <dt>Side term γ</dt>
        <dd data-testid="side-term">
          {report.side.toFixed(2)}{" "}
          <span className="muted">
            ({sideLower.toFixed(2)} to {sideUpper.toFixed(2)})
          </span>
          : between two prompts of equal score the left response wins {percent(report.leftShareAtEqualScores)} of the time
          {report.engineSideTerm !== 0 ? <span className="badge warning">the crowd leans {report.side > 0 ? "left" : "right"}</span> : null}
        </dd>
        <dt>Sides in the engine</dt>
        <dd data-testid="engine-side-term">
          {report.engineSideTerm !== 0
            ? `γ = ${report.engineSideTerm.toFixed(2)}: a vote for the ${report.side > 0 ? "left" : "right"} response counts less, one against the lean more`
            : "read as equal (the interval of γ includes 0)"}
        </dd>
      </dl>
      <div className="table-scroll">
        <table className="data-table compact">
          <caption className="visually-hidden">Fitted reliability of each annotator</caption>
          <thead>
            <tr>
              <th scope="col">Annotator</th>
              <th scope="col" className="num">
                Decided votes
              </th>
              <th scope="col">Reliability (95% upper bound)</th>
              <th scope="col" className="num">
                Weight in the engine
              </th>
            </tr>
          </thead>
          <tbody>
            {report.annotators.map((row) => (
              <tr key={row.annotatorId}>
                <th scope="row">{names[row.annotatorId] ?? `#${row.annotatorId}`}</th>
                <td className="num">{row.votes}</td>
                <td>
                  {row.reliability.toFixed(2)} <span className="muted">({row.upper.toFixed(2)})</span>{" "}
                  {row.reversed ? (
                    <span className="badge danger">prefers the worse response</span>
                  ) : row.flagged ? (
                    <span className="badge warning">unreliable</span>
                  ) : null}
                </td>
                <td className="num" data-testid="engine-scale">
                  {engineWeight(row.engineScale)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className="muted">
        Fitted jointly with the prompt scores over {report.truncated ? `the latest ${report.votes}` : report.votes} decided votes: P(left wins) =
        sigmoid(reliability × (left score − right score) + γ). Reliability 1 votes as the crowd does, 0 clicks at random, below 0 prefers the worse
        response. Flagged when that bound is below {percent(flagShare)} of the median annotator&apos;s, or below 0; the bound carries the uncertainty
        of the prompt scores too. Excluded annotators and audits are not in the fit. γ is the pull of the left side, taken out of the scores.
        {report.converged ? null : " (The fit stopped before converging: figures are approximate.)"}
      </p>
      <p className="muted" data-testid="engine-weight-note">
        Weight in the engine: how much each vote of the annotator counts when the engine picks pairs and ranks prompts. Every annotator counts 1
        unless flagged; a flagged annotator counts their reliability relative to the median annotator&apos;s (at most 1), and one below 0 is counted
        reversed. The engine applies the weights at its next refit after this fit.
      </p>
    </>
  );
}
