import { type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import { publicOrigin } from "~/auth/request-security.server";
import { requireStudyPermission } from "~/auth/require.server";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { SecretOnce, when } from "~/components/secret-link";
import { Field, FieldError } from "~/components/field";
import { StudyNav } from "~/components/study-nav";
import { TokensFormSchema } from "~/models/access-forms.server";
import { listStudyApiTokens } from "~/models/api-token.server";
import { createApiTokenAs, revokeApiTokenAs } from "~/services/api-tokens.server";
import { formConstraints } from "~/utils/form-constraints";
import { errorsOf } from "~/utils/form-errors";
import { invalidForm } from "~/utils/form-errors.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `API tokens · ${data?.study.name ?? "promptduel"}` }];

// API tokens for scripts (the JSON API, the export CLI): scoped to this study, read or write; shown
// once, stored hashed; revocable; their last use is shown.
export async function loader({ request, params }: LoaderFunctionArgs) {
  const { study, permissions } = await requireStudyPermission(request, params.studyId, "study:manage");
  return {
    study: { id: study.id, name: study.name },
    permissions: [...permissions],
    origin: publicOrigin(request),
    tokens: listStudyApiTokens(study.id),
    createToken: formConstraints(TokensFormSchema, { intent: "create-token" }),
  };
}

type ActionResult = { ok: true; notice?: string; token?: string };

export async function action({ request, params }: ActionFunctionArgs) {
  const access = await requireStudyPermission(request, params.studyId, "study:manage");
  const parsed = TokensFormSchema.safeParse(Object.fromEntries(await request.formData()));
  if (!parsed.success) return invalidForm(parsed.error);
  const form = parsed.data;
  if (form.intent === "create-token") {
    const { token } = createApiTokenAs(access, { name: form.name, scope: form.scope, expiresInDays: form.expiresInDays });
    return { ok: true, token } satisfies ActionResult;
  }
  return {
    ok: true,
    notice: revokeApiTokenAs(access, form.tokenId) ? "Token revoked: it stops working at once." : "That token was revoked already.",
  } satisfies ActionResult;
}

export default function StudyTokens() {
  const { study, permissions, origin, tokens, createToken } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const form = { constraints: createToken, errors: errorsOf(result).fieldErrors };
  const succeeded = result?.ok ? result : null;
  return (
    <section className="access-page">
      <h1>{study.name}</h1>
      <StudyNav studyId={study.id} permissions={permissions} />
      <h2>API tokens</h2>
      <p className="muted">
        A token acts for you on this study only: <strong>read</strong> reads the study and downloads exports; <strong>write</strong> also adds prompts
        and queries and imports. No token can manage members, links or tokens, or annotate. Send it as{" "}
        <code>Authorization: Bearer &lt;token&gt;</code>, e.g.{" "}
        <code>
          npm run export -- --url {origin} --token &lt;token&gt; --study {study.id} --format trl --out prefs.jsonl
        </code>
        .
      </p>
      {succeeded?.token ? (
        <SecretOnce label="New API token" value={succeeded.token} hint="Copy it now: it is shown only once (only its hash is stored)." />
      ) : null}
      {succeeded?.notice ? (
        <p className="notice" role="status">
          {succeeded.notice}
        </p>
      ) : null}
      <Form method="post" className="setup-form" noValidate>
        <fieldset>
          <legend>New token</legend>
          <input type="hidden" name="intent" value="create-token" />
          <Field name="name" label="Name" {...form} input={{ placeholder: "e.g. nightly export" }} />
          <label htmlFor="scope">Scope</label>
          <select id="scope" name="scope" defaultValue="read" required={createToken.scope?.required}>
            <option value="read">read: study and exports</option>
            <option value="write">write: also add prompts, queries, imports</option>
          </select>
          <FieldError id="scope-error" messages={form.errors.scope} />
          <Field name="expiresInDays" label="Expires after (days, optional)" {...form} />
          <button type="submit" className="primary">
            Create token
          </button>
        </fieldset>
      </Form>
      {tokens.length > 0 ? (
        <table className="data-table compact">
          <thead>
            <tr>
              <th>Name</th>
              <th>Token</th>
              <th>Scope</th>
              <th>Created by</th>
              <th>Created</th>
              <th>Last used</th>
              <th>Expires</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {tokens.map((token) => (
              <tr key={token.id}>
                <td>{token.name}</td>
                <td>
                  <code>{token.prefix}…</code>
                </td>
                <td>{token.scope}</td>
                <td>{token.createdBy}</td>
                <td>{when(token.createdAt)}</td>
                <td>{token.lastUsedAt ? when(token.lastUsedAt) : "never"}</td>
                <td>{when(token.expiresAt)}</td>
                <td>
                  {token.revokedAt ? (
                    <span className="badge danger">revoked</span>
                  ) : (
                    <Form method="post">
                      <input type="hidden" name="intent" value="revoke-token" />
                      <input type="hidden" name="tokenId" value={token.id} />
                      <button type="submit" aria-label={`Revoke ${token.name}`}>
                        Revoke
                      </button>
                    </Form>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}
