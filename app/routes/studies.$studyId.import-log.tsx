import { data, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { requireStudyPermission } from "~/auth/require.server";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { ImportFormSchema, MAX_IMPORT_BYTES } from "~/export/import-form.server";
import { importRawLogAs } from "~/services/studies.server";
import { readUploadForm } from "~/utils/upload-form.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `Import a log · ${data?.study.name ?? "promptduel"}` }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const { study } = await requireStudyPermission(request, params.studyId, "study:edit");
  return { study: { id: study.id, name: study.name } };
}

export async function action({ request, params }: ActionFunctionArgs) {
  const access = await requireStudyPermission(request, params.studyId, "study:edit");
  const upload = await readUploadForm(request, MAX_IMPORT_BYTES);
  if ("errors" in upload) return data({ errors: Object.values(upload.errors).flat(), summary: null }, { status: 400 });
  const form = ImportFormSchema.safeParse(upload.fields);
  if (!form.success) return data({ errors: form.error.issues.map((issue) => issue.message), summary: null }, { status: 400 });
  // The new votes are data for the engine (told after the commit), exactly like votes cast on the annotate page.
  const result = importRawLogAs(access, form.data.log.content);
  if (!result.ok) return data({ errors: result.errors, summary: null }, { status: 400 });
  return data({ errors: [], summary: result.summary });
}

export default function ImportLog() {
  const { study } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const busy = useNavigation().state !== "idle";
  return (
    <section>
      <div className="title-row">
        <h1>Import a raw log · {study.name}</h1>
        <Link to={`/studies/${study.id}/export`}>Back to export</Link>
      </div>
      <p className="muted">
        A raw JSONL log exported by promptduel. Every line is checked first; then all votes are imported in one go, or none are. Prompts and queries
        are matched by their text (prompts ignoring case and spacing) or created; each annotator of the log becomes a new annotator here.
      </p>
      {actionData?.summary ? (
        <p className="notice" role="status">
          Imported {actionData.summary.votes} votes: {actionData.summary.promptsCreated} new and {actionData.summary.promptsMatched} existing prompts,{" "}
          {actionData.summary.queriesCreated} new and {actionData.summary.queriesMatched} existing queries, {actionData.summary.responsesCreated}{" "}
          responses, {actionData.summary.annotatorsCreated} annotators.
        </p>
      ) : null}
      {actionData && actionData.errors.length > 0 ? (
        <div className="import-errors" role="alert">
          <p>Nothing was imported:</p>
          <ul>
            {actionData.errors.map((error) => (
              <li key={error}>{error}</li>
            ))}
          </ul>
        </div>
      ) : null}
      <Form method="post" encType="multipart/form-data" className="stack import-form">
        <label htmlFor="log">Raw log (.jsonl)</label>
        <input id="log" name="log" type="file" accept=".jsonl,.json,application/jsonl,application/x-ndjson" required />
        <button type="submit" className="primary" disabled={busy}>
          Import
        </button>
      </Form>
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}
