import { type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useLocation, useNavigation } from "@remix-run/react";
import { requireStudyPermission } from "~/auth/require.server";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { fieldAttributes } from "~/components/field";
import { formatCost, Pager, PromptName, RecordCell, ScrollingText } from "~/components/query-views";
import { StudyNav } from "~/components/study-nav";
import { QueryTagsFormSchema } from "~/models/query-tags";
import { queryView, readViewParams } from "~/models/query-views.server";
import { setQueryTagsAs } from "~/services/studies.server";
import { formConstraints } from "~/utils/form-constraints";
import { errorsOf } from "~/utils/form-errors";
import { invalidForm } from "~/utils/form-errors.server";
import { decimalId } from "~/utils/strict-fields";
import type { DiffSegment } from "~/utils/word-diff";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `Query #${data?.query.id ?? ""} · ${data?.study.name ?? "promptduel"}` }];

const QueryIdParam = decimalId("Query not found");

function notFound(): Response {
  return new Response("Query not found", { status: 404, headers: { "Content-Type": "text/plain; charset=utf-8" } });
}

// One query (issue 15 §6, issue 18 §6): every prompt's response to it (a page at a time), the leader's
// record against each rival on it, its tags, and a side-by-side word diff of two responses.
export async function loader({ request, params }: LoaderFunctionArgs) {
  const { study, permissions } = await requireStudyPermission(request, params.studyId, "study:read");
  const queryId = QueryIdParam.safeParse(params.queryId);
  if (!queryId.success) throw notFound();
  const view = queryView(study.id, study, queryId.data, readViewParams(request));
  if (!view) throw notFound();
  return {
    study: { id: study.id, name: study.name },
    permissions: [...permissions],
    canEdit: permissions.has("study:edit"),
    tagsForm: formConstraints(QueryTagsFormSchema),
    ...view,
  };
}

/** Sets the query's tags (owners and editors). */
export async function action({ request, params }: ActionFunctionArgs) {
  const access = await requireStudyPermission(request, params.studyId, "study:edit");
  const queryId = QueryIdParam.safeParse(params.queryId);
  if (!queryId.success) throw notFound();
  const parsed = QueryTagsFormSchema.safeParse({ ...Object.fromEntries(await request.formData()), queryId: String(queryId.data) });
  if (!parsed.success) return invalidForm(parsed.error);
  if (!setQueryTagsAs(access, parsed.data)) throw notFound();
  const tags = parsed.data.tags;
  return { ok: true as const, notice: tags.length > 0 ? `Tags saved: ${tags.join(", ")}.` : "Tags removed." };
}

function DiffColumn({ segments, label }: { segments: DiffSegment[]; label: string }) {
  return (
    <ScrollingText label={label}>
      {segments.map((segment, k) =>
        segment.kind === "same" ? (
          <span key={k}>{segment.text}</span>
        ) : segment.kind === "removed" ? (
          <del key={k}>{segment.text}</del>
        ) : (
          <ins key={k}>{segment.text}</ins>
        ),
      )}
    </ScrollingText>
  );
}

