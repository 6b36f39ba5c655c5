import { type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { requireStudyPermission } from "~/auth/require.server";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { GenerationProgress } from "~/components/generation-progress";
import { Field, FieldError } from "~/components/field";
import { OfflineBanner, PasteOrUploadForm } from "~/components/setup-fields";
import { JobStatus, usePollWhileJobsRun } from "~/components/job-status";
import { connection, db } from "~/db.server";
import { env } from "~/env.server";
import { isJobIntent, jobView } from "~/jobs/job-view.server";
import { studyJobs } from "~/jobs/jobs.server";
import { generationStatus, providerConfig } from "~/llm/runtime.server";
import { GrowFormSchema, listGrowthRounds } from "~/llm/growth.server";
import { promptsInSelection, RetirementFormSchema } from "~/models/retirement.server";
import { LineageView } from "~/components/lineage-view";
// Automatic rounds (issue 17 §3): their own section, form schema and service.
import { AutoRoundsPanel } from "~/components/auto-rounds-panel";
import { AutoRoundsFormSchema, listAutoRounds } from "~/llm/auto-rounds.server";
import { updateAutoRoundsAs } from "~/services/auto-rounds.server";
import { parseSetupFormFields } from "~/models/setup-parse.server";
import { readSetupForm, studySetupFormSchema } from "~/models/study-setup-forms.server";
import { countStudyQueries, listStudyPrompts, listStudyQueries } from "~/models/study-setup.server";
import {
  applyJobIntentAs,
  growPoolAs,
  queueAdditionAs,
  queueResponsesImportAs,
  requestVariantsAs,
  retryFailedAs,
  setItemActiveAs,
  updateGuidanceAs,
  updateRetirementAs,
} from "~/services/studies.server";
import { SETUP_FORM_BODY_BYTES, type HttpRouteHandle } from "~/http/route-handle";
import { JudgeBatchForm, JudgeSettingsForm } from "~/components/judge-panel";
import { judgeSettingsView } from "~/models/judge-view.server";
import { formConstraints } from "~/utils/form-constraints";
import { errorsOf } from "~/utils/form-errors";
import { invalidField, invalidForm } from "~/utils/form-errors.server";

// Uploads: the server refuses a larger body with 413 before the action runs (app/http/route-policy.server.ts).
export const handle = { maxBodyBytes: SETUP_FORM_BODY_BYTES } satisfies HttpRouteHandle;

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `Setup · ${data?.study.name ?? "promptduel"}` }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const { study, permissions } = await requireStudyPermission(request, params.studyId, "study:edit");
  return {
    // The LLM judge's section (issue 17 §4): owners only, as whether its votes count is theirs to say.
    judge: permissions.has("study:manage") ? judgeSettingsView(db(), study) : null,
    study: {
      id: study.id,
      name: study.name,
      model: study.model,
      temperature: study.temperature,
      maxTokens: study.maxTokens,
      seed: study.seed,
      guidelines: study.guidelines,
      annotatorGoal: study.annotatorGoal,
      revealWinner: study.revealWinner,
      closeOnConvergence: study.closeOnConvergence,
      retireMinComparisons: study.retireMinComparisons,
      retireMargin: study.retireMargin,
      poolCap: study.poolCap,
    },
    autoRounds: {
      settings: {
        autoRoundEvery: study.autoRoundEvery,
        autoRoundCount: study.autoRoundCount,
        autoRoundParents: study.autoRoundParents,
        autoRoundStableVotes: study.autoRoundStableVotes,
        autoRoundMaxRounds: study.autoRoundMaxRounds,
        autoRoundMaxPrompts: study.autoRoundMaxPrompts,
        autoRoundMaxCostUsd: study.autoRoundMaxCostUsd,
        autoRoundsStoppedAt: study.autoRoundsStoppedAt,
        autoRoundsStopReason: study.autoRoundsStopReason,
      },
      log: listAutoRounds(db(), study.id),
    },
    inSelection: promptsInSelection(db(), study.id),
    growthRounds: listGrowthRounds(db(), study.id).map(({ requestedBy: _requestedBy, ...round }) => round),
    forms: setupFormConstraints(providerConfig() !== null),
    providerConfigured: providerConfig() !== null,
    status: generationStatus(study.id),
    prompts: listStudyPrompts(db(), study.id),
    queryCount: countStudyQueries(db(), study.id),
    queries: listStudyQueries(db(), study.id, QUERIES_LISTED),
    jobs: studyJobs(db(), study.id, ["add-to-study", "import-responses"]).map(jobView),
  };
}

