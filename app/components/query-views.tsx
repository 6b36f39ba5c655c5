import type { ReactNode } from "react";
import { Link } from "@remix-run/react";

// Pieces shared by the owner's per-query pages (responses matrix, one query, where the leader loses).

export interface PromptSummary {
  id: number;
  label: string | null;
  active: boolean;
  excerpt: string;
}

export interface DuelRecordView {
  wins: number;
  losses: number;
  draws: number;
}

/** A prompt's short name: its label and id, "(disabled)" when it left pair selection. */
export function PromptName({ prompt, leaderId }: { prompt: PromptSummary; leaderId?: number | null }) {
  return (
    <>
      {prompt.label ? `${prompt.label} ` : ""}#{prompt.id}
      {prompt.id === leaderId ? <span className="badge success">leader</span> : null}
      {prompt.active ? null : <span className="badge warning">disabled</span>}
    </>
  );
}

/** "W–L (D draws)" with the verdict the page's colour follows. */
export function RecordCell({ record }: { record: DuelRecordView }) {
  const verdict = record.wins > record.losses ? "wins" : record.wins < record.losses ? "loses" : "even";
  return (
    <span className={`record record-${verdict}`}>
      {record.wins}–{record.losses}
      {record.draws > 0 ? <span className="muted small"> ({record.draws} drawn)</span> : null}
      <span className="visually-hidden"> ({verdict})</span>
    </span>
  );
}

/** Previous / next page links keeping the other parameters of the URL. */
export function Pager({
  page,
  pages,
  search,
  label,
  param = "page",
}: {
  page: number;
  pages: number;
  search: string;
  label: string;
  param?: string;
}) {
  if (pages <= 1) return null;
  const to = (target: number) => {
    const params = new URLSearchParams(search);
    params.set(param, String(target));
    return `?${params}`;
  };
  return (
    <nav className="pager" aria-label={label}>
      {page > 1 ? <Link to={to(page - 1)}>← Previous</Link> : <span className="muted">← Previous</span>}
      <span>
        {label}: page {page} of {pages}
      </span>
      {page < pages ? <Link to={to(page + 1)}>Next →</Link> : <span className="muted">Next →</span>}
    </nav>
  );
}

/** A cost in dollars as an owner reads it; null when the model has no price. */
export function formatCost(costUsd: number | null): string {
  if (costUsd === null) return "cost unknown";
  if (costUsd === 0) return "$0";
  return costUsd < 0.01 ? `$${costUsd.toFixed(5)}` : `$${costUsd.toFixed(3)}`;
}

/** A response in a box that scrolls on its own, focusable so a keyboard can scroll it (axe: scrollable-region-focusable). */
export function ScrollingText({ label, children }: { label: string; children: ReactNode }) {
  return (
    // eslint-disable-next-line jsx-a11y/no-noninteractive-tabindex -- a scrolling region, as on the annotate page
    <div className="scrolling-text" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}
