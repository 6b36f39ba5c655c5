import { json, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { getPromptRecords, getStudy, getStudyCounts } from "~/models/study.server";
import { StudyIdParamSchema } from "~/utils/forms";
import { invariantResponse } from "~/utils/invariant";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.study.name ?? "Study"} · promptduel` }];

export async function loader({ params }: LoaderFunctionArgs) {
  const parsed = StudyIdParamSchema.safeParse(params.studyId);
  invariantResponse(parsed.success, "Study not found");
  const study = getStudy(parsed.data);
  invariantResponse(study, "Study not found");
  return json({
    study: { id: study.id, name: study.name, task: study.task, model: study.model, status: study.status },
    counts: getStudyCounts(study.id),
    records: getPromptRecords(study.id),
  });
}

export default function StudyOverview() {
  const { study, counts, records } = useLoaderData<typeof loader>();
  return (
    <section>
      <div className="title-row">
        <h1>{study.name}</h1>
        <Link className="button primary" to={`/studies/${study.id}/annotate`}>
          Annotate this study
        </Link>
      </div>
      <p className="muted">{study.task}</p>
      <dl className="counts">
        <div>
          <dt>Prompts</dt>
          <dd>{counts.prompts}</dd>
        </div>
        <div>
          <dt>Queries</dt>
          <dd>{counts.queries}</dd>
        </div>
        <div>
          <dt>Responses ready</dt>
          <dd>{counts.responses}</dd>
        </div>
        <div>
          <dt>Votes</dt>
          <dd>{counts.votes}</dd>
        </div>
      </dl>
      <h2>Prompts</h2>
      <table className="data-table">
        <thead>
          <tr>
            <th>#</th>
            <th>Prompt</th>
            <th className="num">Wins</th>
            <th className="num">Losses</th>
            <th className="num">Ties</th>
            <th className="num">Both bad</th>
            <th className="num">Win rate</th>
          </tr>
        </thead>
        <tbody>
          {records.map((record) => {
            const decided = record.wins + record.losses;
            return (
              <tr key={record.promptId}>
                <td>{record.promptId}</td>
                <td>
                  {record.label ? <strong>{record.label}: </strong> : null}
                  <span className="prompt-text">{record.text}</span>
                </td>
                <td className="num">{record.wins}</td>
                <td className="num">{record.losses}</td>
                <td className="num">{record.ties}</td>
                <td className="num">{record.bothBad}</td>
                <td className="num">{decided > 0 ? `${Math.round((100 * record.wins) / decided)}%` : "–"}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}
