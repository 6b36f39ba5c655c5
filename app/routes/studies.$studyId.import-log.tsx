import { data, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { requireStudyPermission } from "~/auth/require.server";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { Field } from "~/components/field";
import { JobStatus, usePollWhileJobsRun } from "~/components/job-status";
import { db } from "~/db.server";
import { ImportFormSchema, MAX_IMPORT_BYTES } from "~/export/import-form.server";
import { isJobIntent, jobView } from "~/jobs/job-view.server";
import { studyJobs } from "~/jobs/jobs.server";
import { applyJobIntentAs, queueRawLogImportAs } from "~/services/studies.server";
import { formConstraints } from "~/utils/form-constraints";
import { allMessages, errorsOf } from "~/utils/form-errors";
import { invalidForm, refusedForm } from "~/utils/form-errors.server";
import { readUploadForm } from "~/utils/upload-form.server";
import { IMPORT_LOG_BODY_BYTES, type HttpRouteHandle } from "~/http/route-handle";

// Uploads: the server refuses a larger body with 413 before the action runs (app/http/route-policy.server.ts).
export const handle = { maxBodyBytes: IMPORT_LOG_BODY_BYTES } satisfies HttpRouteHandle;

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `Import a log · ${data?.study.name ?? "promptduel"}` }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const { study } = await requireStudyPermission(request, params.studyId, "study:edit");
  return {
    study: { id: study.id, name: study.name },
    imports: studyJobs(db(), study.id, ["import-log"]).map(jobView),
    constraints: formConstraints(ImportFormSchema),
  };
}

// The log is checked and written by a background job (app/jobs, ADR 0010): the page answers at once
// and shows the job's progress, then what it imported and skipped, or every problem by line.
export async function action({ request, params }: ActionFunctionArgs) {
  const access = await requireStudyPermission(request, params.studyId, "study:edit");
  const upload = await readUploadForm(request, MAX_IMPORT_BYTES, { rawFiles: ["log"] });
  if ("errors" in upload) return invalidForm(upload.errors);
  if (isJobIntent(upload.fields.intent)) {
    const applied = applyJobIntentAs(access, upload.fields);
    return applied.ok ? { ok: true as const, notice: applied.notice } : refusedForm(applied.error);
  }
  const form = ImportFormSchema.safeParse({ ...upload.fields, ...upload.raw });
  if (!form.success) return invalidForm(form.error);
  const job = await queueRawLogImportAs(access, form.data.log);
  return data({ ok: true as const, notice: `Importing ${form.data.log.name} (job #${job.id}).` }, { status: 202 });
}

function describeImport(result: Record<string, unknown>) {
  const n = (key: string) => Number(result[key] ?? 0);
  return (
    `Imported ${n("votes")} votes` +
    (n("skipped") > 0 ? ` (${n("skipped")} already in the study, skipped)` : "") +
    `: ${n("promptsCreated")} new and ${n("promptsMatched")} existing prompts, ${n("queriesCreated")} new and ${n("queriesMatched")} existing queries, ` +
    `${n("responsesCreated")} responses, ${n("annotatorsCreated")} new and ${n("annotatorsMatched")} existing annotators.`
  );
}

export default function ImportLog() {
  const { study, imports, constraints } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const notice = actionData?.ok ? actionData.notice : null;
  const refusals = allMessages(errorsOf(actionData));
  const busy = useNavigation().state !== "idle";
  usePollWhileJobsRun(imports);
  return (
    <section>
      <div className="title-row">
        <h1>Import a raw log · {study.name}</h1>
        <Link to={`/studies/${study.id}/export`}>Back to export</Link>
      </div>
      <p className="muted">
        A raw JSONL log exported by promptduel. Every line is checked first; then all its votes are imported in one go, or none are. Votes the study
        already has (an earlier import of the same or an overlapping log, or its own votes) are skipped. Prompts and queries are matched by their text
        (prompts ignoring case and spacing) or created; each annotator of the log becomes a new annotator here.
      </p>
      {notice ? <p className="muted">{notice}</p> : null}
      {refusals.length > 0 ? (
        <div className="import-errors" role="alert">
          <p>Nothing was imported:</p>
          <ul>
            {refusals.map((error) => (
              <li key={error}>{error}</li>
            ))}
          </ul>
        </div>
      ) : null}
      <Form method="post" encType="multipart/form-data" className="stack import-form">
        <Field
          name="log"
          label="Raw log (.jsonl)"
          constraints={constraints}
          input={{ type: "file", accept: ".jsonl,.json,application/jsonl,application/x-ndjson" }}
        />
        <button type="submit" className="primary" disabled={busy}>
          Import
        </button>
      </Form>
      {imports.length > 0 ? <h2>Imports</h2> : null}
      {imports.map((job) => (
        <JobStatus key={job.id} job={job} title="Import" describeResult={describeImport} />
      ))}
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}
