import { redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { requireStudyPermission } from "~/auth/require.server";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { Field } from "~/components/field";
import { DeleteStudyFormSchema } from "~/models/access-forms.server";
import { studyDeletionSummary } from "~/models/study-lifecycle.server";
import { deleteStudyAs } from "~/services/studies.server";
import { formConstraints } from "~/utils/form-constraints";
import { errorsOf } from "~/utils/form-errors";
import { invalidField, invalidForm } from "~/utils/form-errors.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `Delete · ${data?.study.name ?? "promptduel"}` }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const { study } = await requireStudyPermission(request, params.studyId, "study:manage");
  return {
    study: { id: study.id, name: study.name, status: study.status },
    lost: studyDeletionSummary(study.id),
    constraints: formConstraints(DeleteStudyFormSchema),
  };
}

export async function action({ request, params }: ActionFunctionArgs) {
  const access = await requireStudyPermission(request, params.studyId, "study:manage");
  const parsed = DeleteStudyFormSchema.safeParse(Object.fromEntries(await request.formData()));
  if (!parsed.success) return invalidForm(parsed.error);
  const deleted = await deleteStudyAs(access, parsed.data.confirmName);
  if (!deleted.ok) return invalidField("confirmName", deleted.message);
  return redirect("/");
}

const plural = (count: number, noun: string, nouns = `${noun}s`) => `${count.toLocaleString("en-US")} ${count === 1 ? noun : nouns}`;

export default function DeleteStudy() {
  const { study, lost, constraints } = useLoaderData<typeof loader>();
  const errors = errorsOf(useActionData<typeof action>()).fieldErrors;
  return (
    <section className="narrow-wide">
      <p>
        <Link to={`/studies/${study.id}`}>← {study.name}</Link>
      </p>
      <h1>Delete “{study.name}”?</h1>
      <div className="banner danger-banner">
        <p>
          <strong>This cannot be undone.</strong> Deleting the study removes, for good:
        </p>
        <ul>
          <li>{plural(lost.votes, "vote")}</li>
          <li>
            {plural(lost.comments, "comment")} from {plural(lost.annotators, "annotator")}
          </li>
          <li>
            {plural(lost.prompts, "prompt")} and {plural(lost.queries, "query", "queries")}
          </li>
          <li>{plural(lost.responses, "response")} (generated ones cost tokens to make again)</li>
          <li>the leaderboard, convergence history and {plural(lost.assignments, "handed-out pair")}</li>
          <li>its invite links, API tokens and memberships (the audit log keeps a record of the deletion)</li>
        </ul>
        {lost.votes > 0 ? (
          <p>
            To keep the votes, <Link to={`/studies/${study.id}/export`}>export the raw log</Link> first, or close and archive the study instead.
          </p>
        ) : null}
      </div>
      <Form method="post" className="stack">
        <Field
          name="confirmName"
          label="Type the study's name to confirm"
          constraints={constraints}
          errors={errors}
          input={{ autoComplete: "off" }}
        />
        <button type="submit" className="danger">
          Delete the study and everything in it
        </button>
      </Form>
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}
