import { redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, useActionData, useLoaderData, useLocation, useNavigation } from "@remix-run/react";
import { fetchRequestIsHttps } from "~/auth/request-security.server";
import { getActor } from "~/auth/require.server";
import { sessionCookieHeader } from "~/auth/session.server";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { Field, FieldError } from "~/components/field";
import { INVITE_STATE_MESSAGES, joinWithInvite, lookUpInvite } from "~/services/invites.server";
import { formConstraints } from "~/utils/form-constraints";
import { errorsOf } from "~/utils/form-errors";
import { invalidForm, refusedForm } from "~/utils/form-errors.server";
import { JoinFormSchema } from "~/utils/forms";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `Join ${data?.studyName ?? "a study"} · promptduel` }];

const UNKNOWN = "This invite link is not valid. Check that you copied all of it, or ask the study's owner for a new one.";

// An annotator invite link: asks for a display name, then joins the study and starts annotating.
export async function loader({ request, params }: LoaderFunctionArgs) {
  const invite = lookUpInvite(params.token ?? "");
  if (!invite.found || invite.role !== "annotator") throw new Response(UNKNOWN, { status: 404 });
  const actor = await getActor(request);
  if (actor.kind === "annotator" && actor.studies.get(invite.studyId)?.removed === false) throw redirect(`/studies/${invite.studyId}/annotate`);
  return {
    studyName: invite.studyName,
    problem: invite.state === "usable" ? null : INVITE_STATE_MESSAGES[invite.state],
    annotatorName: actor.kind === "annotator" ? actor.annotator.displayName : null,
    accountName: actor.kind === "user" ? actor.user.displayName : null,
    constraints: formConstraints(JoinFormSchema),
  };
}

export async function action({ request, params }: ActionFunctionArgs) {
  const actor = await getActor(request);
  if (actor.kind === "user" || actor.kind === "token") {
    throw new Response("You are signed in with an account: sign out (or use a private window) to join as an annotator.", { status: 403 });
  }
  let displayName: string | null = null;
  if (actor.kind === "anonymous") {
    const parsed = JoinFormSchema.safeParse(Object.fromEntries(await request.formData()));
    if (!parsed.success) return invalidForm(parsed.error);
    displayName = parsed.data.displayName;
  }
  const joined = joinWithInvite(params.token ?? "", { actor, displayName });
  if (!joined.ok) return refusedForm(joined.message, { status: joined.status });
  const headers = joined.session ? { "Set-Cookie": await sessionCookieHeader(joined.session, fetchRequestIsHttps(request)) } : undefined;
  return redirect(`/studies/${joined.studyId}/annotate`, { headers });
}

export default function JoinStudy() {
  const { studyName, problem, annotatorName, accountName, constraints } = useLoaderData<typeof loader>();
  const joinPath = useLocation().pathname;
  const { formErrors, fieldErrors } = errorsOf(useActionData<typeof action>());
  const busy = useNavigation().state !== "idle";
  return (
    <section className="narrow">
      <h1>Annotate “{studyName}”</h1>
      {problem ? (
        <p className="field-error" role="alert">
          {problem} Ask the study&apos;s owner for a new link.
        </p>
      ) : accountName ? (
        <>
          <p>
            You are signed in as <strong>{accountName}</strong>. Invite links are for annotators without an account: sign out, or open this link in a
            private window, to join as one. Members of a study annotate it from the study&apos;s page.
          </p>
          <Form method="post" action="/logout">
            <input type="hidden" name="redirectTo" value={joinPath} />
            <button type="submit">Sign out</button>
          </Form>
        </>
      ) : (
        <Form method="post" className="stack" noValidate replace>
          {/* replace: the join page leaves the history, so Back from the study does not return here. */}
          <p>You will compare pairs of answers to the same question and pick the better one. You will not see how they were produced.</p>
          <FieldError id="form-error" messages={formErrors} />
          {annotatorName ? (
            <p>
              You will join as <strong>{annotatorName}</strong>.
            </p>
          ) : (
            <Field
              name="displayName"
              label="Display name"
              constraints={constraints}
              errors={fieldErrors}
              hint="Shown to the study's owners with each of your votes."
              input={{ autoComplete: "nickname" }}
            />
          )}
          <button type="submit" className="primary" disabled={busy}>
            Join and start
          </button>
        </Form>
      )}
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}
