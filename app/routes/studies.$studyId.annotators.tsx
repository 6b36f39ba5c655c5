import { type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { publicOrigin } from "~/auth/request-security.server";
import { requireStudyPermission } from "~/auth/require.server";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { SecretOnce, when } from "~/components/secret-link";
import { Field, fieldAttributes, FieldError } from "~/components/field";
import { StudyNav } from "~/components/study-nav";
import { AnnotatorsFormSchema } from "~/models/access-forms.server";
import { inviteState, listInvites } from "~/models/invite.server";
import { listStudyAnnotators } from "~/models/membership.server";
import { createAnnotatorInvite, revokeInviteAs } from "~/services/invites.server";
import { removeAnnotatorAs } from "~/services/members.server";
import { formConstraints } from "~/utils/form-constraints";
import { errorsOf } from "~/utils/form-errors";
import { invalidForm } from "~/utils/form-errors.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `Annotators · ${data?.study.name ?? "promptduel"}` }];

// Owners invite annotators by link (single use, a group, or open for a crowd; optional expiry),
// revoke links, and remove annotators (their votes stay, flagged).
export async function loader({ request, params }: LoaderFunctionArgs) {
  const { study, permissions } = await requireStudyPermission(request, params.studyId, "study:manage");
  const now = new Date();
  return {
    study: { id: study.id, name: study.name },
    permissions: [...permissions],
    invites: listInvites(study.id, "annotator").map((invite) => ({ ...invite, state: inviteState(invite, now) })),
    annotators: listStudyAnnotators(study.id),
    createInvite: formConstraints(AnnotatorsFormSchema, { intent: "create-invite" }),
  };
}

type ActionResult = { ok: true; notice?: string; link?: string };

export async function action({ request, params }: ActionFunctionArgs) {
  const access = await requireStudyPermission(request, params.studyId, "study:manage");
  const parsed = AnnotatorsFormSchema.safeParse(Object.fromEntries(await request.formData()));
  if (!parsed.success) return invalidForm(parsed.error);
  const form = parsed.data;
  switch (form.intent) {
    case "create-invite": {
      const invite = createAnnotatorInvite(access, { label: form.label, maxUses: form.maxUses, expiresInDays: form.expiresInDays });
      return { ok: true, link: `${publicOrigin(request)}/join/${invite.token}` } satisfies ActionResult;
    }
    case "revoke-invite":
      return {
        ok: true,
        notice: revokeInviteAs(access, form.inviteId) ? "Link revoked: nobody else can join through it." : "That link was revoked already.",
      } satisfies ActionResult;
    case "remove-annotator":
      return {
        ok: true,
        notice: removeAnnotatorAs(access, form.annotatorId)
          ? "Annotator removed. Their votes stay in the study, flagged."
          : "That annotator was removed already.",
      } satisfies ActionResult;
  }
}

const STATE_LABELS = { usable: "active", revoked: "revoked", expired: "expired", used_up: "full" } as const;

export default function StudyAnnotators() {
  const { study, permissions, invites, annotators, createInvite } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const errors = errorsOf(result).fieldErrors;
  const form = { constraints: createInvite, errors };
  const succeeded = result?.ok ? result : null;
  return (
    <section className="access-page">
      <h1>{study.name}</h1>
      <StudyNav studyId={study.id} permissions={permissions} />
      <h2>Invite annotators</h2>
      <p className="muted">
        Annotators need no account: whoever opens a link picks a display name and annotates this study only. They never see prompt texts, the
        dashboard or exports. To try it yourself as an annotator sees it, open a link in a private window (as an owner you can also annotate from the{" "}
        <Link to={`/studies/${study.id}/annotate`}>Annotate</Link> page, under your own name and not blind).
      </p>
      {succeeded?.link ? (
        <SecretOnce label="New invite link" value={succeeded.link} hint="Copy it now: it is shown only once (only its hash is stored)." />
      ) : null}
      {succeeded?.notice ? (
        <p className="notice" role="status">
          {succeeded.notice}
        </p>
      ) : null}
      <Form method="post" className="setup-form" noValidate>
        <fieldset>
          <legend>New link</legend>
          <input type="hidden" name="intent" value="create-invite" />
          <Field name="label" label="Label (for you, optional)" {...form} input={{ placeholder: "e.g. pilot group" }} />
          <fieldset className="choice-group">
            <legend>Who may join</legend>
            <label>
              <input type="radio" name="limit" value="one" defaultChecked /> One person (single use)
            </label>
            <label>
              <input type="radio" name="limit" value="several" /> Up to{" "}
              <input {...fieldAttributes("maxUses", form)} aria-label="Maximum number of annotators" className="inline-number" /> annotators
            </label>
            <label>
              <input type="radio" name="limit" value="open" /> Anyone with the link (an open link for a crowd)
            </label>
          </fieldset>
          <FieldError id="maxUses-error" messages={errors.maxUses ?? errors.limit} />
          <Field name="expiresInDays" label="Expires after (days, optional)" {...form} />
          <button type="submit" className="primary">
            Create link
          </button>
        </fieldset>
      </Form>

      <h2>Links</h2>
      {invites.length === 0 ? (
        <p className="muted">No links yet.</p>
      ) : (
        <table className="data-table compact">
          <thead>
            <tr>
              <th>Label</th>
              <th>Created</th>
              <th className="num">Joined</th>
              <th>Expires</th>
              <th>Status</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {invites.map((invite) => (
              <tr key={invite.id}>
                <td>{invite.label ?? <span className="muted">#{invite.id}</span>}</td>
                <td>{when(invite.createdAt)}</td>
                <td className="num">
                  {invite.uses} / {invite.maxUses ?? "∞"}
                </td>
                <td>{when(invite.expiresAt)}</td>
                <td>{STATE_LABELS[invite.state]}</td>
                <td>
                  {invite.revokedAt === null ? (
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
      )}

      <h2>Annotators</h2>
      <p className="muted">
        Whom to trust (side bias, speed, agreement), and excluding an annotator&apos;s votes from the leaderboard: the{" "}
        <Link to={`/studies/${study.id}/quality`}>Annotator quality</Link> page.
      </p>
      {annotators.length === 0 ? (
        <p className="muted">Nobody has joined yet.</p>
      ) : (
        <table className="data-table compact">
          <thead>
            <tr>
              <th>Annotator</th>
              <th>Joined through</th>
              <th>Joined</th>
              <th className="num">Votes</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {annotators.map((annotator) => (
              <tr key={annotator.annotatorId}>
                <td>
                  {annotator.displayName} {annotator.removedAt ? <span className="badge danger">removed</span> : null}
                </td>
                <td>
                  {annotator.memberUserId !== null
                    ? "study member"
                    : annotator.inviteId === null
                      ? "imported log"
                      : (annotator.inviteLabel ?? `link #${annotator.inviteId}`)}
                </td>
                <td>{when(annotator.joinedAt)}</td>
                <td className="num">{annotator.votes}</td>
                <td>
                  {annotator.removedAt === null && annotator.memberUserId === null && annotator.inviteId !== null ? (
                    <Form method="post">
                      <input type="hidden" name="intent" value="remove-annotator" />
                      <input type="hidden" name="annotatorId" value={annotator.annotatorId} />
                      <button type="submit" aria-label={`Remove ${annotator.displayName}`}>
                        Remove
                      </button>
                    </Form>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}
