import { type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import { AccountFormSchema } from "~/auth/account-forms.server";
import { requireUser } from "~/auth/require.server";
import { listUserSessions } from "~/auth/session.server";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { Field } from "~/components/field";
import { changePassword, revokeOwnSessions } from "~/services/accounts.server";
import { formConstraints } from "~/utils/form-constraints";
import { errorsOf } from "~/utils/form-errors";
import { invalidField, invalidForm } from "~/utils/form-errors.server";

export const meta: MetaFunction = () => [{ title: "Account · promptduel" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const actor = await requireUser(request);
  return {
    user: actor.user,
    sessions: listUserSessions(actor.user.id).map((session) => ({ ...session, current: session.id === actor.sessionId })),
    changePassword: formConstraints(AccountFormSchema, { intent: "change-password" }),
  };
}

export async function action({ request }: ActionFunctionArgs) {
  const actor = await requireUser(request);
  const parsed = AccountFormSchema.safeParse(Object.fromEntries(await request.formData()));
  if (!parsed.success) return invalidForm(parsed.error);
  const form = parsed.data;
  switch (form.intent) {
    case "change-password": {
      const changed = await changePassword(actor, form.currentPassword, form.newPassword);
      if (!changed.ok) return invalidField("currentPassword", "This is not your current password");
      return { ok: true as const, notice: `Password changed; ${changed.signedOut} other session${changed.signedOut === 1 ? "" : "s"} signed out.` };
    }
    case "revoke-session":
      return {
        ok: true as const,
        notice: revokeOwnSessions(actor, { sessionId: form.sessionId }) > 0 ? "Signed that browser out." : "That session had ended already.",
      };
    case "revoke-other-sessions": {
      const count = revokeOwnSessions(actor, "others");
      return { ok: true as const, notice: `Signed out ${count} other session${count === 1 ? "" : "s"}.` };
    }
  }
}

const when = (value: string | Date) => new Date(value).toISOString().replace("T", " ").slice(0, 16) + " UTC";

export default function Account() {
  const { user, sessions, changePassword } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const form = { constraints: changePassword, errors: errorsOf(result).fieldErrors };
  const notice = result && "notice" in result ? result.notice : null;
  return (
    <section className="narrow">
      <h1>Account</h1>
      <p>
        {user.displayName} · <span className="muted">{user.email}</span>
      </p>
      {notice ? (
        <p className="notice" role="status">
          {notice}
        </p>
      ) : null}

      <h2>Change password</h2>
      <Form method="post" className="stack" noValidate>
        <input type="hidden" name="intent" value="change-password" />
        <Field name="currentPassword" label="Current password" {...form} input={{ type: "password", autoComplete: "current-password" }} />
        <Field
          name="newPassword"
          label={`New password (at least ${changePassword.newPassword?.minLength} characters)`}
          {...form}
          input={{ type: "password", autoComplete: "new-password" }}
        />
        <Field name="confirmPassword" label="Repeat the new password" {...form} input={{ type: "password", autoComplete: "new-password" }} />
        <p className="hint">Changing the password signs out every other browser of this account.</p>
        <button type="submit" className="primary">
          Change password
        </button>
      </Form>

      <h2>Signed-in browsers</h2>
      <table className="data-table compact">
        <thead>
          <tr>
            <th>Signed in</th>
            <th>Expires</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {sessions.map((session) => (
            <tr key={session.id}>
              <td>{when(session.createdAt)}</td>
              <td>{when(session.expiresAt)}</td>
              <td>
                {session.current ? (
                  <span className="badge">this browser</span>
                ) : (
                  <Form method="post">
                    <input type="hidden" name="intent" value="revoke-session" />
                    <input type="hidden" name="sessionId" value={session.id} />
                    <button type="submit">Sign out</button>
                  </Form>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {sessions.length > 1 ? (
        <Form method="post">
          <input type="hidden" name="intent" value="revoke-other-sessions" />
          <button type="submit">Sign out all other browsers</button>
        </Form>
      ) : null}
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}
