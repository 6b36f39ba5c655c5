import { redirect, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { getActor, signInRedirectPath } from "~/auth/require.server";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { listJoinedStudies, listStudiesOf } from "~/models/study.server";

export const meta: MetaFunction = () => [{ title: "Studies · promptduel" }];

// The home page: an account's studies, or the studies an annotator joined (names and annotate links only).
export async function loader({ request }: LoaderFunctionArgs) {
  const actor = await getActor(request);
  if (actor.kind === "annotator") return { kind: "annotator" as const, studies: listJoinedStudies(actor.annotator.id) };
  if (actor.kind === "anonymous") throw redirect(signInRedirectPath(request));
  if (actor.kind === "token") throw new Response("An API token only reaches its own study", { status: 403 });
  const showArchived = new URL(request.url).searchParams.get("archived") === "1";
  const all = listStudiesOf(actor.user.id);
  return {
    kind: "user" as const,
    studies: showArchived ? all : all.filter((study) => study.status !== "archived"),
    archivedCount: all.filter((study) => study.status === "archived").length,
    showArchived,
  };
}

export default function StudiesIndex() {
  const page = useLoaderData<typeof loader>();
  if (page.kind === "annotator") {
    return (
      <section className="narrow">
        <h1>Your studies</h1>
        {page.studies.length === 0 ? (
          <p>You are not annotating any study. Open the invite link the study&apos;s owner gave you.</p>
        ) : (
          <ul className="plain-list">
            {page.studies.map((study) => (
              <li key={study.id}>
                <Link to={`/studies/${study.id}/annotate`}>Annotate {study.name}</Link>
              </li>
            ))}
          </ul>
        )}
      </section>
    );
  }
  const { archivedCount, showArchived } = page;
  return (
    <section>
      <div className="title-row">
        <h1>Studies</h1>
        <Link className="button primary" to="/studies/new">
          New study
        </Link>
      </div>
      {page.studies.length === 0 ? (
        <p>No studies yet.</p>
      ) : (
        <table className="data-table">
          <thead>
            <tr>
              <th>Study</th>
              <th>Your role</th>
              <th>Status</th>
              <th className="num">Prompts</th>
              <th className="num">Votes</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {page.studies.map((study) => (
              <tr key={study.id}>
                <td>
                  <Link to={`/studies/${study.id}`}>{study.name}</Link>
                </td>
                <td>{study.role}</td>
                <td>
                  <span className={`badge status-${study.status}`}>{study.status}</span>
                </td>
                <td className="num">{study.promptCount}</td>
                <td className="num">{study.voteCount}</td>
                <td>{study.role === "viewer" ? null : <Link to={`/studies/${study.id}/annotate`}>Annotate</Link>}</td>
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
