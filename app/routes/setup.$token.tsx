import { redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { NewAccountFormSchema } from "~/auth/account-forms.server";
import { fetchRequestIsHttps } from "~/auth/request-security.server";
import { sessionCookieHeader } from "~/auth/session.server";
import { NewAccountFields } from "~/components/account-fields";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { FieldError } from "~/components/field";
import { createFirstOwner, firstOwnerSetupIsOpen, SETUP_CLOSED } from "~/services/accounts.server";
import { formConstraints } from "~/utils/form-constraints";
import { errorsOf } from "~/utils/form-errors";
import { invalidForm } from "~/utils/form-errors.server";
import { invariantResponse } from "~/utils/invariant";

export const meta: MetaFunction = () => [{ title: "Create the first owner · promptduel" }];

// The one-time link the console prints at first start (like Jupyter's token): the only way to create
// the first account from a browser. It dies once any account exists.
export async function loader({ params }: LoaderFunctionArgs) {
  invariantResponse(firstOwnerSetupIsOpen(params.token ?? ""), SETUP_CLOSED);
  return { constraints: formConstraints(NewAccountFormSchema) };
}

export async function action({ request, params }: ActionFunctionArgs) {
  const token = params.token ?? "";
  invariantResponse(firstOwnerSetupIsOpen(token), SETUP_CLOSED);
  const parsed = NewAccountFormSchema.safeParse(Object.fromEntries(await request.formData()));
  if (!parsed.success) return invalidForm(parsed.error);
  const created = await createFirstOwner(token, parsed.data);
  invariantResponse(created.ok, SETUP_CLOSED);
  return redirect("/", { headers: { "Set-Cookie": await sessionCookieHeader(created.session, fetchRequestIsHttps(request)) } });
}

export default function FirstOwnerSetup() {
  const { constraints } = useLoaderData<typeof loader>();
  const { formErrors, fieldErrors } = errorsOf(useActionData<typeof action>());
  const busy = useNavigation().state !== "idle";
  return (
    <section className="narrow">
      <h1>Create the first owner</h1>
      <p className="muted">
        This account owns the demo study and every study without an owner. More owners, editors and viewers join later through invite links from a
        study&apos;s Members page, or with <code>npm run owner -- create</code> on the server.
      </p>
      <Form method="post" className="stack" noValidate>
        <FieldError id="form-error" messages={formErrors} />
        <NewAccountFields constraints={constraints} errors={fieldErrors} />
        <button type="submit" className="primary" disabled={busy}>
          Create owner account
        </button>
      </Form>
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}