export default function QueryPage() {
  const view = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const tagErrors = errorsOf(actionData).fieldErrors;
  const notice = actionData?.ok ? actionData.notice : null;
  const navigation = useNavigation();
  const { search } = useLocation();
  const base = `/studies/${view.study.id}/queries/${view.query.id}`;
  const withParams = (changes: Record<string, string>) => {
    const params = new URLSearchParams(search);
    for (const [key, value] of Object.entries(changes)) params.set(key, value);
    return `${base}?${params}`;
  };
  const diff = view.diff;
  return (
    <section className="query-views">
      <h1>{view.study.name}</h1>
      <StudyNav studyId={view.study.id} permissions={view.permissions} />
      <p className="small">
        <Link to={`/studies/${view.study.id}/responses`}>← Responses by query</Link> ·{" "}
        <Link to={`/studies/${view.study.id}/where-leader-loses`}>Where the leader loses</Link>
      </p>
      <h2>
        Query #{view.query.id} {view.query.active ? null : <span className="badge warning">disabled</span>}
      </h2>
      <blockquote className="query-text">{view.query.text}</blockquote>
      {view.query.notes ? <p className="small">Notes: {view.query.notes}</p> : null}

      <div className="tag-editor">
        <span>Tags: </span>
        {view.query.tags.length > 0 ? (
          <span className="tag-list">
            {view.query.tags.map((tag) => (
              <Link key={tag} className="tag" to={`/studies/${view.study.id}/responses?tag=${encodeURIComponent(tag)}`}>
                {tag}
              </Link>
            ))}
          </span>
        ) : (
          <span className="muted">none</span>
        )}
        {view.canEdit ? (
          <Form method="post" className="inline-form" aria-label="Edit tags">
            <input type="hidden" name="intent" value="set-query-tags" />
            <label>
              Tags (comma-separated){" "}
              <input
                {...fieldAttributes("tags", { constraints: view.tagsForm, errors: tagErrors })}
                defaultValue={view.query.tags.join(", ")}
                key={view.query.tags.join(",")}
                size={40}
              />
            </label>
            <button type="submit" disabled={navigation.state !== "idle"}>
              Save tags
            </button>
            {tagErrors.tags ? (
              <span id="tags-error" className="field-error" role="alert">
                {tagErrors.tags.join(" ")}
              </span>
            ) : null}
            {notice ? (
              <span className="notice" role="status">
                {notice}
              </span>
            ) : null}
          </Form>
        ) : null}
      </div>

      <h3>How the leader fared on this query</h3>
      {view.focusId === null ? (
        <p className="muted">No leader yet: the statistics run after the first votes.</p>
      ) : view.rivals.length === 0 ? (
        <p className="muted">No votes on this query involve prompt #{view.focusId} yet.</p>
      ) : (
        <div className="table-scroll">
          <table className="data-table" aria-label="Leader against each rival on this query">
            <thead>
              <tr>
                <th scope="col">Rival</th>
                <th scope="col" className="num">
                  #{view.focusId} won–lost
                </th>
                <th scope="col">Compare</th>
              </tr>
            </thead>
            <tbody>
              {view.rivals.map((rival) => (
                <tr key={rival.rivalId}>
                  <td>
                    <PromptName prompt={rival.prompt} leaderId={view.leaderId} />
                  </td>
                  <td className="num">
                    <RecordCell record={rival.record} />
                  </td>
                  <td>
                    <Link to={withParams({ a: String(view.focusId), b: String(rival.rivalId) })}>diff with #{view.focusId}</Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {view.rivalsTotal > view.rivals.length ? (
            <p className="muted small">
              The {view.rivals.length} rivals with most votes on this query of {view.rivalsTotal}.
            </p>
          ) : null}
        </div>
      )}

      <h3 id="diff">Side by side</h3>
      <Form method="get" className="inline-form" aria-label="Choose two prompts to compare">
        <label>
          Prompt A (id) <input name="a" inputMode="numeric" defaultValue={diff?.a.id ?? ""} size={6} key={`a${diff?.a.id}`} />
        </label>
        <label>
          Prompt B (id) <input name="b" inputMode="numeric" defaultValue={diff?.b.id ?? ""} size={6} key={`b${diff?.b.id}`} />
        </label>
        <button type="submit">Compare</button>
      </Form>
      {diff ? (
        <>
          <p className="muted small">
            Words only in A are struck through, words only in B are underlined
            {diff.segments ? `: ${diff.segments.removedWords} removed, ${diff.segments.addedWords} added` : ""}.
          </p>
          <div className="diff">
            <div>
              <h4>
                A: <PromptName prompt={diff.a} leaderId={view.leaderId} />
              </h4>
              {diff.segments ? (
                <DiffColumn segments={diff.segments.left} label={`Response of prompt #${diff.a.id}`} />
              ) : (
                <ScrollingText label={`Response of prompt #${diff.a.id}`}>
                  {diff.leftText ?? <span className="muted">No ready response from this prompt.</span>}
                </ScrollingText>
              )}
            </div>
            <div>
              <h4>
                B: <PromptName prompt={diff.b} leaderId={view.leaderId} />
              </h4>
              {diff.segments ? (
                <DiffColumn segments={diff.segments.right} label={`Response of prompt #${diff.b.id}`} />
              ) : (
                <ScrollingText label={`Response of prompt #${diff.b.id}`}>
                  {diff.rightText ?? <span className="muted">No ready response from this prompt.</span>}
                </ScrollingText>
              )}
            </div>
          </div>
          {!diff.segments && !diff.leftMissing && !diff.rightMissing ? (
            <p className="muted small">The two responses are too different to align word by word; both are shown as they are.</p>
          ) : null}
          {view.permissions.includes("study:manage") ? (
            // A gold item is marked on the Annotator quality page's action (ADR 0034), which then shows the study's gold items.
            <Form method="post" action={`/studies/${view.study.id}/quality`} className="inline-form" aria-label="Mark this pair as a gold item">
              <input type="hidden" name="intent" value="mark-gold" />
              <input type="hidden" name="queryId" value={view.query.id} />
              <input type="hidden" name="promptAId" value={diff.a.id} />
              <input type="hidden" name="promptBId" value={diff.b.id} />
              <span className="muted small">Gold item (a known answer, mixed into the work at the study&apos;s gold rate):</span>
              <button type="submit" name="preferred" value="a">
                A is the better response
              </button>
              <button type="submit" name="preferred" value="b">
                B is the better response
              </button>
            </Form>
          ) : null}
        </>
      ) : (
        <p className="muted">The study needs two prompts to compare.</p>
      )}

      <h3>Every prompt’s response</h3>
      <p className="muted small">In leaderboard order, {view.promptCount.toLocaleString("en")} prompts.</p>
      <ol className="query-responses">
        {view.responses.map(({ prompt, response }) => (
          <li key={prompt.id} className={prompt.active ? undefined : "disabled-item"}>
            <h4>
              <PromptName prompt={prompt} leaderId={view.leaderId} />{" "}
              <span className="small">
                <Link to={`${withParams({ a: String(prompt.id) })}#diff`}>as A</Link> ·{" "}
                <Link to={`${withParams({ b: String(prompt.id) })}#diff`}>as B</Link>
              </span>
            </h4>
            {!response ? (
              <p className="muted small">No response under the current settings.</p>
            ) : response.status === "ready" ? (
              <>
                <ScrollingText label={`Response of prompt #${prompt.id}`}>{response.content}</ScrollingText>
                <p className="muted small">
                  {response.completionTokens !== null
                    ? `${response.promptTokens ?? "?"} prompt + ${response.completionTokens} completion tokens`
                    : "tokens unknown"}{" "}
                  · {formatCost(response.costUsd)}
                  {response.latencyMs !== null ? ` · ${(response.latencyMs / 1000).toFixed(1)} s` : ""}
                </p>
              </>
            ) : response.status === "pending" ? (
              <span className="badge">generating</span>
            ) : (
              <p>
                <span className="badge danger">failed</span> <span className="small">{response.error}</span>
              </p>
            )}
          </li>
        ))}
      </ol>
      <Pager page={view.page} pages={view.pages} search={search} label="Prompts" />
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}
