import { type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { listStudies } from "~/models/study.server";

export const meta: MetaFunction = () => [{ title: "Studies · promptduel" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const showArchived = new URL(request.url).searchParams.get("archived") === "1";
  const all = listStudies();
  return {
    studies: showArchived ? all : all.filter((study) => study.status !== "archived"),
    archivedCount: all.filter((study) => study.status === "archived").length,
    showArchived,
  };
}

export default function StudiesIndex() {
  const { studies, archivedCount, showArchived } = useLoaderData<typeof loader>();
  return (
    <section>
      <div className="title-row">
        <h1>Studies</h1>
        <Link className="button primary" to="/studies/new">
          New study
        </Link>
      </div>
      {studies.length === 0 ? (
        <p>No studies yet.</p>
      ) : (
        <table className="data-table">
          <thead>
            <tr>
              <th>Study</th>
              <th>Status</th>
              <th className="num">Prompts</th>
              <th className="num">Votes</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {studies.map((study) => (
              <tr key={study.id}>
                <td>
                  <Link to={`/studies/${study.id}`}>{study.name}</Link>
                </td>
                <td>
                  <span className={`badge status-${study.status}`}>{study.status}</span>
                </td>
                <td className="num">{study.promptCount}</td>
                <td className="num">{study.voteCount}</td>
                <td>
                  <Link to={`/studies/${study.id}/annotate`}>Annotate</Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {archivedCount > 0 ? (
        <p className="muted small">
          {showArchived ? <Link to="/">Hide archived studies</Link> : <Link to="/?archived=1">Show {archivedCount} archived</Link>}
        </p>
      ) : null}
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}
