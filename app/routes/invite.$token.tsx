import { redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useLocation, useNavigation } from "@remix-run/react";
import { NewAccountFormSchema } from "~/auth/account-forms.server";
import { ROLE_DESCRIPTIONS } from "~/auth/permissions";
import { fetchRequestIsHttps } from "~/auth/request-security.server";
import { getActor } from "~/auth/require.server";
import { sessionCookieHeader } from "~/auth/session.server";
import { NewAccountFields } from "~/components/account-fields";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { FieldError } from "~/components/field";
import { signOut } from "~/services/accounts.server";
import { acceptMemberInvite, acceptMemberInviteWithNewAccount, INVITE_STATE_MESSAGES, lookUpInvite } from "~/services/invites.server";
import { formConstraints } from "~/utils/form-constraints";
import { errorsOf } from "~/utils/form-errors";
import { invalidField, invalidForm, refusedForm } from "~/utils/form-errors.server";

export const meta: MetaFunction = () => [{ title: "Invitation · promptduel" }];

const UNKNOWN = "This invite link is not valid. Check that you copied all of it, or ask the study's owner for a new one.";

// A member invite (owner, editor or viewer of one study): accepted by a signed-in account, or by
// creating an account here. Single use; it expires.
export async function loader({ request, params }: LoaderFunctionArgs) {
  const invite = lookUpInvite(params.token ?? "");
  if (!invite.found || invite.role === "annotator") throw new Response(UNKNOWN, { status: 404 });
  const actor = await getActor(request);
  return {
    studyName: invite.studyName,
    role: invite.role,
    roleDescription: ROLE_DESCRIPTIONS[invite.role],
    problem: invite.state === "usable" ? null : INVITE_STATE_MESSAGES[invite.state],
    signedInAs: actor.kind === "user" ? actor.user.email : null,
    constraints: formConstraints(NewAccountFormSchema),
  };
}

export async function action({ request, params }: ActionFunctionArgs) {
  const token = params.token ?? "";
  const actor = await getActor(request);
  const form = Object.fromEntries(await request.formData());
  if (actor.kind === "user") {
    const accepted = acceptMemberInvite(token, actor);
    if (!accepted.ok) return refusedForm(accepted.message, { status: accepted.status });
    return redirect(`/studies/${accepted.studyId}`);
  }
  if (actor.kind === "token") throw new Response("An API token cannot accept an invitation", { status: 403 });
  const parsed = NewAccountFormSchema.safeParse(form);
  if (!parsed.success) return invalidForm(parsed.error);
  const accepted = await acceptMemberInviteWithNewAccount(token, parsed.data);
  if (!accepted.ok) {
    const init = { status: accepted.status };
    return accepted.field ? invalidField(accepted.field, accepted.message, init) : refusedForm(accepted.message, init);
  }
  // An annotator session in this browser ends: one identity per browser.
  if (actor.kind === "annotator") signOut(actor.sessionId);
  const headers = accepted.session ? { "Set-Cookie": await sessionCookieHeader(accepted.session, fetchRequestIsHttps(request)) } : undefined;
  return redirect(`/studies/${accepted.studyId}`, { headers });
}

export default function AcceptInvite() {
  const { studyName, role, roleDescription, problem, signedInAs, constraints } = useLoaderData<typeof loader>();
  const { formErrors, fieldErrors } = errorsOf(useActionData<typeof action>());
  const busy = useNavigation().state !== "idle";
  const here = useLocation().pathname;
  return (
    <section className="narrow">
      <h1>
        Join “{studyName}” as {role}
      </h1>
      <p className="muted">
        An {role === "owner" ? "owner" : role} can do {roleDescription}.
      </p>
      {problem ? (
        <p className="field-error" role="alert">
          {problem} Ask the study&apos;s owner for a new link.
        </p>
      ) : signedInAs ? (
        <Form method="post" className="stack">
          <FieldError id="form-error" messages={formErrors} />
          <p>
            You are signed in as <strong>{signedInAs}</strong>.
          </p>
          <button type="submit" className="primary" disabled={busy}>
            Join as {role}
          </button>
        </Form>
      ) : (
        <>
          <p>
            Have an account? <Link to={`/login?${new URLSearchParams({ redirectTo: here })}`}>Sign in</Link> and come back to this link. Otherwise
            create one:
          </p>
          <Form method="post" className="stack" noValidate>
            <FieldError id="form-error" messages={formErrors} />
            <NewAccountFields constraints={constraints} errors={fieldErrors} />
            <button type="submit" className="primary" disabled={busy}>
              Create account and join
            </button>
          </Form>
        </>
      )}
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}
