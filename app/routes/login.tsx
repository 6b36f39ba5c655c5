import { redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { SignInFormSchema } from "~/auth/account-forms.server";
import { fetchRequestIsHttps } from "~/auth/request-security.server";
import { getActor } from "~/auth/require.server";
import { sessionCookieHeader } from "~/auth/session.server";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { Field, FieldError } from "~/components/field";
import { db } from "~/db.server";
import { countUsers } from "~/models/account.server";
import { signIn, signOut } from "~/services/accounts.server";
import { formConstraints } from "~/utils/form-constraints";
import { errorsOf } from "~/utils/form-errors";
import { invalidForm, refusedForm } from "~/utils/form-errors.server";
import { safeRedirect } from "~/utils/safe-redirect";

export const meta: MetaFunction = () => [{ title: "Sign in · promptduel" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const redirectTo = safeRedirect(new URL(request.url).searchParams.get("redirectTo"));
  const actor = await getActor(request);
  if (actor.kind === "user") throw redirect(redirectTo);
  return {
    redirectTo,
    noAccountYet: countUsers(db()) === 0,
    signedInAsAnnotator: actor.kind === "annotator" ? actor.annotator.displayName : null,
    constraints: formConstraints(SignInFormSchema),
  };
}

export async function action({ request }: ActionFunctionArgs) {
  const parsed = SignInFormSchema.safeParse(Object.fromEntries(await request.formData()));
  if (!parsed.success) return invalidForm(parsed.error);
  const signedIn = await signIn(parsed.data.email, parsed.data.password);
  if (!signedIn) return refusedForm("Email or password is wrong.");
  // This browser's earlier session (an annotator's, a stale one) ends: one identity per browser.
  const previous = await getActor(request);
  if (previous.kind === "user" || previous.kind === "annotator") signOut(previous.sessionId);
  return redirect(safeRedirect(parsed.data.redirectTo), {
    headers: { "Set-Cookie": await sessionCookieHeader(signedIn.session, fetchRequestIsHttps(request)) },
  });
}

export default function Login() {
  const { redirectTo, noAccountYet, signedInAsAnnotator, constraints } = useLoaderData<typeof loader>();
  const { formErrors, fieldErrors } = errorsOf(useActionData<typeof action>());
  const form = { constraints, errors: fieldErrors };
  const busy = useNavigation().state !== "idle";
  return (
    <section className="narrow">
      <h1>Sign in</h1>
      {noAccountYet ? (
        <p className="notice" role="status">
          No owner account exists yet. Open the one-time setup link the server printed on its console when it started (or run{" "}
          <code>npm run owner -- create --email you@example.com</code> on the server).
        </p>
      ) : null}
      <p className="muted">
        For study owners, editors and viewers. Annotators need no account: they open the invite link the study&apos;s owner sent them.
      </p>
      {signedInAsAnnotator ? (
        <p className="muted">
          You are annotating as <strong>{signedInAsAnnotator}</strong> in this browser; signing in as an owner ends that.
        </p>
      ) : null}
      <Form method="post" className="stack" noValidate>
        <input type="hidden" name="redirectTo" value={redirectTo} />
        <FieldError id="form-error" messages={formErrors} />
        <Field name="email" label="Email" {...form} input={{ autoComplete: "username" }} />
        <Field name="password" label="Password" {...form} input={{ type: "password", autoComplete: "current-password" }} />
        <button type="submit" className="primary" disabled={busy}>
          Sign in
        </button>
      </Form>
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}
