import { z } from "zod";
import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { useEffect, useRef } from "react";
import { requireStudyPermission } from "~/auth/require.server";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { assignNextPair, getOpenAssignment } from "~/engine/assign.server";
import { getStudyEngine } from "~/engine/engine.server";
import { getAssignmentView, recordVote, VoteFormSchema } from "~/models/vote.server";
import { annotatorOf, ensureAnnotator } from "~/services/annotating.server";
import { invariantResponse } from "~/utils/invariant";
import { renderMarkdown } from "~/utils/markdown.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `Annotate · ${data?.study.name ?? "promptduel"}` }];

// Annotators who joined the study, and its owners and editors (who vote as themselves, not blind).
// The page carries the query and the two responses only: no prompt text, no link to an owner page
// for an annotator.
export async function loader({ request, params }: LoaderFunctionArgs) {
  const access = await requireStudyPermission(request, params.studyId, "study:annotate");
  const { study } = access;
  const annotator = annotatorOf(access);
  const open = annotator ? getOpenAssignment(study.id, annotator.id) : null;
  const view = open ? getAssignmentView(open.id) : null;
  return {
    study: { id: study.id, name: study.name },
    // A member sees the way back to the study's pages; an annotator does not.
    member: access.actor.kind === "user",
    assignment: view
      ? { id: view.assignmentId, query: view.query, leftHtml: renderMarkdown(view.left), rightHtml: renderMarkdown(view.right) }
      : null,
  };
}

export async function action({ request, params }: ActionFunctionArgs) {
  const access = await requireStudyPermission(request, params.studyId, "study:annotate");
  const { study } = access;
  const form = Object.fromEntries(await request.formData());
  if (form.intent !== "vote" && form.intent !== "start") return data({ errors: { intent: ["intent must be 'vote' or 'start'"] } }, { status: 400 });
  const vote = form.intent === "vote" ? VoteFormSchema.safeParse(form) : null;
  if (vote && !vote.success) return data({ errors: z.flattenError(vote.error).fieldErrors }, { status: 400 });
  // A member's annotator is created on their first valid post, never by a malformed one.
  const annotator = ensureAnnotator(access);
  if (vote) {
    const result = recordVote(study.id, annotator.id, vote.data);
    invariantResponse(result.status !== "not_found", "Assignment not found in this study", 404);
    invariantResponse(result.status !== "forbidden", "This assignment belongs to another annotator", 403);
    if (result.status === "recorded") getStudyEngine(study.id).requestUpdate();
  }
  const next = assignNextPair(study.id, annotator.id);
  if (!next) return data({ errors: { study: ["No pair with two ready responses is available in this study yet."] } }, { status: 409 });
  return redirect(`/studies/${study.id}/annotate`);
}

const CHOICES = [
  { value: "left", label: "Left is better", key: "←", hotkey: "ArrowLeft" },
  { value: "tie", label: "Tie", key: "T", hotkey: "t" },
  { value: "both_bad", label: "Both bad", key: "B", hotkey: "b" },
  { value: "skip", label: "Skip", key: "S", hotkey: "s" },
  { value: "right", label: "Right is better", key: "→", hotkey: "ArrowRight" },
] as const;

export default function Annotate() {
  const { study, member, assignment } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const navigation = useNavigation();
  const busy = navigation.state !== "idle";
  const buttons = useRef(new Map<string, HTMLButtonElement>());
  const shownAt = useRef(0);
  const latencyInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    shownAt.current = Date.now();
  }, [assignment?.id]);

  useEffect(() => {
    function onKeyDown(event: KeyboardEvent) {
      if (event.metaKey || event.ctrlKey || event.altKey) return;
      const target = event.target as HTMLElement | null;
      if (target && (target.tagName === "TEXTAREA" || target.tagName === "INPUT")) return;
      const choice = CHOICES.find((c) => c.hotkey.toLowerCase() === event.key.toLowerCase());
      if (!choice) return;
      event.preventDefault();
      buttons.current.get(choice.value)?.click();
    }
    window.addEventListener("keydown", onKeyDown);
    return () => window.removeEventListener("keydown", onKeyDown);
  }, []);

  const errors = actionData?.errors ? Object.values(actionData.errors).flat() : [];

  return (
    <section className="annotate">
      <div className="annotate-header">
        <h1>{study.name}</h1>
        {member ? (
          <p className="muted">
            You are a member of this study: your votes count like anyone&apos;s but you are not blind to the prompts. To see exactly what annotators
            see, open an annotator link in a private window. <Link to={`/studies/${study.id}`}>Back to the dashboard</Link>
          </p>
        ) : null}
      </div>
      {errors.length > 0 ? (
        <div className="field-error" role="alert">
          {errors.map((error) => (
            <p key={String(error)}>{String(error)}</p>
          ))}
        </div>
      ) : null}
      {assignment ? (
        <Form
          method="post"
          key={assignment.id}
          onSubmit={() => {
            if (latencyInput.current) latencyInput.current.value = String(Date.now() - shownAt.current);
          }}
        >
          <input type="hidden" name="intent" value="vote" />
          <input type="hidden" name="assignmentId" value={assignment.id} />
          <input type="hidden" name="latencyMs" ref={latencyInput} />
          <div className="query" aria-label="User query">
            <span className="query-label">User asks</span>
            <p>{assignment.query}</p>
          </div>
          <div className="duel">
            <article className="response" aria-label="Left response">
              <h2>Left</h2>
              <div className="markdown" dangerouslySetInnerHTML={{ __html: assignment.leftHtml }} />
            </article>
            <article className="response" aria-label="Right response">
              <h2>Right</h2>
              <div className="markdown" dangerouslySetInnerHTML={{ __html: assignment.rightHtml }} />
            </article>
          </div>
          <label className="comment" htmlFor="comment">
            Comment (optional)
            <textarea id="comment" name="comment" rows={2} maxLength={2000} />
          </label>
          <div className="choices">
            {CHOICES.map((choice) => (
              <button
                key={choice.value}
                type="submit"
                name="choice"
                value={choice.value}
                disabled={busy}
                className={choice.value === "left" || choice.value === "right" ? "primary" : undefined}
                ref={(element) => {
                  if (element) buttons.current.set(choice.value, element);
                  else buttons.current.delete(choice.value);
                }}
              >
                {choice.label} <kbd>{choice.key}</kbd>
              </button>
            ))}
          </div>
        </Form>
      ) : (
        <Form method="post" className="start">
          <p>Compare two answers to the same question and pick the better one. You will not see which prompts produced them.</p>
          <button type="submit" name="intent" value="start" className="primary" disabled={busy}>
            Start annotating
          </button>
        </Form>
      )}
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}
