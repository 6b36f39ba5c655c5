// Server-rendered SVG charts for the owner dashboard: no chart library, readable in a screenshot.

import { convergenceSegments, niceTicks } from "~/utils/chart-scale";

const PALETTE = ["#3b5bdb", "#e8590c", "#2f9e44", "#c2255c", "#7048e8", "#1098ad", "#f08c00", "#5c940d", "#d6336c", "#495057"];

export function colorFor(index: number): string {
  return PALETTE[index % PALETTE.length]!;
}

interface ConvergenceChartProps {
  points: { voteCount: number; recommendedPromptId: number | null; pBest: number | null; recommendedComparisons: number | null }[];
  /** Display label and colour index per prompt id. */
  promptLegend: Map<number, { label: string; colorIndex: number }>;
  convergedAtVotes: number | null;
  /** Where growth rounds' prompts joined (manual or automatic). */
  joins: { roundId: number; voteCount: number; added: number; automatic: boolean }[];
  /** The recommended prompt's comparisons before its P(best) is drawn (the leaderboard's minimum to rank). */
  minComparisons: number;
  /** "narrow": a 360-unit-wide drawing for phones (the page shows one of the two by its width), with fewer ticks. */
  layout?: "wide" | "narrow";
}

const MARKED_SNAPSHOTS = 60;
const Y_TICKS = [0, 0.25, 0.5, 0.75, 1];

/**
 * P(best) of the recommended prompt against votes (line), drawn only where that prompt had the leaderboard's minimum
 * of comparisons (convergenceSegments); a labelled vote axis with nice ticks (niceTicks) and a P(best) axis; a
 * marker where each growth round's prompts joined; and a strip underneath coloured by which prompt was recommended
 * at that point, so a change of leader is visible at a glance. Colours come from the page's variables (dark mode).
 */