// The setup page lists this many queries; a study can have far more.
const QUERIES_LISTED = 500;

/** The input constraints of the page's forms, from the schemas the action parses them with (ADR 0040). */
function setupFormConstraints(providerConfigured: boolean) {
  const setup = studySetupFormSchema({ providerConfigured });
  return {
    addPrompts: formConstraints(setup, { intent: "add-prompts" }),
    addQueries: formConstraints(setup, { intent: "add-queries" }),
    variants: formConstraints(setup, { intent: "generate-variants" }),
    guidance: formConstraints(setup, { intent: "update-guidance" }),
    importResponses: formConstraints(setup, { intent: "import-responses" }),
    growth: formConstraints(GrowFormSchema),
    retirement: formConstraints(RetirementFormSchema),
    autoRounds: formConstraints(AutoRoundsFormSchema),
  };
}

type ActionResult = {
  ok: true;
  intent: string;
  notice?: string;
  confirmGrowth?: { count: number; parents: number; description: string };
};

function plural(count: number, noun: string): string {
  if (count === 1) return `1 ${noun}`;
  return `${count.toLocaleString("en")} ${noun.endsWith("y") ? `${noun.slice(0, -1)}ies` : `${noun}s`}`;
}

// Additions and imports run as background jobs (app/jobs, ADR 0010); one that would queue many
// responses, or cost more than the threshold, waits for the owner to confirm its figures first.
export async function action({ request, params }: ActionFunctionArgs) {
  const access = await requireStudyPermission(request, params.studyId, "study:edit");
  const { study } = access;
  const form = await readSetupForm(request);
  const intent = "fields" in form && typeof form.fields.intent === "string" ? form.fields.intent : "";
  const refuse = (field: string, message: string) => invalidField(field, message, { intent });
  const succeed = (result: Omit<ActionResult, "ok" | "intent">): ActionResult => ({ ok: true, intent, ...result });
  if ("errors" in form) return invalidForm(form.errors, { intent });
  if (isJobIntent(intent)) {
    const applied = applyJobIntentAs(access, form.fields);
    return applied.ok ? succeed({ notice: applied.notice }) : refuse("jobId", applied.error);
  }
  if (intent === "grow-pool") {
    const grow = GrowFormSchema.safeParse(form.fields);
    if (!grow.success) return invalidForm(grow.error, { intent });
    const { growthCount: count, growthParents: parents } = grow.data;
    const grown = growPoolAs(access, { count, parents, confirmed: grow.data.confirmed === "yes" });
    if (grown.ok) {
      return succeed({
        notice: `Growing the pool by ${plural(count, "prompt")} from prompts #${grown.parents.join(", #")} (round #${grown.roundId}).`,
      });
    }
    if ("confirm" in grown) return succeed({ confirmGrowth: { count, parents, description: grown.description } });
    return refuse("growthCount", grown.error);
  }
  if (intent === "retirement-settings") {
    const { intent: _intent, ...fields } = form.fields;
    const settings = RetirementFormSchema.safeParse(fields);
    if (!settings.success) return invalidForm(settings.error, { intent });
    updateRetirementAs(access, settings.data);
    return succeed({
      notice:
        settings.data.retireMinComparisons === null
          ? "Saved: the retirement rule is off."
          : `Saved: a prompt with at least ${settings.data.retireMinComparisons} comparisons is retired when its upper bound is below the leader's lower bound by more than ${settings.data.retireMargin}.`,
    });
  }
  if (intent === "auto-rounds") {
    const { intent: _intent, ...fields } = form.fields;
    const settings = AutoRoundsFormSchema.safeParse(fields);
    if (!settings.success) return invalidForm(settings.error, { intent });
    const refused = updateAutoRoundsAs(access, settings.data);
    if (refused) return refuse("autoRoundEvery", refused);
    const every = settings.data.autoRoundEvery;
    return succeed({
      notice:
        every === null
          ? "Saved: automatic rounds are off."
          : `Saved: every ${every} decisive votes with a stable leader, ${plural(settings.data.autoRoundCount, "new prompt")} from the top ${settings.data.autoRoundParents}, at most ${plural(settings.data.autoRoundMaxRounds, "round")}.`,
    });
  }
  // A large upload (100,000 queries) is parsed on the parse thread, not here (ADR 0036); the plan of
  // an addition is made there whatever the form's size (ADR 0043).
  const parsed = await parseSetupFormFields("setup", { providerConfigured: providerConfig() !== null }, form.fields, {
    studyId: study.id,
    provider: providerConfig(),
    responseCap: env().RESPONSES_PER_STUDY_MAX,
    databasePath: connection().path,
  });
  if (!parsed.success) return invalidForm(parsed.errors, { intent });

  const input = parsed.data;
  let notice: string;
  switch (input.intent) {
    case "add-queries":
    case "add-prompts": {
      const additions = {
        prompts: input.intent === "add-prompts" ? input.prompts : [],
        queries: input.intent === "add-queries" ? input.queries : [],
      };
      const planned = parsed.planned;
      if (!planned) throw new Error("the setup form's addition came back without a plan");
      if ("capError" in planned) return refuse(input.intent === "add-prompts" ? "promptsText" : "queriesText", planned.capError);
      const plan = planned.plan;
      const { job, confirm } = await queueAdditionAs(access, additions, plan);
      const what = input.intent === "add-prompts" ? plural(additions.prompts.length, "prompt") : plural(additions.queries.length, "query");
      notice = confirm ? `Adding ${what} waits for your confirmation below (job #${job.id}).` : `Adding ${what} (job #${job.id}).`;
      break;
    }
    case "generate-variants":
      if (!requestVariantsAs(access, { seedPromptId: input.seedPromptId, count: input.count })) {
        return refuse("seedPromptId", "Choose a prompt of this study");
      }
      notice = `Writing ${plural(input.count, "variant")} of prompt #${input.seedPromptId}.`;
      break;
    case "import-responses": {
      const job = await queueResponsesImportAs(access, input.responses);
      notice = `Importing ${plural(input.responses.length, "response")} (job #${job.id}).`;
      break;
    }
    case "update-guidance": {
      const { intent: _intent, ...guidance } = input;
      updateGuidanceAs(access, guidance);
      notice = "Saved what annotators see.";
      break;
    }
    case "set-active": {
      if (!setItemActiveAs(access, input)) return refuse("id", `No ${input.kind} #${input.id} in this study`);
      notice = `${input.kind === "prompt" ? "Prompt" : "Query"} #${input.id} ${input.active ? "back in selection" : "disabled: it leaves pair selection and the engine; its votes stay"}.`;
      break;
    }
    case "retry-failed": {
      const retried = retryFailedAs(access);
      notice = `Retrying ${retried} failed item${retried === 1 ? "" : "s"}.`;
      break;
    }
  }
  return { ok: true, intent: input.intent, notice } satisfies ActionResult;
}

