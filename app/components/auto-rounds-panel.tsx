import { Form } from "@remix-run/react";
import { Field } from "~/components/field";
import type { FormConstraints } from "~/utils/form-constraints";

// The setup page's "Automatic rounds" section (issue 17 §3, ADR 0033): the owner's settings and the log of every round
// (what triggered it, what it added and retired) and why the loop stopped.

export interface AutoRoundsSettingsView {
  autoRoundEvery: number | null;
  autoRoundCount: number;
  autoRoundParents: number;
  autoRoundStableVotes: number;
  autoRoundMaxRounds: number;
  autoRoundMaxPrompts: number | null;
  autoRoundMaxCostUsd: number | null;
  autoRoundsStoppedAt: Date | string | null;
  autoRoundsStopReason: string | null;
}

export interface AutoRoundLogRow {
  id: number;
  thresholdVotes: number;
  decisiveVotes: number;
  voteCount: number;
  leaderPromptId: number | null;
  leaderSinceVotes: number;
  growthRoundId: number | null;
  count: number;
  parents: number;
  estimatedCostUsd: number | null;
  retired: number[];
  note: string | null;
  state: string | null;
  result: { added: number[]; duplicates: number; failures: number } | null;
  joinedAtVotes: number | null;
}

const ids = (list: readonly number[]) => (list.length === 0 ? "none" : list.map((id) => `#${id}`).join(", "));

function loopState(settings: AutoRoundsSettingsView, log: readonly AutoRoundLogRow[]): string {
  if (settings.autoRoundEvery === null) return "Off.";
  if (settings.autoRoundsStoppedAt !== null) return `Stopped: ${settings.autoRoundsStopReason ?? "no reason recorded"}. Save again to resume.`;
  const last = log.at(-1);
  const next = (last?.thresholdVotes ?? 0) + settings.autoRoundEvery;
  return `On: ${log.length} of ${settings.autoRoundMaxRounds} rounds so far; the next one from ${next} decisive votes, once the leader is stable.`;
}

function added(row: AutoRoundLogRow): string {
  if (row.state === null) return "—";
  if (row.state === "queued" || row.state === "running") return `${row.state}…`;
  if (!row.result) return row.state;
  const extra = [
    row.result.duplicates > 0 ? `${row.result.duplicates} duplicate` : "",
    row.result.failures > 0 ? `${row.result.failures} failed` : "",
  ]
    .filter(Boolean)
    .join(", ");
  const joined = row.joinedAtVotes === null ? "" : ` (joined at ${row.joinedAtVotes} votes)`;
  return `${ids(row.result.added)}${joined}${extra ? `; ${extra}` : ""}`;
}

export function AutoRoundsPanel({
  settings,
  log,
  providerConfigured,
  constraints,
  errors,
  submitting,
}: {
  settings: AutoRoundsSettingsView;
  log: readonly AutoRoundLogRow[];
  providerConfigured: boolean;
  /** formConstraints(AutoRoundsFormSchema) */
  constraints: FormConstraints;
  errors: Record<string, string[]>;
  submitting: boolean;
}) {
  const form = { constraints, errors };
  const range = (name: string) => `${constraints[name]?.min}–${constraints[name]?.max}`;
  return (
    <section className="auto-rounds" aria-labelledby="auto-rounds-heading">
      <Form method="post" className="setup-form" noValidate aria-label="Automatic rounds">
        <fieldset>
          <legend id="auto-rounds-heading">Automatic rounds</legend>
          <p className="hint">
            Off while <em>Every</em> is empty. Every N decisive votes (a side chosen), once the engine&apos;s recommended prompt has led for the last
            S votes and has at least 10 comparisons, the pool grows by K prompts from the top m, as <em>Grow the pool</em> does. A round never needs a
            cost confirmation: it is made smaller to stay under the threshold, and the loop stops if even one prompt would pass it. The retirement
            rule above runs after every engine update. The loop stops at its budget of rounds, prompts or estimated cost, or when the stopping rule
            fires and the last round found no better prompt; until then the study is not closed on convergence.
          </p>
          <p className="auto-rounds-state" role="status">
            {loopState(settings, log)}
          </p>
          <Field
            name="autoRoundEvery"
            label={`Every (decisive votes, at least ${constraints.autoRoundEvery?.min}; empty: off)`}
            {...form}
            input={{ defaultValue: settings.autoRoundEvery ?? "" }}
          />
          <Field
            name="autoRoundCount"
            label={`New prompts per round (${range("autoRoundCount")})`}
            {...form}
            input={{ defaultValue: settings.autoRoundCount }}
          />
          <Field
            name="autoRoundParents"
            label={`From the top (${range("autoRoundParents")} leaders)`}
            {...form}
            input={{ defaultValue: settings.autoRoundParents }}
          />
          <Field name="autoRoundStableVotes" label="Leader stable for (votes)" {...form} input={{ defaultValue: settings.autoRoundStableVotes }} />
          <Field name="autoRoundMaxRounds" label="Budget: rounds" {...form} input={{ defaultValue: settings.autoRoundMaxRounds }} />
          <Field
            name="autoRoundMaxPrompts"
            label="Budget: prompts (empty: none)"
            {...form}
            input={{ defaultValue: settings.autoRoundMaxPrompts ?? "" }}
          />
          <Field
            name="autoRoundMaxCostUsd"
            label="Budget: estimated cost in USD (empty: none)"
            {...form}
            input={{ defaultValue: settings.autoRoundMaxCostUsd ?? "" }}
          />
          <button type="submit" name="intent" value="auto-rounds" disabled={submitting}>
            Save automatic rounds
          </button>
          {providerConfigured ? null : <p className="hint">Turning them on needs an LLM provider.</p>}
        </fieldset>
      </Form>
      {log.length > 0 ? (
        // eslint-disable-next-line jsx-a11y/no-noninteractive-tabindex -- a scrolling region must be reachable by keyboard
        <div className="table-scroll" role="region" aria-label="Automatic rounds log, scrolls sideways" tabIndex={0}>
          <table className="data-table auto-rounds-log">
            <caption>Automatic rounds</caption>
            <thead>
              <tr>
                <th scope="col">Growth round</th>
                <th scope="col">Triggered</th>
                <th scope="col">Asked</th>
                <th scope="col">Added</th>
                <th scope="col">Retired since the previous round</th>
                <th scope="col">Estimated cost</th>
              </tr>
            </thead>
            <tbody>
              {log.map((row) => (
                <tr key={row.id}>
                  <td>{row.growthRoundId === null ? "—" : `#${row.growthRoundId}`}</td>
                  <td>
                    {row.decisiveVotes} decisive votes (threshold {row.thresholdVotes}); leader{" "}
                    {row.leaderPromptId === null ? "(deleted)" : `#${row.leaderPromptId}`} since {row.leaderSinceVotes} votes
                  </td>
                  <td>
                    {row.count} from the top {row.parents}
                    {row.note ? <span className="muted small"> ({row.note})</span> : null}
                  </td>
                  <td>{added(row)}</td>
                  <td>{ids(row.retired)}</td>
                  <td>{row.estimatedCostUsd === null ? "unknown" : `$${row.estimatedCostUsd.toFixed(4)}`}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