export function ConvergenceChart({ points, promptLegend, convergedAtVotes, joins, minComparisons, layout = "wide" }: ConvergenceChartProps) {
  const narrow = layout === "narrow";
  const width = narrow ? 360 : 720;
  const margin = { top: 22, right: narrow ? 16 : 20, bottom: 92, left: narrow ? 46 : 52 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = narrow ? 140 : 148;
  const legendColumns = narrow ? 2 : 4;
  const legendWidth = narrow ? 150 : 170;
  const dataMax = Math.max(1, ...points.map((p) => p.voteCount), ...joins.map((join) => join.voteCount));
  const xTicks = niceTicks(0, dataMax, narrow ? 4 : 6, { integer: true });
  const maxVotes = xTicks.at(-1)!;
  const x = (votes: number) => margin.left + (votes / maxVotes) * plotWidth;
  const y = (p: number) => margin.top + (1 - p) * plotHeight;
  const plotBottom = margin.top + plotHeight;
  const { segments, firstMeasuredVotes } = convergenceSegments(points, minComparisons);
  const measuredCount = segments.reduce((sum, segment) => sum + segment.length, 0);
  const lines = segments.map((segment) =>
    segment.map((p, i) => `${i === 0 ? "M" : "L"}${x(p.voteCount).toFixed(1)},${y(p.pBest).toFixed(1)}`).join(" "),
  );
  const lastPoint = points.at(-1);
  // Until the first measured point (or the last snapshot, when none is), P(best) is not shown: a shaded band says so.
  const unmeasuredUntil = firstMeasuredVotes ?? lastPoint?.voteCount ?? 0;
  const xTitleY = plotBottom + 34;
  const stripY = plotBottom + 58;
  const usedPrompts = [...new Set(points.map((p) => p.recommendedPromptId).filter((id): id is number => id !== null))];
  const latestMeasured = segments.at(-1)?.at(-1);
  const summary =
    `Convergence chart: P(best) of the recommended prompt against votes, 0 to ${maxVotes}. ` +
    (latestMeasured
      ? `Shown from ${firstMeasuredVotes} votes, once the recommended prompt has ${minComparisons} comparisons; latest ${latestMeasured.pBest.toFixed(2)} at ${latestMeasured.voteCount} votes.`
      : `Not shown yet: the recommended prompt has fewer than ${minComparisons} comparisons.`) +
    (joins.length > 0 ? ` New prompts joined at ${joins.map((join) => `${join.voteCount}`).join(", ")} votes.` : "");
  const height = stripY + 8 + 18 * Math.ceil(usedPrompts.length / legendColumns);
  const titleX = narrow ? 10 : 14;
  // A marker's "+K" is written only when it clears the previous one's (the list under the chart names every round).
  const labelled = new Set<number>();
  let lastLabelX = -Infinity;
  for (const join of joins) {
    if (x(join.voteCount) - lastLabelX < 24) continue;
    labelled.add(join.roundId);
    lastLabelX = x(join.voteCount);
  }
  return (
    <svg
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label="Convergence chart"
      aria-describedby={`convergence-summary-${layout}`}
      className={`chart convergence-chart chart-${layout}`}
    >
      <desc id={`convergence-summary-${layout}`}>{summary}</desc>
      {unmeasuredUntil > 0 ? (
        <g className="chart-unmeasured" data-testid="unmeasured-band">
          <rect x={margin.left} y={margin.top} width={Math.max(1, x(unmeasuredUntil) - margin.left)} height={plotHeight} />
          {x(unmeasuredUntil) - margin.left >= 120 ? (
            <text x={margin.left + 6} y={margin.top + plotHeight / 2} fontSize="11" className="chart-text">
              too few comparisons
            </text>
          ) : null}
        </g>
      ) : null}
      {Y_TICKS.map((tick) => (
        <g key={tick} className="y-tick">
          <line x1={margin.left} x2={margin.left + plotWidth} y1={y(tick)} y2={y(tick)} className="chart-grid" />
          <line x1={margin.left - 4} x2={margin.left} y1={y(tick)} y2={y(tick)} className="chart-axis" />
          <text x={margin.left - 7} y={y(tick) + 4} textAnchor="end" fontSize="11" className="chart-text">
            {tick.toFixed(2)}
          </text>
        </g>
      ))}
      <text
        x={titleX}
        y={margin.top + plotHeight / 2}
        fontSize="11"
        className="chart-text"
        transform={`rotate(-90 ${titleX} ${margin.top + plotHeight / 2})`}
        textAnchor="middle"
      >
        P(best)
      </text>
      <line x1={margin.left} x2={margin.left} y1={margin.top} y2={plotBottom} className="chart-axis" />
      <line x1={margin.left} x2={margin.left + plotWidth} y1={plotBottom} y2={plotBottom} className="chart-axis" />
      {xTicks.map((tick) => (
        <g key={tick} className="x-tick">
          <line x1={x(tick)} x2={x(tick)} y1={plotBottom} y2={plotBottom + 4} className="chart-axis" />
          <text
            x={x(tick)}
            y={plotBottom + 8}
            fontSize="11"
            className="chart-text"
            textAnchor={tick === 0 ? "start" : tick === maxVotes ? "end" : "middle"}
            dominantBaseline="hanging"
          >
            {tick.toLocaleString("en")}
          </text>
        </g>
      ))}
      <text x={margin.left + plotWidth / 2} y={xTitleY} fontSize="11" className="chart-text" textAnchor="middle" dominantBaseline="hanging">
        votes
      </text>
      {convergedAtVotes !== null ? (
        <g className="chart-converged">
          <line x1={x(convergedAtVotes)} x2={x(convergedAtVotes)} y1={margin.top} y2={plotBottom} strokeDasharray="4 3" />
          <text x={x(convergedAtVotes) + 4} y={margin.top + 12} fontSize="11">
            converged
          </text>
        </g>
      ) : null}
      {joins.map((join) => (
        <g key={join.roundId} className="chart-join" data-testid="join-marker" data-votes={join.voteCount}>
          <title>{`Round #${join.roundId} (${join.automatic ? "automatic" : "by an owner"}): ${join.added} new ${join.added === 1 ? "prompt" : "prompts"} joined at ${join.voteCount} votes`}</title>
          <line x1={x(join.voteCount)} x2={x(join.voteCount)} y1={margin.top} y2={plotBottom} strokeDasharray="2 3" />
          <path
            d={`M${x(join.voteCount) - 5},${margin.top - 10} L${x(join.voteCount) + 5},${margin.top - 10} L${x(join.voteCount)},${margin.top - 2} Z`}
          />
          {labelled.has(join.roundId) ? (
            <text
              x={x(join.voteCount) > margin.left + 0.9 * plotWidth ? x(join.voteCount) - 7 : x(join.voteCount) + 7}
              y={margin.top - 4}
              fontSize="10"
              textAnchor={x(join.voteCount) > margin.left + 0.9 * plotWidth ? "end" : "start"}
            >
              +{join.added}
            </text>
          ) : null}
        </g>
      ))}
      {lines.map((d, i) => (
        <path key={i} d={d} fill="none" className="chart-line" strokeWidth="2" />
      ))}
      {/* Snapshots are taken when the engine has time, so they can be far apart: mark them while few,
          so a straight segment is not read as a steady trend. */}
      {measuredCount <= MARKED_SNAPSHOTS
        ? segments.flat().map((p, i) => <circle key={`${p.voteCount}-${i}`} cx={x(p.voteCount)} cy={y(p.pBest)} r={3} className="chart-dot" />)
        : null}
      {points.map((p, i) => {
        const next = points[i + 1];
        const end = next ? x(next.voteCount) : x(p.voteCount) + 2;
        const legend = p.recommendedPromptId !== null ? promptLegend.get(p.recommendedPromptId) : undefined;
        return (
          <rect
            key={`${p.voteCount}-${i}`}
            x={x(p.voteCount)}
            y={stripY - 10}
            width={Math.max(1, end - x(p.voteCount))}
            height={10}
            fill={legend ? colorFor(legend.colorIndex) : "#adb5bd"}
          />
        );
      })}
      <text x={margin.left - 6} y={stripY - 1} fontSize="10" className="chart-text" textAnchor="end">
        leader
      </text>
      {usedPrompts.map((id, i) => {
        const legend = promptLegend.get(id);
        const lx = margin.left + (i % legendColumns) * legendWidth;
        const ly = stripY + 18 + Math.floor(i / legendColumns) * 18;
        return (
          <g key={id}>
            <rect x={lx} y={ly - 9} width={10} height={10} fill={legend ? colorFor(legend.colorIndex) : "#adb5bd"} />
            <text x={lx + 14} y={ly} fontSize="11" className="chart-ink-text">
              {legend?.label ?? `#${id}`}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

/** A Bradley–Terry score with its 95% interval on a shared axis (one row of a forest plot). */
export function IntervalBar({ score, lower, upper, min, max }: { score: number; lower: number; upper: number; min: number; max: number }) {
  const width = 140;
  const span = max - min || 1;
  const at = (value: number) => 4 + ((value - min) / span) * (width - 8);
  return (
    <svg viewBox={`0 0 ${width} 16`} width={width} height={16} aria-hidden="true">
      <line x1={at(lower)} x2={at(upper)} y1={8} y2={8} stroke="#868e96" strokeWidth="2" />
      <circle cx={at(score)} cy={8} r={4} fill="#3b5bdb" />
    </svg>
  );
}

/**
 * The win-matrix cell's class: its hue says who leads on decisive votes (the row prompt or the column
 * one, or even), its strength how much evidence there is (1, 2-4, 5-9, 10+ votes), so a 1-0 cell is
 * pale and a 21-1 cell strong. A pair with only ties or both-bad votes is even, by their count.
 * Classes rather than inline colours: a strict style-src allows no style attribute.
 */
export function winCellClass(won: number, lost: number, drawn = 0): string {
  const decisive = won + lost;
  const total = decisive > 0 ? decisive : drawn;
  if (total === 0) return "wm-empty";
  const direction = won > lost ? "wm-win" : won < lost ? "wm-loss" : "wm-even";
  const level = total >= 10 ? 4 : total >= 5 ? 3 : total >= 2 ? 2 : 1;
  return `${direction} wm-${level}`;
}
