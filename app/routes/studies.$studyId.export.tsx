import { type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { requireStudyPermission } from "~/auth/require.server";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { db } from "~/db.server";
import { getExportSummary } from "~/export/export-page.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `Export · ${data?.study.name ?? "promptduel"}` }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const { study, permissions } = await requireStudyPermission(request, params.studyId, "study:export");
  return { study: { id: study.id, name: study.name }, summary: getExportSummary(db(), study.id), canImport: permissions.has("study:edit") };
}

const PREFERENCE_BUTTONS = [
  { format: "trl", label: "TRL standard", hint: '{"prompt", "chosen", "rejected"} strings' },
  { format: "trl-conversational", label: "TRL conversational", hint: "message lists, optional system message" },
  { format: "openai", label: "OpenAI preference", hint: "input.messages, preferred_output, non_preferred_output" },
] as const;

const RAW_BUTTONS = [
  { format: "csv", label: "Raw log (CSV)", hint: "for spreadsheets; formula-like cells start with '" },
  { format: "jsonl", label: "Raw log (JSONL)", hint: "lossless; can be imported into another study" },
] as const;

export default function ExportStudy() {
  const { study, summary, canImport } = useLoaderData<typeof loader>();
  const otherVotes = summary.votes - summary.decisiveVotes;
  return (
    <section className="export-page">
      <div className="title-row">
        <h1>Export · {study.name}</h1>
        <Link to={`/studies/${study.id}`}>Back to the study</Link>
      </div>
      <p className="muted">
        {summary.votes} votes: {summary.decisiveVotes} decisive (these become preference pairs) and {otherVotes} tie, both-bad or skip votes (raw log
        only).
      </p>
      {/* A plain GET form: the browser downloads the file and the page stays as it is. */}
      <form method="get" action={`/studies/${study.id}/export/download`} className="export-form">
        <fieldset>
          <legend>Which votes</legend>
          <div className="field-row">
            <label>
              Annotator
              <select name="annotator" defaultValue="">
                <option value="">All annotators</option>
                {summary.annotators.map((annotator) => (
                  <option key={annotator.id} value={annotator.id}>
                    {annotator.displayName} ({annotator.votes} votes{annotator.removed ? ", removed from the study" : ""})
                  </option>
                ))}
              </select>
            </label>
            <label>
              From (UTC day)
              <input type="date" name="from" aria-describedby="vote-days" />
            </label>
            <label>
              To (UTC day, inclusive)
              <input type="date" name="to" aria-describedby="vote-days" />
            </label>
          </div>
          <p id="vote-days" className="hint">
            {summary.firstVoteDay
              ? `Votes were cast from ${summary.firstVoteDay} to ${summary.lastVoteDay} (UTC); any range is accepted, an empty one exports nothing.`
              : "No votes yet."}
          </p>
        </fieldset>
        <fieldset>
          <legend>Preference pairs</legend>
          <p className="muted">Ties, both-bad votes and skips never enter these files.</p>
          <div className="field-row">
            <label>
              Same query and prompt pair voted more than once
              <select name="duplicates" defaultValue="keep">
                <option value="keep">Keep every vote</option>
                <option value="majority">One pair by majority (an even split is left out)</option>
              </select>
            </label>
            <label>
              System message (TRL conversational and OpenAI)
              <select name="system" defaultValue="none">
                <option value="none">None</option>
                <option value="recommended" disabled={summary.recommendedPrompt === null}>
                  The study&apos;s recommended prompt{summary.recommendedPrompt === null ? " (none yet)" : ""}
                </option>
                <option value="chosen-prompt">The prompt that produced the chosen response</option>
              </select>
            </label>
          </div>
          <p className="hint">
            Caveat of &ldquo;the prompt that produced the chosen response&rdquo;: the rejected response was generated under the other prompt, not
            under the system message written into its example, so the pair is not a clean comparison under one system prompt. Use it to train towards
            the chosen prompt&apos;s behaviour; use &ldquo;None&rdquo; or &ldquo;recommended&rdquo; for a like-for-like pair.
          </p>
          <div className="field-row">
            <label>
              Disabled or retired prompts and disabled queries
              <select name="selection" defaultValue="mark" aria-describedby="selection-hint">
                <option value="mark">Keep their pairs, marked</option>
                <option value="in-selection">Leave their pairs out</option>
              </select>
            </label>
          </div>
          <p id="selection-hint" className="hint">
            A pair whose prompt was disabled by an owner or retired by the retirement rule, or whose query was disabled, carries an{" "}
            <code>out_of_selection</code> field saying which; the other lines are exactly the format. Leave them out for a file a strict uploader
            accepts.
          </p>
          <div className="download-buttons">
            {PREFERENCE_BUTTONS.map((button) => (
              <button key={button.format} type="submit" name="format" value={button.format} className="primary">
                {button.label}
                <span className="button-hint">{button.hint}</span>
              </button>
            ))}
          </div>
        </fieldset>
        <fieldset>
          <legend>Raw log: every vote</legend>
          <p className="muted">
            Study, annotator, query, both prompts and responses, the side each was shown on, choice, comment, timestamps, latency, policy and round.
          </p>
          <div className="download-buttons">
            {RAW_BUTTONS.map((button) => (
              <button key={button.format} type="submit" name="format" value={button.format}>
                {button.label}
                <span className="button-hint">{button.hint}</span>
              </button>
            ))}
          </div>
        </fieldset>
      </form>
      {canImport ? (
        <p>
          <Link to={`/studies/${study.id}/import-log`}>Import a raw JSONL log into this study</Link>
        </p>
      ) : null}
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}
