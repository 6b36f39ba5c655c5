import { redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { requireUser } from "~/auth/require.server";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { Field, FieldError } from "~/components/field";
import { OfflineBanner } from "~/components/setup-fields";
import { JobStatus, usePollWhileJobsRun } from "~/components/job-status";
import { connection } from "~/db.server";
import { env } from "~/env.server";
import { isJobIntent, jobView, type JobView } from "~/jobs/job-view.server";
import { providerConfig } from "~/llm/runtime.server";
import { parseSetupFormFields } from "~/models/setup-parse.server";
import { newStudyFormSchema, readSetupForm } from "~/models/study-setup-forms.server";
import { applyStudyCreationIntentAs, createStudyAs, ownStudyCreationJob } from "~/services/studies.server";
import { formConstraints } from "~/utils/form-constraints";
import { errorsOf } from "~/utils/form-errors";
import { invalidField, invalidForm } from "~/utils/form-errors.server";
import { decimalId } from "~/utils/strict-fields";
import { SETUP_FORM_BODY_BYTES, type HttpRouteHandle } from "~/http/route-handle";

// Uploads: the server refuses a larger body with 413 before the action runs (app/http/route-policy.server.ts).
export const handle = { maxBodyBytes: SETUP_FORM_BODY_BYTES } satisfies HttpRouteHandle;

export const meta: MetaFunction = () => [{ title: "New study · promptduel" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const actor = await requireUser(request);
  const provider = providerConfig();
  // ?job=N: the study is being created by a background job; once it is done, its setup page.
  const jobParam = new URL(request.url).searchParams.get("job");
  const jobId = jobParam === null ? null : decimalId("").safeParse(jobParam);
  // Only the account that asked for the study sees it being created.
  const job = jobId?.success ? ownStudyCreationJob(actor, jobId.data) : undefined;
  if (job?.kind === "create-study" && job.state === "succeeded" && typeof job.result?.studyId === "number") {
    throw redirect(`/studies/${job.result.studyId}/setup`);
  }
  return {
    provider: provider ? { chatModel: provider.chatModel, baseURL: provider.baseURL ?? "https://api.openai.com/v1" } : null,
    defaultModel: env().OPENAI_CHAT_MODEL,
    constraints: formConstraints(newStudyFormSchema({ providerConfigured: provider !== null })),
    job: job?.kind === "create-study" ? jobView(job) : null,
  };
}

// The study is written by a background job (app/jobs, ADR 0010), after the owner confirms its figures
// when it would queue many responses or cost more than the threshold; this page then shows the job.
export async function action({ request }: ActionFunctionArgs) {
  const actor = await requireUser(request);
  const form = await readSetupForm(request);
  if ("errors" in form) return invalidForm(form.errors);
  if (isJobIntent(form.fields.intent)) {
    const applied = applyStudyCreationIntentAs(actor, form.fields);
    if (!applied.ok) return invalidField("jobId", applied.error);
    return form.fields.intent === "cancel-job" ? redirect("/studies/new") : redirect(`/studies/new?job=${String(form.fields.jobId)}`);
  }
  // A large upload is parsed on the parse thread, not here (ADR 0036); the plan is made there whatever the form's size (ADR 0043).
  const parsed = await parseSetupFormFields("new-study", { providerConfigured: providerConfig() !== null }, form.fields, {
    studyId: null,
    provider: providerConfig(),
    responseCap: env().RESPONSES_PER_STUDY_MAX,
    databasePath: connection().path,
  });
  if (!parsed.success) return invalidForm(parsed.errors);
  const study = parsed.data;
  const planned = parsed.planned;
  if (!planned) throw new Error("the new-study form came back without a plan");
  if ("capError" in planned) return invalidField("queriesText", planned.capError);
  const plan = planned.plan;
  const job = await createStudyAs(actor, study, plan);
  return redirect(`/studies/new?job=${job.id}`);
}

function describeCreated(result: Record<string, unknown>) {
  return `Study created with ${Number(result.promptsAdded ?? 0)} prompts and ${Number(result.queriesAdded ?? 0)} queries; ${Number(result.responsesQueued ?? 0)} responses queued.`;
}

function CreationJob({ job }: { job: JobView }) {
  usePollWhileJobsRun([job]);
  // A confirm, cancel or retry that was refused (the job moved on meanwhile) says why.
  const refused = errorsOf(useActionData<typeof action>()).fieldErrors.jobId;
  return (
    <section className="setup">
      <p>
        <Link to="/">← Studies</Link>
      </p>
      <h1>New study</h1>
      {refused ? (
        <p className="field-error" role="alert">
          {refused.join(" ")}
        </p>
      ) : null}
      <JobStatus job={job} title="Creating the study" describeResult={describeCreated} />
      {job.state === "failed" ? (
        <p>
          <Link to="/studies/new">Start again</Link>
        </p>
      ) : null}
    </section>
  );
}

export default function NewStudy() {
  const { job } = useLoaderData<typeof loader>();
  return job ? <CreationJob job={job} /> : <NewStudyForm />;
}

function NewStudyForm() {
  const { provider, defaultModel, constraints } = useLoaderData<typeof loader>();
  const { formErrors, fieldErrors } = errorsOf(useActionData<typeof action>());
  const form = { constraints, errors: fieldErrors };
  const busy = useNavigation().state === "submitting";

  return (
    <section className="setup">
      <p>
        <Link to="/">← Studies</Link>
      </p>
      <h1>New study</h1>
      {provider ? (
        <p className="muted">
          Responses and variants are generated through the LLM provider at {provider.baseURL} in the background; you can watch them on the next page.
        </p>
      ) : (
        <OfflineBanner />
      )}
      <Form method="post" encType="multipart/form-data" className="setup-form" noValidate>
        <FieldError id="form-error" messages={formErrors} />
        <fieldset>
          <legend>Study</legend>
          <Field name="name" label="Name" {...form} />
          <Field
            name="task"
            label="Task description"
            {...form}
            textarea
            input={{ rows: 3 }}
            hint="What the assistant is for; the variant generator keeps to it."
          />
        </fieldset>

        <fieldset>
          <legend>Model settings</legend>
          <div className="field-grid">
            <div className="stack">
              <Field name="model" label="Model" {...form} input={{ defaultValue: defaultModel }} />
            </div>
            <div className="stack">
              <Field name="temperature" label="Temperature" {...form} input={{ defaultValue: 0.7 }} />
            </div>
            <div className="stack">
              <Field name="maxTokens" label="Max tokens" {...form} input={{ defaultValue: 600 }} />
            </div>
            <div className="stack">
              <Field name="seed" label="Seed (optional)" {...form} input={{ placeholder: "provider default" }} />
            </div>
          </div>
        </fieldset>

        <fieldset>
          <legend>Queries</legend>
          <Field name="queriesText" label="Paste queries, one per line" {...form} textarea input={{ rows: 6 }} />
          <Field
            name="queriesFile"
            label="or upload a file"
            {...form}
            input={{ type: "file", accept: ".csv,.jsonl,.ndjson,.json,.txt" }}
            hint={
              <>
                CSV with a <code>text</code> column (optional <code>notes</code>, and <code>tags</code> as a quoted comma-separated list), JSONL lines
                like <code>{'{"text": "…", "tags": ["billing"]}'}</code>, or text with one query per line.
              </>
            }
          />
        </fieldset>

        <fieldset>
          <legend>Candidate prompts</legend>
          <Field
            name="promptsText"
            label="Paste prompts"
            {...form}
            textarea
            input={{ rows: 8 }}
            hint={
              <>
                Separate prompts with a line containing only <code>---</code>. Without any <code>---</code> line, a blank line separates them.
              </>
            }
          />
          <Field
            name="promptsFile"
            label="or upload a file"
            {...form}
            input={{ type: "file", accept: ".csv,.jsonl,.ndjson,.json,.txt,.md" }}
            hint={
              <>
                CSV with a <code>text</code> column (optional <code>label</code>), JSONL like <code>{'{"text": "…", "label": "…"}'}</code>, or text
                separated as above.
              </>
            }
          />

          <h3>Generate variants</h3>
          <Field name="seedPrompt" label="Seed prompt" {...form} textarea input={{ rows: 4 }} />
          <Field
            name="variantCount"
            label={`Number of variants to generate (${constraints.variantCount?.min}–${constraints.variantCount?.max})`}
            {...form}
            input={{ disabled: !provider, placeholder: provider ? "e.g. 5" : "needs a provider" }}
            hint="The LLM rewrites the seed prompt in different directions (shorter, more structured, warmer…); rewrites that repeat an existing prompt after normalising case and spacing are dropped. The seed joins the study too."
          />
        </fieldset>

        <fieldset>
          <legend>Pre-generated responses (optional)</legend>
          <Field
            name="responsesFile"
            label="Responses file (JSONL)"
            {...form}
            input={{ type: "file", accept: ".jsonl,.ndjson,.json" }}
            hint={
              <>
                One line per response: <code>{'{"prompt": "…", "query": "…", "response": "…"}'}</code>. Prompts and queries it names are added to the
                study. The whole file is imported or none of it.
              </>
            }
          />
        </fieldset>

        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Creating…" : "Create study"}
        </button>
      </Form>
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}
