import { z } from "zod";
import { data, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { requireStudyPermission } from "~/auth/require.server";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { GenerationProgress } from "~/components/generation-progress";
import { FieldError, OfflineBanner, PasteOrUploadForm } from "~/components/setup-fields";
import { db } from "~/db.server";
import { generationStatus, providerConfig } from "~/llm/runtime.server";
import { MAX_VARIANTS_PER_REQUEST } from "~/llm/variants.server";
import { readSetupForm, studySetupFormSchema } from "~/models/study-setup-forms.server";
import { countStudyQueries, listStudyPrompts, studyHasPrompt } from "~/models/study-setup.server";
import { addToStudyAs, importResponsesAs, requestVariantsAs, retryFailedAs } from "~/services/studies.server";
import { ImportError } from "~/utils/study-files.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `Setup · ${data?.study.name ?? "promptduel"}` }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const { study } = await requireStudyPermission(request, params.studyId, "study:edit");
  return {
    study: { id: study.id, name: study.name, model: study.model, temperature: study.temperature, maxTokens: study.maxTokens, seed: study.seed },
    providerConfigured: providerConfig() !== null,
    status: generationStatus(study.id),
    prompts: listStudyPrompts(db(), study.id),
    queryCount: countStudyQueries(db(), study.id),
    maxVariants: MAX_VARIANTS_PER_REQUEST,
  };
}

type FieldErrors = Record<string, string[] | undefined>;
type ActionResult = { intent: string; errors?: FieldErrors; notice?: string };

function plural(count: number, noun: string): string {
  if (count === 1) return `1 ${noun}`;
  return `${count} ${noun.endsWith("y") ? `${noun.slice(0, -1)}ies` : `${noun}s`}`;
}

export async function action({ request, params }: ActionFunctionArgs) {
  const access = await requireStudyPermission(request, params.studyId, "study:edit");
  const { study } = access;
  const form = await readSetupForm(request);
  const intent = "fields" in form && typeof form.fields.intent === "string" ? form.fields.intent : "";
  const fail = (errors: FieldErrors) => data<ActionResult>({ intent, errors }, { status: 400 });
  if ("errors" in form) return fail(form.errors);
  const parsed = studySetupFormSchema({ providerConfigured: providerConfig() !== null }).safeParse(form.fields);
  if (!parsed.success) return fail(z.flattenError(parsed.error).fieldErrors);

  const input = parsed.data;
  let notice: string;
  switch (input.intent) {
    case "add-queries":
    case "add-prompts": {
      const added = addToStudyAs(access, {
        prompts: input.intent === "add-prompts" ? input.prompts : [],
        queries: input.intent === "add-queries" ? input.queries : [],
      });
      const duplicates = added.promptDuplicates + added.queryDuplicates;
      notice = input.intent === "add-prompts" ? `Added ${plural(added.promptsAdded, "prompt")}` : `Added ${plural(added.queriesAdded, "query")}`;
      notice += `${duplicates > 0 ? ` (${duplicates} already in the study)` : ""}; ${plural(added.responsesQueued, "response")} queued.`;
      break;
    }
    case "generate-variants":
      if (!studyHasPrompt(db(), study.id, input.seedPromptId)) return fail({ seedPromptId: ["Choose a prompt of this study"] });
      requestVariantsAs(access, { seedPromptId: input.seedPromptId, count: input.count });
      notice = `Writing ${plural(input.count, "variant")} of prompt #${input.seedPromptId}.`;
      break;
    case "import-responses":
      try {
        notice = `Imported ${plural(importResponsesAs(access, input.responses), "response")}.`;
      } catch (error) {
        if (!(error instanceof ImportError)) throw error;
        return fail({ responsesFile: [`${error.message}. Nothing was imported.`] });
      }
      break;
    case "retry-failed": {
      const retried = retryFailedAs(access);
      notice = `Retrying ${retried} failed item${retried === 1 ? "" : "s"}.`;
      break;
    }
  }
  return data<ActionResult>({ intent: input.intent, notice });
}

const SOURCE_LABELS = { manual: "pasted", imported: "imported", generated: "generated", mutated: "mutated" } as const;

export default function StudySetup() {
  const { study, providerConfigured, status, prompts, queryCount, maxVariants } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  const submittingIntent = navigation.state === "submitting" ? navigation.formData?.get("intent") : null;
  // An oversized upload is refused before the form's intent is read (intent ""); its error names the
  // file field, and file fields are unique across the forms, so it shows on the right one.
  const errorsFor = (intent: string): FieldErrors => (result && (result.intent === intent || result.intent === "") ? (result.errors ?? {}) : {});

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
      {result?.notice ? (
        <p className="notice" role="status">
          {result.notice}
        </p>
      ) : null}

      <GenerationProgress studyId={study.id} initial={status} />

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
          errors={errorsFor("add-prompts")}
          submitting={submittingIntent === "add-prompts"}
        />
        <PasteOrUploadForm
          intent="add-queries"
          field="queries"
          legend="Add queries"
          pasteLabel="Paste queries, one per line"
          accept=".csv,.jsonl,.ndjson,.json,.txt"
          errors={errorsFor("add-queries")}
          submitting={submittingIntent === "add-queries"}
        />

        <Form method="post" className="setup-form" noValidate>
          <fieldset disabled={!providerConfigured}>
            <legend>Generate variants</legend>
            <label htmlFor="seedPromptId">Seed prompt</label>
            <select id="seedPromptId" name="seedPromptId">
              {prompts.map((prompt) => (
                <option key={prompt.id} value={prompt.id}>
                  #{prompt.id} {prompt.label ? `${prompt.label}: ` : ""}
                  {prompt.text.length > 70 ? `${prompt.text.slice(0, 67)}…` : prompt.text}
                </option>
              ))}
            </select>
            <FieldError id="seedPromptId-error" messages={errorsFor("generate-variants").seedPromptId} />
            <label htmlFor="variantCount">How many (1–{maxVariants})</label>
            <input id="variantCount" name="variantCount" type="number" min={1} max={maxVariants} defaultValue={3} />
            <FieldError id="variantCount-error" messages={errorsFor("generate-variants").variantCount} />
            <button type="submit" name="intent" value="generate-variants" disabled={submittingIntent === "generate-variants"}>
              Generate variants
            </button>
            {providerConfigured ? null : <p className="hint">Needs an LLM provider.</p>}
          </fieldset>
        </Form>

        <Form method="post" encType="multipart/form-data" className="setup-form" noValidate>
          <fieldset>
            <legend>Import responses</legend>
            <label htmlFor="responsesFile">Responses file (JSONL)</label>
            <input id="responsesFile" name="responsesFile" type="file" accept=".jsonl,.ndjson,.json" />
            <p className="hint">
              Lines like <code>{'{"prompt": "…", "query": "…", "response": "…"}'}</code>, or <code>prompt_id</code> / <code>query_id</code> instead of
              the texts. All lines or none; an imported response replaces a queued or failed one.
            </p>
            <FieldError id="responsesFile-error" messages={errorsFor("import-responses").responsesFile} />
            <button type="submit" name="intent" value="import-responses" disabled={submittingIntent === "import-responses"}>
              Import responses
            </button>
          </fieldset>
        </Form>
      </div>

      <h2>Prompts</h2>
      <table className="data-table">
        <thead>
          <tr>
            <th>#</th>
            <th>Prompt</th>
            <th>Source</th>
            <th>Embedding</th>
          </tr>
        </thead>
        <tbody>
          {prompts.map((prompt) => (
            <tr key={prompt.id}>
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
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}
