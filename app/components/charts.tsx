// Server-rendered SVG charts for the owner dashboard: no chart library, readable in a screenshot.

const PALETTE = ["#3b5bdb", "#e8590c", "#2f9e44", "#c2255c", "#7048e8", "#1098ad", "#f08c00", "#5c940d", "#d6336c", "#495057"];

export function colorFor(index: number): string {
  return PALETTE[index % PALETTE.length]!;
}

interface ConvergenceChartProps {
  points: { voteCount: number; recommendedPromptId: number | null; pBest: number | null }[];
  /** Display label and colour index per prompt id. */
  promptLegend: Map<number, { label: string; colorIndex: number }>;
  convergedAtVotes: number | null;
}

const MARKED_SNAPSHOTS = 60;

/**
 * P(best) of the recommended prompt against votes (line), with a strip underneath coloured by which
 * prompt was recommended at that point, so a change of leader is visible at a glance.
 */
export function ConvergenceChart({ points, promptLegend, convergedAtVotes }: ConvergenceChartProps) {
  const width = 720;
  const height = 240;
  const margin = { top: 12, right: 16, bottom: 70, left: 44 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const maxVotes = Math.max(1, ...points.map((p) => p.voteCount));
  const x = (votes: number) => margin.left + (votes / maxVotes) * plotWidth;
  const y = (p: number) => margin.top + (1 - p) * plotHeight;
  const measured = points.filter((p): p is typeof p & { pBest: number } => p.pBest !== null);
  const line = measured.map((p, i) => `${i === 0 ? "M" : "L"}${x(p.voteCount).toFixed(1)},${y(p.pBest).toFixed(1)}`).join(" ");
  // Below the x-axis labels (which hang from plot bottom + 8).
  const stripY = margin.top + plotHeight + 36;
  const usedPrompts = [...new Set(points.map((p) => p.recommendedPromptId).filter((id): id is number => id !== null))];
  return (
    <svg viewBox={`0 0 ${width} ${height + 18 * Math.ceil(usedPrompts.length / 4)}`} role="img" aria-label="Convergence chart" className="chart">
      {[0, 0.25, 0.5, 0.75, 1].map((tick) => (
        <g key={tick}>
          <line x1={margin.left} x2={margin.left + plotWidth} y1={y(tick)} y2={y(tick)} stroke="#e9ecef" />
          <text x={margin.left - 6} y={y(tick) + 4} textAnchor="end" fontSize="11" fill="#5c6275">
            {tick.toFixed(2)}
          </text>
        </g>
      ))}
      <text
        x={12}
        y={margin.top + plotHeight / 2}
        fontSize="11"
        fill="#5c6275"
        transform={`rotate(-90 12 ${margin.top + plotHeight / 2})`}
        textAnchor="middle"
      >
        P(best)
      </text>
      {convergedAtVotes !== null ? (
        <g>
          <line
            x1={x(convergedAtVotes)}
            x2={x(convergedAtVotes)}
            y1={margin.top}
            y2={margin.top + plotHeight}
            stroke="#2f9e44"
            strokeDasharray="4 3"
          />
          <text x={x(convergedAtVotes) + 4} y={margin.top + 12} fontSize="11" fill="#2f9e44">
            converged
          </text>
        </g>
      ) : null}
      <path d={line} fill="none" stroke="#1d2030" strokeWidth="2" />
      {/* Snapshots are taken when the engine has time, so they can be far apart: mark them while few,
          so a straight segment is not read as a steady trend. */}
      {measured.length <= MARKED_SNAPSHOTS
        ? measured.map((p, i) => <circle key={`${p.voteCount}-${i}`} cx={x(p.voteCount)} cy={y(p.pBest)} r={3} fill="#1d2030" />)
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
            fill={legend ? colorFor(legend.colorIndex) : "#dee2e6"}
          />
        );
      })}
      <text x={margin.left} y={margin.top + plotHeight + 8} fontSize="11" fill="#5c6275" dominantBaseline="hanging">
        0
      </text>
      <text x={margin.left + plotWidth} y={margin.top + plotHeight + 8} fontSize="11" fill="#5c6275" textAnchor="end" dominantBaseline="hanging">
        {maxVotes} votes
      </text>
      <text x={margin.left - 6} y={stripY - 1} fontSize="10" fill="#5c6275" textAnchor="end">
        leader
      </text>
      {usedPrompts.map((id, i) => {
        const legend = promptLegend.get(id);
        const lx = margin.left + (i % 4) * 170;
        const ly = stripY + 18 + Math.floor(i / 4) * 18;
        return (
          <g key={id}>
            <rect x={lx} y={ly - 9} width={10} height={10} fill={legend ? colorFor(legend.colorIndex) : "#dee2e6"} />
            <text x={lx + 14} y={ly} fontSize="11" fill="#1d2030">
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
