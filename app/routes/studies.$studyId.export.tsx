import { data, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { requireStudyPermission } from "~/auth/require.server";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { constraintAttributes } from "~/components/field";
import { db } from "~/db.server";
import { describeIssues, ExportOptionsSchema } from "~/export/export-options.server";
import { getExportSummary } from "~/export/export-page.server";
import { countPreferencePairs } from "~/export/formats.server";
import { formConstraints } from "~/utils/form-constraints";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `Export · ${data?.study.name ?? "promptduel"}` }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const { study, permissions } = await requireStudyPermission(request, params.studyId, "study:export");
  const base = {
    study: { id: study.id, name: study.name },
    summary: getExportSummary(db(), study.id),
    canImport: permissions.has("study:edit"),
    constraints: formConstraints(ExportOptionsSchema),
  };
  // "Count the pairs" submits the form here (GET, count=1): the options are parsed as the download parses
  // them, the pairs counted as the download would write them, and the form shown again with those values.
  const search = new URL(request.url).searchParams;
  if (!search.has("count")) return data({ ...base, values: null, count: null, countError: null });
  const { count: _count, ...fields } = Object.fromEntries(search.entries());
  void _count;
  const parsed = ExportOptionsSchema.safeParse({ ...fields, format: fields.format || "trl" });
  if (!parsed.success) return data({ ...base, values: fields, count: null, countError: describeIssues(parsed.error) }, { status: 400 });
  return data({ ...base, values: fields, count: countPreferencePairs(db(), study.id, parsed.data), countError: null });
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
  const { study, summary, canImport, constraints, values, count, countError } = useLoaderData<typeof loader>();
  const value = (name: string, fallback: string) => values?.[name] ?? fallback;
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
              <select name="annotator" defaultValue={value("annotator", "")}>
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
              <input type="date" name="from" aria-describedby="vote-days" defaultValue={value("from", "")} />
            </label>
            <label>
              To (UTC day, inclusive)
              <input type="date" name="to" aria-describedby="vote-days" defaultValue={value("to", "")} />
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
              <select name="duplicates" defaultValue={value("duplicates", "keep")}>
                <option value="keep">Keep every vote</option>
                <option value="majority">One pair by majority (an even split is left out)</option>
              </select>
            </label>
            <label>
              System message (TRL conversational and OpenAI)
              <select name="system" defaultValue={value("system", "none")}>
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
              <select name="selection" defaultValue={value("selection", "mark")} aria-describedby="selection-hint">
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
          <fieldset className="export-quality">
            <legend>Quality</legend>
            <div className="field-row">
              <label>
                Quality fields
                <select name="quality" defaultValue={value("quality", "include")} aria-describedby="quality-hint">
                  <option value="include">Add a quality object to each pair</option>
                  <option value="omit">None (the exact format)</option>
                </select>
              </label>
              <label className="checkbox">
                <input type="checkbox" name="exclude-flagged" defaultChecked={values?.["exclude-flagged"] !== undefined} /> Leave out flagged votes
              </label>
              <label>
                Least agreement with others (0 to 1)
                <input
                  name="min-agreement"
                  {...constraintAttributes(constraints["min-agreement"], false)}
                  inputMode="decimal"
                  placeholder="e.g. 0.7"
                  defaultValue={value("min-agreement", "")}
                />
              </label>
              <label>
                Least reliability
                <input name="min-reliability" inputMode="decimal" placeholder="e.g. 0.5" defaultValue={value("min-reliability", "")} />
              </label>
            </div>
            <p id="quality-hint" className="hint">
              The <code>quality</code> object gives the votes behind the pair, each annotator&apos;s kind (human, or an LLM judge), agreement with
              others, consistency on audits and gold accuracy where known, and flags: <code>excluded</code>, <code>too_fast</code>,{" "}
              <code>side_bias</code>, <code>unreliable</code> (as on the <Link to={`/studies/${study.id}/quality`}>Annotator quality</Link> page),{" "}
              <code>audit</code> and <code>gold</code>, and each annotator&apos;s fitted reliability. Leaving out flagged votes drops all of these.
              The least agreement keeps the votes of annotators whose labels matched the others&apos; on shared items at least that share of the time;
              an annotator who shares no item has no agreement and is left out. The least reliability keeps the votes of annotators whose fitted
              reliability (1 votes as the crowd does, 0 at random, below 0 prefers the worse response; as of the quality page&apos;s latest fit) is at
              least that; an annotator not in the fit is left out.
            </p>
            <div className="download-buttons">
              <button type="submit" formAction={`/studies/${study.id}/export`} name="count" value="1">
                Count the pairs
              </button>
            </div>
            {countError ? (
              <p className="notice warning" role="alert">
                {countError}
              </p>
            ) : count !== null ? (
              <p className="notice" role="status" data-testid="pair-count">
                These options give {count} preference pair{count === 1 ? "" : "s"}.
              </p>
            ) : null}
          </fieldset>
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
