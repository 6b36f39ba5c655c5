import { type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { requireStudyPermission } from "~/auth/require.server";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { when } from "~/components/secret-link";
import { StudyNav } from "~/components/study-nav";
import { AUDIT_PAGE_SIZE, listAudit } from "~/models/audit.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `Audit log · ${data?.study.name ?? "promptduel"}` }];

const BeforeSchema = z.coerce.number().int().positive().nullable().catch(null);

// Owner-side actions on the study, newest first: who (account or API token), what, when.
export async function loader({ request, params }: LoaderFunctionArgs) {
  const { study, permissions } = await requireStudyPermission(request, params.studyId, "study:manage");
  const before = BeforeSchema.parse(new URL(request.url).searchParams.get("before"));
  const entries = listAudit(study.id, before);
  return {
    study: { id: study.id, name: study.name },
    permissions: [...permissions],
    entries,
    older: entries.length === AUDIT_PAGE_SIZE ? entries[entries.length - 1]!.id : null,
  };
}

function describe(details: Record<string, unknown>): string {
  return Object.entries(details)
    .filter(([, value]) => value !== null && value !== undefined && value !== "")
    .map(([key, value]) => `${key}: ${typeof value === "object" ? JSON.stringify(value) : String(value)}`)
    .join(", ");
}

export default function StudyAudit() {
  const { study, permissions, entries, older } = useLoaderData<typeof loader>();
  return (
    <section className="access-page">
      <h1>{study.name}</h1>
      <StudyNav studyId={study.id} permissions={permissions} />
      <h2>Audit log</h2>
      {entries.length === 0 ? (
        <p className="muted">Nothing recorded yet.</p>
      ) : (
        <table className="data-table compact audit-log">
          <thead>
            <tr>
              <th>When</th>
              <th>Who</th>
              <th>What</th>
              <th>Details</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((entry) => (
              <tr key={entry.id}>
                <td>{when(entry.createdAt)}</td>
                <td>{entry.actor}</td>
                <td>{entry.action}</td>
                <td className="muted small">{describe(entry.details)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {older ? <Link to={`?before=${older}`}>Older entries</Link> : null}
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}
