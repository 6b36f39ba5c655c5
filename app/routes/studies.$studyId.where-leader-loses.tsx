import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData, useLocation } from "@remix-run/react";
import { requireStudyPermission } from "~/auth/require.server";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { Pager, PromptName, RecordCell } from "~/components/query-views";
import { StudyNav } from "~/components/study-nav";
import { readViewParams, whereLeaderLosesView } from "~/models/query-views.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `Where the leader loses · ${data?.study.name ?? "promptduel"}` }];

// Issue 18 §6: the leader's record per rival, per query tag and per query, and the queries it loses.
export async function loader({ request, params }: LoaderFunctionArgs) {
  const { study, permissions } = await requireStudyPermission(request, params.studyId, "study:read");
  return { study: { id: study.id, name: study.name }, permissions: [...permissions], ...whereLeaderLosesView(study.id, readViewParams(request)) };
}

/** The decisive win share with its 95% Wilson interval (app/models/leader-results.ts). */
function share(interval: { share: number; lower: number; upper: number } | null): string {
  if (!interval) return "–";
  const percent = (value: number) => Math.round(100 * value);
  return `${percent(interval.share)}% (${percent(interval.lower)}–${percent(interval.upper)}%)`;
}

function VerdictBadge({ verdict }: { verdict: string }) {
  const tone = verdict === "wins" ? "success" : verdict === "even" ? "" : verdict === "loses clearly" ? "danger" : "warning";
  return <span className={`badge ${tone}`}>{verdict}</span>;
}

export default function WhereLeaderLoses() {
  const view = useLoaderData<typeof loader>();
  const { search } = useLocation();
  const studyPath = `/studies/${view.study.id}`;
  if (!view.focus) {
    return (
      <section className="query-views">
        <h1>{view.study.name}</h1>
        <StudyNav studyId={view.study.id} permissions={view.permissions} />
        <h2>Where the leader loses</h2>
        <p className="muted">There is no leader yet: this page fills in once the statistics have run on the first votes.</p>
      </section>
    );
  }
  const focus = view.focus;
  const against = view.rival ? `#${view.rival.id}` : "its rivals";
  return (
    <section className="query-views">
      <h1>{view.study.name}</h1>
      <StudyNav studyId={view.study.id} permissions={view.permissions} />
      <h2>Where the leader loses</h2>
      <p>
        {focus.id === view.leaderId ? (view.leaderIsRecommendation ? "The engine’s recommended prompt " : "The raw-vote leader ") : "Prompt "}
        <strong>
          <PromptName prompt={focus} leaderId={view.leaderId} />
        </strong>{" "}
        against {against}: <RecordCell record={view.overall} /> over {view.queriesWithVotes.toLocaleString("en")} queries with votes (
        {share(view.overallInterval)} of decisive votes).{" "}
        {view.losingTotal > 0
          ? `It loses on ${view.losingTotal.toLocaleString("en")} of them.`
          : view.queriesWithVotes > 0
            ? "It loses on none of them."
            : null}
      </p>
      <p className="muted small">{focus.excerpt}</p>
      <Form method="get" className="inline-form" aria-label="Choose the prompts">
        <label>
          Prompt (id) <input name="focus" inputMode="numeric" defaultValue={focus.id} size={6} key={`f${focus.id}`} />
        </label>
        <label>
          Against (id, empty for every rival){" "}
          <input name="rival" inputMode="numeric" defaultValue={view.rival?.id ?? ""} size={6} key={`r${view.rival?.id}`} />
        </label>
        <button type="submit">Show</button>
      </Form>
      <p className="muted small">
        Counts are decisive votes won–lost (ties and “both bad” shown as drawn, skips left out). “Loses” means more decisive losses than wins; “loses
        clearly” means the 95% Wilson interval of its win share lies below one half: few votes rarely say that.
      </p>

      <h3>By tag</h3>
      {view.tags.length === 0 ? (
        <p className="muted">
          No tagged query has votes with this prompt yet. Tag queries on their pages or with a “tags” column in the queries file.
        </p>
      ) : (
        <div className="table-scroll">
          <table className="data-table" aria-label="Results by tag">
            <thead>
              <tr>
                <th scope="col">Tag</th>
                <th scope="col" className="num">
                  Queries with votes
                </th>
                <th scope="col" className="num">
                  Won–lost
                </th>
                <th scope="col" className="num">
                  Win share (95% interval)
                </th>
                <th scope="col">Verdict</th>
              </tr>
            </thead>
            <tbody>
              {view.tags.map((tag) => (
                <tr key={tag.tag}>
                  <td>
                    <Link className="tag" to={`${studyPath}/responses?tag=${encodeURIComponent(tag.tag)}`}>
                      {tag.tag}
                    </Link>
                  </td>
                  <td className="num">{tag.queriesWithVotes}</td>
                  <td className="num">
                    <RecordCell record={tag.record} />
                  </td>
                  <td className="num">{share(tag.interval)}</td>
                  <td>
                    <VerdictBadge verdict={tag.verdict} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {view.tagsTotal > view.tags.length ? (
            <p className="muted small">
              The first {view.tags.length} tags of {view.tagsTotal}, worst first.
            </p>
          ) : null}
        </div>
      )}

      <h3>Queries it loses</h3>
      {view.losing.length === 0 ? (
        <p className="muted">None: on no query has it lost more decisive votes than it won.</p>
      ) : (
        <div className="table-scroll">
          <table className="data-table" aria-label="Queries the prompt loses">
            <thead>
              <tr>
                <th scope="col">Query</th>
                <th scope="col">Tags</th>
                <th scope="col" className="num">
                  Won–lost
                </th>
                <th scope="col">Verdict</th>
              </tr>
            </thead>
            <tbody>
              {view.losing.map((row) => (
                <tr key={row.queryId} className={row.query?.active === false ? "disabled-row" : undefined}>
                  <td>
                    <Link to={`${studyPath}/queries/${row.queryId}?focus=${focus.id}${view.rival ? `&a=${focus.id}&b=${view.rival.id}` : ""}`}>
                      #{row.queryId} {row.query ? (row.query.text.length > 140 ? `${row.query.text.slice(0, 140)}…` : row.query.text) : ""}
                    </Link>
                    {row.query?.active === false ? <span className="badge warning">disabled</span> : null}
                  </td>
                  <td>
                    {row.tags.map((tag) => (
                      <span key={tag} className="tag">
                        {tag}
                      </span>
                    ))}
                  </td>
                  <td className="num">
                    <RecordCell record={row.record} />
                  </td>
                  <td>
                    <VerdictBadge verdict={row.verdict} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager page={view.page} pages={view.pages} search={search} label="Losing queries" />

      <h3>Against each rival</h3>
      <div className="table-scroll">
        <table className="data-table" aria-label="Results against each rival">
          <thead>
            <tr>
              <th scope="col">Rival</th>
              <th scope="col" className="num">
                Won–lost
              </th>
              <th scope="col" className="num">
                Win share (95% interval)
              </th>
              <th scope="col">Per query</th>
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
                <td className="num">{share(rival.interval)}</td>
                <td>
                  <Link to={`?focus=${focus.id}&rival=${rival.rivalId}`}>where it loses to #{rival.rivalId}</Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {view.rivalsTotal > view.rivals.length ? (
          <p className="muted small">
            The {view.rivals.length} rivals it met most of {view.rivalsTotal}.
          </p>
        ) : null}
      </div>
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}
