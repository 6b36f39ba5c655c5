import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { requireUser } from "~/auth/require.server";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { OfflineBanner, FieldError } from "~/components/setup-fields";
import { JobStatus, usePollWhileJobsRun } from "~/components/job-status";
import { connection } from "~/db.server";
import { env } from "~/env.server";
import { isJobIntent, jobView, type JobView } from "~/jobs/job-view.server";
import { providerConfig } from "~/llm/runtime.server";
import { MAX_VARIANTS_PER_REQUEST } from "~/llm/variants.server";
import { parseSetupFormFields } from "~/models/setup-parse.server";
import { readSetupForm } from "~/models/study-setup-forms.server";
import { applyStudyCreationIntentAs, createStudyAs, ownStudyCreationJob } from "~/services/studies.server";
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
    maxVariants: MAX_VARIANTS_PER_REQUEST,
    job: job?.kind === "create-study" ? jobView(job) : null,
  };
}

type FieldErrors = Record<string, string[] | undefined>;

// The study is written by a background job (app/jobs, ADR 0010), after the owner confirms its figures
// when it would queue many responses or cost more than the threshold; this page then shows the job.
export async function action({ request }: ActionFunctionArgs) {
  const actor = await requireUser(request);
  const form = await readSetupForm(request);
  if ("errors" in form) return data<{ errors: FieldErrors }>({ errors: form.errors }, { status: 400 });
  if (isJobIntent(form.fields.intent)) {
    const applied = applyStudyCreationIntentAs(actor, form.fields);
    if (!applied.ok) return data<{ errors: FieldErrors }>({ errors: { jobId: [applied.error] } }, { status: 400 });
    return form.fields.intent === "cancel-job" ? redirect("/studies/new") : redirect(`/studies/new?job=${String(form.fields.jobId)}`);
  }
  // A large upload is parsed on the parse thread, not here (ADR 0036); the plan is made there whatever the form's size (ADR 0043).
  const parsed = await parseSetupFormFields("new-study", { providerConfigured: providerConfig() !== null }, form.fields, {
    studyId: null,
    provider: providerConfig(),
    responseCap: env().RESPONSES_PER_STUDY_MAX,
    databasePath: connection().path,
  });
  if (!parsed.success) return data<{ errors: FieldErrors }>({ errors: parsed.fieldErrors }, { status: 400 });
  const study = parsed.data;
  const planned = parsed.planned;
  if (!planned) throw new Error("the new-study form came back without a plan");
  if ("capError" in planned) return data<{ errors: FieldErrors }>({ errors: { queriesText: [planned.capError] } }, { status: 400 });
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
  const refused = useActionData<typeof action>()?.errors.jobId;
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
  const { provider, defaultModel, maxVariants } = useLoaderData<typeof loader>();
  const errors = useActionData<typeof action>()?.errors ?? {};
  const busy = useNavigation().state === "submitting";
  const invalid = (field: string) => (errors[field] ? { "aria-invalid": true, "aria-describedby": `${field}-error` } : {});

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
        <fieldset>
          <legend>Study</legend>
          <label htmlFor="name">Name</label>
          <input id="name" name="name" required maxLength={120} {...invalid("name")} />
          <FieldError id="name-error" messages={errors.name} />
          <label htmlFor="task">Task description</label>
          <textarea id="task" name="task" rows={3} required maxLength={4000} {...invalid("task")} />
          <p className="hint">What the assistant is for; the variant generator keeps to it.</p>
          <FieldError id="task-error" messages={errors.task} />
        </fieldset>

        <fieldset>
          <legend>Model settings</legend>
          <div className="field-grid">
            <div className="stack">
              <label htmlFor="model">Model</label>
              <input id="model" name="model" defaultValue={defaultModel} required {...invalid("model")} />
              <FieldError id="model-error" messages={errors.model} />
            </div>
            <div className="stack">
              <label htmlFor="temperature">Temperature</label>
              <input id="temperature" name="temperature" type="number" min={0} max={2} step={0.1} defaultValue={0.7} {...invalid("temperature")} />
              <FieldError id="temperature-error" messages={errors.temperature} />
            </div>
            <div className="stack">
              <label htmlFor="maxTokens">Max tokens</label>
              <input id="maxTokens" name="maxTokens" type="number" min={1} max={32768} defaultValue={600} {...invalid("maxTokens")} />
              <FieldError id="maxTokens-error" messages={errors.maxTokens} />
            </div>
            <div className="stack">
              <label htmlFor="seed">Seed (optional)</label>
              <input id="seed" name="seed" type="number" min={0} placeholder="provider default" {...invalid("seed")} />
              <FieldError id="seed-error" messages={errors.seed} />
            </div>
          </div>
        </fieldset>

        <fieldset>
          <legend>Queries</legend>
          <label htmlFor="queriesText">Paste queries, one per line</label>
          <textarea id="queriesText" name="queriesText" rows={6} {...invalid("queriesText")} />
          <FieldError id="queriesText-error" messages={errors.queriesText} />
          <label htmlFor="queriesFile">or upload a file</label>
          <input id="queriesFile" name="queriesFile" type="file" accept=".csv,.jsonl,.ndjson,.json,.txt" {...invalid("queriesFile")} />
          <p className="hint">
            CSV with a <code>text</code> column (optional <code>notes</code>, and <code>tags</code> as a quoted comma-separated list), JSONL lines
            like <code>{'{"text": "…", "tags": ["billing"]}'}</code>, or text with one query per line.
          </p>
          <FieldError id="queriesFile-error" messages={errors.queriesFile} />
        </fieldset>

        <fieldset>
          <legend>Candidate prompts</legend>
          <label htmlFor="promptsText">Paste prompts</label>
          <textarea id="promptsText" name="promptsText" rows={8} {...invalid("promptsText")} />
          <p className="hint">
            Separate prompts with a line containing only <code>---</code>. Without any <code>---</code> line, a blank line separates them.
          </p>
          <FieldError id="promptsText-error" messages={errors.promptsText} />
          <label htmlFor="promptsFile">or upload a file</label>
          <input id="promptsFile" name="promptsFile" type="file" accept=".csv,.jsonl,.ndjson,.json,.txt,.md" {...invalid("promptsFile")} />
          <p className="hint">
            CSV with a <code>text</code> column (optional <code>label</code>), JSONL like <code>{'{"text": "…", "label": "…"}'}</code>, or text
            separated as above.
          </p>
          <FieldError id="promptsFile-error" messages={errors.promptsFile} />

          <h3>Generate variants</h3>
          <label htmlFor="seedPrompt">Seed prompt</label>
          <textarea id="seedPrompt" name="seedPrompt" rows={4} {...invalid("seedPrompt")} />
          <FieldError id="seedPrompt-error" messages={errors.seedPrompt} />
          <label htmlFor="variantCount">Number of variants to generate (1–{maxVariants})</label>
          <input
            id="variantCount"
            name="variantCount"
            type="number"
            min={1}
            max={maxVariants}
            disabled={!provider}
            placeholder={provider ? "e.g. 5" : "needs a provider"}
            {...invalid("variantCount")}
          />
          <p className="hint">
            The LLM rewrites the seed prompt in different directions (shorter, more structured, warmer…); rewrites that repeat an existing prompt
            after normalising case and spacing are dropped. The seed joins the study too.
          </p>
          <FieldError id="variantCount-error" messages={errors.variantCount} />
        </fieldset>

        <fieldset>
          <legend>Pre-generated responses (optional)</legend>
          <label htmlFor="responsesFile">Responses file (JSONL)</label>
          <input id="responsesFile" name="responsesFile" type="file" accept=".jsonl,.ndjson,.json" {...invalid("responsesFile")} />
          <p className="hint">
            One line per response: <code>{'{"prompt": "…", "query": "…", "response": "…"}'}</code>. Prompts and queries it names are added to the
            study. The whole file is imported or none of it.
          </p>
          <FieldError id="responsesFile-error" messages={errors.responsesFile} />
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