function describeSetupJob(result: Record<string, unknown>) {
  const n = (key: string) => Number(result[key] ?? 0);
  if ("responsesImported" in result) return `Imported ${plural(n("responsesImported"), "response")}.`;
  const duplicates = n("promptDuplicates") + n("queryDuplicates");
  const added = n("promptsAdded") > 0 || n("queriesAdded") === 0 ? plural(n("promptsAdded"), "prompt") : plural(n("queriesAdded"), "query");
  return `Added ${added}${duplicates > 0 ? ` (${duplicates} already in the study)` : ""}; ${plural(n("responsesQueued"), "response")} queued.`;
}

const SOURCE_LABELS = { manual: "pasted", imported: "imported", generated: "generated", mutated: "mutated" } as const;

export default function StudySetup() {
  const { study, providerConfigured, status, prompts, queries, queryCount, jobs, growthRounds, inSelection, forms, judge, autoRounds } =
    useLoaderData<typeof loader>();
  usePollWhileJobsRun(jobs);
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  const submittingIntent = navigation.state === "submitting" ? navigation.formData?.get("intent") : null;
  // An oversized upload is refused before the form's intent is read (intent ""); its error names the
  // file field, and file fields are unique across the forms, so it shows on the right one.
  const errorsFor = (intent: string) => errorsOf(result, intent).fieldErrors;
  const succeeded = result?.ok ? result : null;
  // A refused job action (confirm, cancel, retry) and a form that could not be read belong to no form below.
  const jobRefusal = result && !result.ok ? [...result.formErrors, ...(result.fieldErrors.jobId ?? [])] : [];

  return (
    <section className="setup">
      <p>
        <Link to={`/studies/${study.id}`}>← {study.name}</Link>
      </p>
      <div className="title-row">
        <h1>Setup &amp; generation</h1>
        <Link className="button primary" to={`/studies/${study.id}/annotate`}>
          Annotate this study
        </Link>
      </div>
      <p className="muted">
        Model <strong>{study.model}</strong>, temperature {study.temperature}, max tokens {study.maxTokens}
        {study.seed === null ? "" : `, seed ${study.seed}`} · {plural(prompts.length, "prompt")} × {plural(queryCount, "query")}
      </p>
      {providerConfigured ? null : <OfflineBanner />}
      {succeeded?.notice ? (
        <p className="notice" role="status">
          {succeeded.notice}
        </p>
      ) : null}

      {jobs.map((job) => (
        <JobStatus
          key={job.id}
          job={job}
          title={job.kind === "import-responses" ? "Import of responses" : "Addition"}
          describeResult={describeSetupJob}
        />
      ))}
      {jobRefusal.length > 0 ? (
        <p className="field-error" role="alert">
          {jobRefusal.join(" ")}
        </p>
      ) : null}

      <GenerationProgress studyId={study.id} initial={status} />

      <Form method="post" className="setup-form guidance-form" noValidate>
        <fieldset>
          <legend>What annotators see</legend>
          <Field
            name="guidelines"
            label="Guidelines (markdown)"
            constraints={forms.guidance}
            errors={errorsFor("update-guidance")}
            textarea
            input={{
              rows: 5,
              defaultValue: study.guidelines ?? "",
              placeholder: "What makes an answer better here? e.g.\n- Prefer correct over friendly\n- Penalise made-up policies",
            }}
            hint="Shown with the study's task on the annotate page: open on an annotator's first visit, one click away afterwards."
          />
          <Field
            name="annotatorGoal"
            label="Goal: votes per annotator (optional)"
            constraints={forms.guidance}
            errors={errorsFor("update-guidance")}
            input={{ defaultValue: study.annotatorGoal ?? "" }}
          />
          <label className="checkbox">
            <input type="checkbox" name="revealWinner" defaultChecked={study.revealWinner} /> After each vote, reveal which prompts A and B were
            (their labels, never their texts). Off by default: knowing can bias later votes.
          </label>
          <label className="checkbox">
            <input type="checkbox" name="closeOnConvergence" defaultChecked={study.closeOnConvergence} /> Close the study when the stopping rule says
            it has converged (annotators then see &ldquo;this study is complete&rdquo;).
          </label>
          <button type="submit" name="intent" value="update-guidance" disabled={submittingIntent === "update-guidance"}>
            Save what annotators see
          </button>
        </fieldset>
      </Form>

      <div className="setup-columns">
        <PasteOrUploadForm
          intent="add-prompts"
          field="prompts"
          legend="Add prompts"
          pasteLabel="Paste prompts"
          pasteHint={
            <>
              Separate prompts with a line containing only <code>---</code>; without one, a blank line separates them.
            </>
          }
          accept=".csv,.jsonl,.ndjson,.json,.txt,.md"
          constraints={forms.addPrompts}
          errors={errorsFor("add-prompts")}
          submitting={submittingIntent === "add-prompts"}
        />
        <PasteOrUploadForm
          intent="add-queries"
          field="queries"
          legend="Add queries"
          pasteLabel="Paste queries, one per line"
          accept=".csv,.jsonl,.ndjson,.json,.txt"
          constraints={forms.addQueries}
          errors={errorsFor("add-queries")}
          submitting={submittingIntent === "add-queries"}
        />

        <Form method="post" className="setup-form" noValidate>
          <fieldset disabled={!providerConfigured}>
            <legend>Generate variants</legend>
            <label htmlFor="seedPromptId">Seed prompt</label>
            <select id="seedPromptId" name="seedPromptId" required={forms.variants.seedPromptId?.required}>
              {prompts.map((prompt) => (
                <option key={prompt.id} value={prompt.id}>
                  #{prompt.id} {prompt.label ? `${prompt.label}: ` : ""}
                  {prompt.text.length > 70 ? `${prompt.text.slice(0, 67)}…` : prompt.text}
                </option>
              ))}
            </select>
            <FieldError id="seedPromptId-error" messages={errorsFor("generate-variants").seedPromptId} />
            <Field
              name="variantCount"
              label={`How many (${forms.variants.variantCount?.min}–${forms.variants.variantCount?.max})`}
              constraints={forms.variants}
              errors={errorsFor("generate-variants")}
              input={{ defaultValue: 3 }}
            />
            <button type="submit" name="intent" value="generate-variants" disabled={submittingIntent === "generate-variants"}>
              Generate variants
            </button>
            {providerConfigured ? null : <p className="hint">Needs an LLM provider.</p>}
          </fieldset>
        </Form>

        <Form method="post" className="setup-form" noValidate aria-label="Grow the pool">
          <fieldset disabled={!providerConfigured}>
            <legend>Grow the pool</legend>
            <p className="hint">
              Asks the LLM for new prompts that improve on the leaders, showing it their records and what annotators wrote about the answers they lost
              or found both bad. New prompts get responses for every enabled query and join the running engine. {inSelection} prompts in selection
              {study.poolCap === null ? "" : ` (cap ${study.poolCap})`}.
            </p>
            <Field
              name="growthCount"
              label={`New prompts (${forms.growth.growthCount?.min}–${forms.growth.growthCount?.max})`}
              constraints={forms.growth}
              errors={errorsFor("grow-pool")}
              input={{ defaultValue: 3 }}
            />
            <Field
              name="growthParents"
              label={`From the top (${forms.growth.growthParents?.min}–${forms.growth.growthParents?.max} leaders)`}
              constraints={forms.growth}
              errors={errorsFor("grow-pool")}
              input={{ defaultValue: 3 }}
            />
            <button type="submit" name="intent" value="grow-pool" disabled={submittingIntent === "grow-pool"}>
              Grow the pool
            </button>
            {providerConfigured ? null : <p className="hint">Needs an LLM provider.</p>}
          </fieldset>
        </Form>
        {succeeded?.confirmGrowth ? (
          <Form method="post" className="setup-form confirm-growth" aria-label="Confirm the growth round">
            <p role="alert">{succeeded.confirmGrowth.description} Confirm to spend this.</p>
            <input type="hidden" name="growthCount" value={succeeded.confirmGrowth.count} />
            <input type="hidden" name="growthParents" value={succeeded.confirmGrowth.parents} />
            <input type="hidden" name="confirmed" value="yes" />
            <button type="submit" name="intent" value="grow-pool" className="primary">
              Confirm and grow by {succeeded.confirmGrowth.count}
            </button>
          </Form>
        ) : null}

        <Form method="post" className="setup-form" noValidate aria-label="Retirement rule">
          <fieldset>
            <legend>Retire what the votes rule out</legend>
            <p className="hint">
              After each engine update, a prompt with at least the minimum comparisons whose 95% upper bound (Bradley–Terry, bootstrap) is below the
              leader&apos;s lower bound by more than the margin leaves selection; its votes stay, and you can bring it back. Empty: off.
            </p>
            <Field
              name="retireMinComparisons"
              label="Minimum comparisons"
              constraints={forms.retirement}
              errors={errorsFor("retirement-settings")}
              input={{ defaultValue: study.retireMinComparisons ?? "" }}
            />
            <Field
              name="retireMargin"
              label="Margin (score units)"
              constraints={forms.retirement}
              errors={errorsFor("retirement-settings")}
              input={{ defaultValue: study.retireMargin }}
            />
            <Field
              name="poolCap"
              label="Pool cap: prompts in selection (empty: none)"
              constraints={forms.retirement}
              errors={errorsFor("retirement-settings")}
              input={{ defaultValue: study.poolCap ?? "" }}
            />
            <button type="submit" name="intent" value="retirement-settings" disabled={submittingIntent === "retirement-settings"}>
              Save the retirement rule
            </button>
          </fieldset>
        </Form>

        {judge ? (
          <>
            <JudgeSettingsForm
              studyId={study.id}
              settings={judge.settings}
              saved={judge.saved}
              providerConfigured={judge.providerConfigured}
              constraints={judge.forms.settings}
              errors={{}}
            />
            <JudgeBatchForm studyId={study.id} enabled={judge.saved && judge.providerConfigured} constraints={judge.forms.batch} errors={{}} />
          </>
        ) : null}
        <AutoRoundsPanel
          settings={autoRounds.settings}
          log={autoRounds.log}
          providerConfigured={providerConfigured}
          constraints={forms.autoRounds}
          errors={errorsFor("auto-rounds")}
          submitting={submittingIntent === "auto-rounds"}
        />

        <Form method="post" encType="multipart/form-data" className="setup-form" noValidate>
          <fieldset>
            <legend>Import responses</legend>
            <Field
              name="responsesFile"
              label="Responses file (JSONL)"
              constraints={forms.importResponses}
              errors={errorsFor("import-responses")}
              input={{ type: "file", accept: ".jsonl,.ndjson,.json" }}
              hint={
                <>
                  Lines like <code>{'{"prompt": "…", "query": "…", "response": "…"}'}</code>, or <code>prompt_id</code> / <code>query_id</code>{" "}
                  instead of the texts. All lines or none; an imported response replaces a queued or failed one.
                </>
              }
            />
            <button type="submit" name="intent" value="import-responses" disabled={submittingIntent === "import-responses"}>
              Import responses
            </button>
          </fieldset>
        </Form>
      </div>

      <h2>Prompts</h2>
      <table className="data-table" aria-label="Prompts">
        <thead>
          <tr>
            <th>#</th>
            <th>Prompt</th>
            <th>Source</th>
            <th>Embedding</th>
            <th>In the study</th>
          </tr>
        </thead>
        <tbody>
          {prompts.map((prompt) => (
            <tr key={prompt.id} className={prompt.active && prompt.retiredAt === null ? undefined : "disabled-row"}>
              <td>{prompt.id}</td>
              <td>
                {prompt.label ? <strong>{prompt.label}: </strong> : null}
                <span className="prompt-text">{prompt.text}</span>
              </td>
              <td>
                {SOURCE_LABELS[prompt.source]}
                {prompt.parentIds.length > 0 ? <span className="muted"> from #{prompt.parentIds.join(", #")}</span> : null}
              </td>
              <td className="muted">{prompt.embeddingModel ?? "–"}</td>
              <td>
                <ActiveToggle kind="prompt" id={prompt.id} active={prompt.active} retired={prompt.retiredAt !== null} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      <LineageView prompts={prompts} rounds={growthRounds} />

      <h2>Queries</h2>
      <p className="muted small">
        {queryCount > queries.length ? `The first ${queries.length} of ${queryCount} queries. ` : null}A disabled query leaves pair selection; its
        responses and votes stay (and are marked in the raw export). Open a query&rsquo;s number for its responses, its tags and a diff of two
        responses, or see <Link to={`/studies/${study.id}/responses`}>every response by query</Link>.
      </p>
      <table className="data-table" aria-label="Queries">
        <thead>
          <tr>
            <th>#</th>
            <th>Query</th>
            <th>In the study</th>
          </tr>
        </thead>
        <tbody>
          {queries.map((query) => (
            <tr key={query.id} className={query.active ? undefined : "disabled-row"}>
              <td>
                <Link to={`/studies/${study.id}/queries/${query.id}`} aria-label={`Query #${query.id}: responses and tags`}>
                  {query.id}
                </Link>
              </td>
              <td>
                <span className="prompt-text">{query.text}</span>
                {query.notes ? <span className="muted small">{query.notes}</span> : null}
              </td>
              <td>
                <ActiveToggle kind="query" id={query.id} active={query.active} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      <h2>Delete</h2>
      <p>
        <Link to={`/studies/${study.id}/delete`} className="button danger">
          Delete this study…
        </Link>{" "}
        <span className="muted small">The next page says what would be lost and asks you to confirm.</span>
      </p>
    </section>
  );
}

/** Enables or disables one prompt or query; the row says which it is now. */
export function ActiveToggle({ kind, id, active, retired = false }: { kind: "prompt" | "query"; id: number; active: boolean; retired?: boolean }) {
  // A retired prompt comes back the way a disabled one does: enabling it (the rule then leaves it alone).
  const inSelection = active && !retired;
  const label = inSelection ? "Disable" : retired && active ? "Bring back" : "Enable";
  return (
    <Form method="post" className="inline-form">
      <input type="hidden" name="kind" value={kind} />
      <input type="hidden" name="id" value={id} />
      <input type="hidden" name="active" value={inSelection ? "false" : "true"} />
      <span className={`badge ${inSelection ? "success" : ""}`}>{inSelection ? "enabled" : retired ? "retired" : "disabled"}</span>{" "}
      <button type="submit" name="intent" value="set-active" className="small-button" aria-label={`${label} ${kind} #${id}`}>
        {label}
      </button>
    </Form>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}
