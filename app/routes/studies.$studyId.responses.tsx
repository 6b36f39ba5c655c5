import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData, useLocation } from "@remix-run/react";
import { requireStudyPermission } from "~/auth/require.server";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { formatCost, Pager, PromptName } from "~/components/query-views";
import { StudyNav } from "~/components/study-nav";
import { MAX_PROMPT_COLUMNS, readViewParams, responsesMatrixView } from "~/models/query-views.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `Responses · ${data?.study.name ?? "promptduel"}` }];

// What each prompt answered to each query (issue 15 §6): a page of queries × a few prompt columns.
export async function loader({ request, params }: LoaderFunctionArgs) {
  const { study, permissions } = await requireStudyPermission(request, params.studyId, "study:read");
  const viewParams = readViewParams(request);
  return {
    study: { id: study.id, name: study.name },
    permissions: [...permissions],
    maxColumns: MAX_PROMPT_COLUMNS,
    ...responsesMatrixView(study.id, study, viewParams),
  };
}

export default function ResponsesMatrix() {
  const view = useLoaderData<typeof loader>();
  const { search } = useLocation();
  const cellOf = new Map(view.cells.map((cell) => [`${cell.queryId}:${cell.promptId}`, cell]));
  const columnIds = view.columns.map((prompt) => prompt.id).join(", ");
  return (
    <section className="query-views">
      <h1>{view.study.name}</h1>
      <StudyNav studyId={view.study.id} permissions={view.permissions} />
      <h2>Responses by query</h2>
      <p className="muted small">
        What each prompt answered to each query, under the study’s current generation settings: {view.queryTotal.toLocaleString("en")}{" "}
        {view.tag ? `queries tagged “${view.tag}”` : "queries"} × {view.promptCount.toLocaleString("en")} prompts, {view.columns.length} prompt
        columns at a time. Open a query for its full responses and a side-by-side diff of two of them.
      </p>
      <Form method="get" className="inline-form matrix-filters" aria-label="Choose queries and prompt columns">
        <label>
          Tag{" "}
          <select name="tag" defaultValue={view.tag ?? ""}>
            <option value="">all queries</option>
            {view.tagCounts.map(({ tag, queries }) => (
              <option key={tag} value={tag}>
                {tag} ({queries})
              </option>
            ))}
          </select>
        </label>
        <label>
          Prompt columns (ids, at most {view.maxColumns}){" "}
          <input name="prompts" defaultValue={view.columnsChosen ? columnIds : ""} placeholder={columnIds} size={24} />
        </label>
        <button type="submit">Show</button>
        {view.columnsChosen || view.tag ? <Link to=".">Reset</Link> : null}
      </Form>
      {view.columnsChosen ? null : (
        <Pager page={view.columnPage} pages={view.columnPages} search={search} label="Prompt columns, in leaderboard order" param="cols" />
      )}
      {view.queries.length === 0 ? (
        <p className="muted">{view.tag ? `No query is tagged “${view.tag}”.` : "This study has no queries yet."}</p>
      ) : (
        <div className="table-scroll">
          <table className="data-table response-matrix" aria-label="Responses by query and prompt">
            <thead>
              <tr>
                <th scope="col">Query</th>
                {view.columns.map((prompt) => (
                  <th key={prompt.id} scope="col" title={prompt.excerpt}>
                    <PromptName prompt={prompt} leaderId={view.leaderId} />
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {view.queries.map((query) => (
                <tr key={query.id} className={query.active ? undefined : "disabled-row"}>
                  <th scope="row">
                    <Link to={`/studies/${view.study.id}/queries/${query.id}`}>
                      #{query.id} {query.text.length > 140 ? `${query.text.slice(0, 140)}…` : query.text}
                    </Link>
                    {query.active ? null : <span className="badge warning">disabled</span>}
                    {query.tags.length > 0 ? (
                      <span className="tag-list">
                        {query.tags.map((tag) => (
                          <span key={tag} className="tag">
                            {tag}
                          </span>
                        ))}
                      </span>
                    ) : null}
                  </th>
                  {view.columns.map((prompt) => {
                    const cell = cellOf.get(`${query.id}:${prompt.id}`);
                    return (
                      <td key={prompt.id} className={`response-cell status-${cell?.status ?? "missing"}`}>
                        {!cell ? (
                          <span className="muted small">no response</span>
                        ) : cell.status === "ready" ? (
                          <>
                            <span className="cell-excerpt">
                              {cell.excerpt}
                              {cell.chars > (cell.excerpt?.length ?? 0) ? "…" : ""}
                            </span>
                            <span className="cell-meta small muted">
                              {cell.completionTokens !== null
                                ? `${cell.promptTokens ?? "?"} + ${cell.completionTokens} tokens`
                                : `${cell.chars} chars`}{" "}
                              · {formatCost(cell.costUsd)}
                            </span>
                          </>
                        ) : cell.status === "pending" ? (
                          <span className="badge">generating</span>
                        ) : (
                          <>
                            <span className="badge danger">failed</span> <span className="small">{cell.error}</span>
                          </>
                        )}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager page={view.page} pages={view.pages} search={search} label="Queries" />
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}
