import { z } from "zod";
import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { createAnnotator } from "~/models/user.server";
import { commitSession, getAnnotator, getSession } from "~/session.server";
import { JoinFormSchema } from "~/utils/forms";
import { safeRedirect } from "~/utils/safe-redirect";

export const meta: MetaFunction = () => [{ title: "Join · promptduel" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const redirectTo = safeRedirect(new URL(request.url).searchParams.get("redirectTo"));
  const annotator = await getAnnotator(request);
  if (annotator) throw redirect(redirectTo);
  return { redirectTo };
}

export async function action({ request }: ActionFunctionArgs) {
  const parsed = JoinFormSchema.safeParse(Object.fromEntries(await request.formData()));
  if (!parsed.success) {
    return data({ errors: z.flattenError(parsed.error).fieldErrors }, { status: 400 });
  }
  const redirectTo = safeRedirect(parsed.data.redirectTo);
  const user = createAnnotator(parsed.data.displayName);
  const session = await getSession(request);
  session.set("userId", user.id);
  return redirect(redirectTo, { headers: { "Set-Cookie": await commitSession(session) } });
}

export default function Join() {
  const { redirectTo } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const nameError = actionData?.errors.displayName?.[0];
  return (
    <section className="narrow">
      <h1>Who is annotating?</h1>
      <p>Your name is stored with each of your votes so the study owner can see who voted what.</p>
      {/* replace: the join page leaves the history, so Back from the study does not return here. */}
      <Form method="post" className="stack" replace>
        <input type="hidden" name="redirectTo" value={redirectTo} />
        <label htmlFor="displayName">Display name</label>
        <input
          id="displayName"
          name="displayName"
          autoComplete="nickname"
          required
          maxLength={60}
          aria-invalid={nameError ? true : undefined}
          aria-describedby={nameError ? "displayName-error" : undefined}
        />
        {nameError ? (
          <p id="displayName-error" className="field-error">
            {nameError}
          </p>
        ) : null}
        <button type="submit" className="primary">
          Continue
        </button>
      </Form>
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}
