import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import { fieldErrors } from "~/auth/account-forms.server";
import { requireStudyPermission } from "~/auth/require.server";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { FieldError } from "~/components/setup-fields";
import { StudyNav } from "~/components/study-nav";
import { getStudyCounts } from "~/models/study.server";
import { DeleteStudyFormSchema } from "~/models/access-forms.server";
import { deleteStudyAs } from "~/services/studies.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `Delete · ${data?.study.name ?? "promptduel"}` }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const { study, permissions } = await requireStudyPermission(request, params.studyId, "study:manage");
  return { study: { id: study.id, name: study.name }, permissions: [...permissions], counts: getStudyCounts(study.id) };
}

export async function action({ request, params }: ActionFunctionArgs) {
  const access = await requireStudyPermission(request, params.studyId, "study:manage");
  const parsed = DeleteStudyFormSchema.safeParse(Object.fromEntries(await request.formData()));
  if (!parsed.success) return data({ errors: fieldErrors(parsed.error) }, { status: 400 });
  const deleted = await deleteStudyAs(access, parsed.data.confirmName);
  if (!deleted.ok) return data({ errors: { confirmName: [deleted.message] } }, { status: 400 });
  return redirect("/");
}

export default function DeleteStudy() {
  const { study, permissions, counts } = useLoaderData<typeof loader>();
  const errors = useActionData<typeof action>()?.errors ?? {};
  return (
    <section className="access-page">
      <h1>{study.name}</h1>
      <StudyNav studyId={study.id} permissions={permissions} />
      <h2>Delete this study</h2>
      <p>
        This deletes its {counts.prompts} prompts, {counts.queries} queries, {counts.responses} responses and {counts.votes} votes, its invite links
        and API tokens, for good. Export the raw log first if you may want the votes later. The audit log keeps a record of the deletion.
      </p>
      <Form method="post" className="stack narrow" noValidate>
        <label htmlFor="confirmName">Type the study&apos;s name to confirm</label>
        <input id="confirmName" name="confirmName" autoComplete="off" required aria-invalid={errors.confirmName ? true : undefined} />
        <FieldError id="confirmName-error" messages={errors.confirmName} />
        <button type="submit" className="danger">
          Delete the study
        </button>
      </Form>
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}
