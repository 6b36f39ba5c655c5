import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useLocation, useNavigation } from "@remix-run/react";
import { fieldErrors, NewAccountFormSchema } from "~/auth/account-forms.server";
import { ROLE_DESCRIPTIONS } from "~/auth/permissions";
import { fetchRequestIsHttps } from "~/auth/request-security.server";
import { getActor } from "~/auth/require.server";
import { sessionCookieHeader } from "~/auth/session.server";
import { NewAccountFields } from "~/components/account-fields";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { FieldError } from "~/components/setup-fields";
import { signOut } from "~/services/accounts.server";
import { acceptMemberInvite, acceptMemberInviteWithNewAccount, INVITE_STATE_MESSAGES, lookUpInvite } from "~/services/invites.server";

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
  };
}

type Errors = Record<string, string[] | undefined>;

export async function action({ request, params }: ActionFunctionArgs) {
  const token = params.token ?? "";
  const actor = await getActor(request);
  const form = Object.fromEntries(await request.formData());
  if (actor.kind === "user") {
    const accepted = acceptMemberInvite(token, actor);
    if (!accepted.ok) return data<{ errors: Errors }>({ errors: { form: [accepted.message] } }, { status: accepted.status });
    return redirect(`/studies/${accepted.studyId}`);
  }
  if (actor.kind === "token") throw new Response("An API token cannot accept an invitation", { status: 403 });
  const parsed = NewAccountFormSchema.safeParse(form);
  if (!parsed.success) return data<{ errors: Errors }>({ errors: fieldErrors(parsed.error) }, { status: 400 });
  const accepted = await acceptMemberInviteWithNewAccount(token, parsed.data);
  if (!accepted.ok) return data<{ errors: Errors }>({ errors: { [accepted.field ?? "form"]: [accepted.message] } }, { status: accepted.status });
  // An annotator session in this browser ends: one identity per browser.
  if (actor.kind === "annotator") signOut(actor.sessionId);
  const headers = accepted.session ? { "Set-Cookie": await sessionCookieHeader(accepted.session, fetchRequestIsHttps(request)) } : undefined;
  return redirect(`/studies/${accepted.studyId}`, { headers });
}

export default function AcceptInvite() {
  const { studyName, role, roleDescription, problem, signedInAs } = useLoaderData<typeof loader>();
  const errors = useActionData<typeof action>()?.errors ?? {};
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
          <FieldError id="form-error" messages={errors.form} />
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
            <FieldError id="form-error" messages={errors.form} />
            <NewAccountFields errors={errors} />
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
