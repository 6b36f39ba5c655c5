import { type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { ROLE_DESCRIPTIONS, ROLE_NAMES } from "~/auth/permissions";
import { publicOrigin } from "~/auth/request-security.server";
import { requireStudyPermission } from "~/auth/require.server";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { SecretOnce, when } from "~/components/secret-link";
import { Field, FieldError } from "~/components/field";
import { StudyNav } from "~/components/study-nav";
import { MembersFormSchema } from "~/models/access-forms.server";
import { inviteState, listInvites } from "~/models/invite.server";
import { listMembers } from "~/models/membership.server";
import { createMemberInvite, revokeInviteAs } from "~/services/invites.server";
import { changeMemberRole, removeMemberAs } from "~/services/members.server";
import { formConstraints } from "~/utils/form-constraints";
import { errorsOf } from "~/utils/form-errors";
import { invalidForm, refusedForm } from "~/utils/form-errors.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `Members · ${data?.study.name ?? "promptduel"}` }];

// Owners add owners, editors and viewers with email-less, single-use invite links, change roles and
// remove members. A study always keeps at least one owner.
export async function loader({ request, params }: LoaderFunctionArgs) {
  const { study, permissions, actor } = await requireStudyPermission(request, params.studyId, "study:manage");
  const now = new Date();
  return {
    study: { id: study.id, name: study.name },
    permissions: [...permissions],
    me: actor.kind === "user" ? actor.user.id : null,
    members: listMembers(study.id),
    invites: listInvites(study.id, "member").map((invite) => ({ ...invite, state: inviteState(invite, now) })),
    createInvite: formConstraints(MembersFormSchema, { intent: "create-invite" }),
  };
}

type ActionResult = { ok: true; notice?: string; link?: string };

export async function action({ request, params }: ActionFunctionArgs) {
  const access = await requireStudyPermission(request, params.studyId, "study:manage");
  const parsed = MembersFormSchema.safeParse(Object.fromEntries(await request.formData()));
  if (!parsed.success) return invalidForm(parsed.error);
  const form = parsed.data;
  switch (form.intent) {
    case "create-invite": {
      const invite = createMemberInvite(access, { role: form.role, expiresInDays: form.expiresInDays });
      return { ok: true, link: `${publicOrigin(request)}/invite/${invite.token}` } satisfies ActionResult;
    }
    case "revoke-invite":
      return {
        ok: true,
        notice: revokeInviteAs(access, form.inviteId) ? "Invitation revoked." : "That invitation was revoked already.",
      } satisfies ActionResult;
    case "change-role": {
      const changed = changeMemberRole(access, form.userId, form.role);
      return changed.ok ? ({ ok: true, notice: "Role changed." } satisfies ActionResult) : refusedForm(changed.message);
    }
    case "remove-member": {
      const removed = removeMemberAs(access, form.userId);
      return removed.ok
        ? ({ ok: true, notice: "Member removed; their API tokens for this study are revoked." } satisfies ActionResult)
        : refusedForm(removed.message);
    }
  }
}

const STATE_LABELS = { usable: "waiting", revoked: "revoked", expired: "expired", used_up: "accepted" } as const;

export default function StudyMembers() {
  const { study, permissions, me, members, invites, createInvite } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const { formErrors, fieldErrors } = errorsOf(result);
  const succeeded = result?.ok ? result : null;
  return (
    <section className="access-page">
      <h1>{study.name}</h1>
      <StudyNav studyId={study.id} permissions={permissions} />
      <h2>Members</h2>
      <ul className="muted small">
        {ROLE_NAMES.map((role) => (
          <li key={role}>
            <strong>{role}</strong>: {ROLE_DESCRIPTIONS[role]}
          </li>
        ))}
      </ul>
      {succeeded?.notice ? (
        <p className="notice" role="status">
          {succeeded.notice}
        </p>
      ) : null}
      <FieldError id="member-error" messages={formErrors} />
      <table className="data-table compact">
        <thead>
          <tr>
            <th>Name</th>
            <th>Email</th>
            <th>Role</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {members.map((member) => (
            <tr key={member.userId}>
              <td>
                {member.displayName} {member.userId === me ? <span className="badge">you</span> : null}
              </td>
              <td>{member.email}</td>
              <td>
                <Form method="post" className="inline-form">
                  <input type="hidden" name="intent" value="change-role" />
                  <input type="hidden" name="userId" value={member.userId} />
                  <select name="role" defaultValue={member.role} aria-label={`Role of ${member.displayName}`}>
                    {ROLE_NAMES.map((role) => (
                      <option key={role} value={role}>
                        {role}
                      </option>
                    ))}
                  </select>
                  <button type="submit">Change</button>
                </Form>
              </td>
              <td>
                <Form method="post">
                  <input type="hidden" name="intent" value="remove-member" />
                  <input type="hidden" name="userId" value={member.userId} />
                  <button type="submit" aria-label={`Remove ${member.displayName}`}>
                    Remove
                  </button>
                </Form>
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      <h2>Invite a member</h2>
      <p className="muted">
        The link makes whoever opens it first a member with this role, with their account or a new one (no email is sent: pass the link on yourself).
        Annotators are invited on the <Link to={`/studies/${study.id}/annotators`}>Annotators</Link> page instead.
      </p>
      {succeeded?.link ? (
        <SecretOnce label="New invitation link" value={succeeded.link} hint="Copy it now: it is shown only once. It works once." />
      ) : null}
      <Form method="post" className="setup-form" noValidate>
        <fieldset>
          <legend>New invitation</legend>
          <input type="hidden" name="intent" value="create-invite" />
          <label htmlFor="role">Role</label>
          <select id="role" name="role" defaultValue="editor" required={createInvite.role?.required}>
            {ROLE_NAMES.map((role) => (
              <option key={role} value={role}>
                {role}
              </option>
            ))}
          </select>
          <FieldError id="role-error" messages={fieldErrors.role} />
          <Field name="expiresInDays" label="Expires after (days)" constraints={createInvite} errors={fieldErrors} input={{ defaultValue: 7 }} />
          <button type="submit" className="primary">
            Create invitation link
          </button>
        </fieldset>
      </Form>
      {invites.length > 0 ? (
        <table className="data-table compact">
          <thead>
            <tr>
              <th>Role</th>
              <th>Created</th>
              <th>Expires</th>
              <th>Status</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {invites.map((invite) => (
              <tr key={invite.id}>
                <td>{invite.role}</td>
                <td>{when(invite.createdAt)}</td>
                <td>{when(invite.expiresAt)}</td>
                <td>{STATE_LABELS[invite.state]}</td>
                <td>
                  {invite.state === "usable" ? (
                    <Form method="post">
                      <input type="hidden" name="intent" value="revoke-invite" />
                      <input type="hidden" name="inviteId" value={invite.id} />
                      <button type="submit">Revoke</button>
                    </Form>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <p>
        <Link to={`/studies/${study.id}/delete`} className="danger-link">
          Delete this study…
        </Link>
      </p>
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}
