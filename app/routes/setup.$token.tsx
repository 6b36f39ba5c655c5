import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, useActionData, useNavigation } from "@remix-run/react";
import { fieldErrors, NewAccountFormSchema } from "~/auth/account-forms.server";
import { fetchRequestIsHttps } from "~/auth/request-security.server";
import { sessionCookieHeader } from "~/auth/session.server";
import { NewAccountFields } from "~/components/account-fields";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { FieldError } from "~/components/setup-fields";
import { createFirstOwner, firstOwnerSetupIsOpen, SETUP_CLOSED } from "~/services/accounts.server";
import { invariantResponse } from "~/utils/invariant";

export const meta: MetaFunction = () => [{ title: "Create the first owner · promptduel" }];

// The one-time link the console prints at first start (like Jupyter's token): the only way to create
// the first account from a browser. It dies once any account exists.
export async function loader({ params }: LoaderFunctionArgs) {
  invariantResponse(firstOwnerSetupIsOpen(params.token ?? ""), SETUP_CLOSED);
  return null;
}

type Errors = Record<string, string[] | undefined>;

export async function action({ request, params }: ActionFunctionArgs) {
  const token = params.token ?? "";
  invariantResponse(firstOwnerSetupIsOpen(token), SETUP_CLOSED);
  const parsed = NewAccountFormSchema.safeParse(Object.fromEntries(await request.formData()));
  if (!parsed.success) return data<{ errors: Errors }>({ errors: fieldErrors(parsed.error) }, { status: 400 });
  const created = await createFirstOwner(token, parsed.data);
  invariantResponse(created.ok, SETUP_CLOSED);
  return redirect("/", { headers: { "Set-Cookie": await sessionCookieHeader(created.session, fetchRequestIsHttps(request)) } });
}

export default function FirstOwnerSetup() {
  const errors = useActionData<typeof action>()?.errors ?? {};
  const busy = useNavigation().state !== "idle";
  return (
    <section className="narrow">
      <h1>Create the first owner</h1>
      <p className="muted">
        This account owns the demo study and every study without an owner. More owners, editors and viewers join later through invite links from a
        study&apos;s Members page, or with <code>npm run owner -- create</code> on the server.
      </p>
      <Form method="post" className="stack" noValidate>
        <FieldError id="form-error" messages={errors.form} />
        <NewAccountFields errors={errors} />
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
