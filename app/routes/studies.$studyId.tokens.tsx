import { data, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import { fieldErrors } from "~/auth/account-forms.server";
import { publicOrigin } from "~/auth/request-security.server";
import { requireStudyPermission } from "~/auth/require.server";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { SecretOnce, when } from "~/components/secret-link";
import { FieldError } from "~/components/setup-fields";
import { StudyNav } from "~/components/study-nav";
import { TokensFormSchema } from "~/models/access-forms.server";
import { listStudyApiTokens } from "~/models/api-token.server";
import { createApiTokenAs, revokeApiTokenAs } from "~/services/api-tokens.server";

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
  };
}

type ActionResult = { errors?: Record<string, string[] | undefined>; notice?: string; token?: string };

export async function action({ request, params }: ActionFunctionArgs) {
  const access = await requireStudyPermission(request, params.studyId, "study:manage");
  const parsed = TokensFormSchema.safeParse(Object.fromEntries(await request.formData()));
  if (!parsed.success) return data<ActionResult>({ errors: fieldErrors(parsed.error) }, { status: 400 });
  const form = parsed.data;
  if (form.intent === "create-token") {
    return data<ActionResult>({ token: createApiTokenAs(access, { name: form.name, scope: form.scope, expiresInDays: form.expiresInDays }).token });
  }
  return data<ActionResult>({
    notice: revokeApiTokenAs(access, form.tokenId) ? "Token revoked: it stops working at once." : "That token was revoked already.",
  });
}

export default function StudyTokens() {
  const { study, permissions, origin, tokens } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const errors = result?.errors ?? {};
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
      {result?.token ? (
        <SecretOnce label="New API token" value={result.token} hint="Copy it now: it is shown only once (only its hash is stored)." />
      ) : null}
      {result?.notice ? (
        <p className="notice" role="status">
          {result.notice}
        </p>
      ) : null}
      <Form method="post" className="setup-form" noValidate>
        <fieldset>
          <legend>New token</legend>
          <input type="hidden" name="intent" value="create-token" />
          <label htmlFor="name">Name</label>
          <input id="name" name="name" maxLength={80} placeholder="e.g. nightly export" required />
          <FieldError id="name-error" messages={errors.name} />
          <label htmlFor="scope">Scope</label>
          <select id="scope" name="scope" defaultValue="read">
            <option value="read">read: study and exports</option>
            <option value="write">write: also add prompts, queries, imports</option>
          </select>
          <FieldError id="scope-error" messages={errors.scope} />
          <label htmlFor="expiresInDays">Expires after (days, optional)</label>
          <input id="expiresInDays" name="expiresInDays" type="number" min={1} max={365} />
          <FieldError id="expiresInDays-error" messages={errors.expiresInDays} />
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
