import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { useEffect, useRef, useState } from "react";
import { requireStudyPermission } from "~/auth/require.server";
import { AnnotateShortcutsDialog, ANNOTATE_SHORTCUTS, VOTE_BUTTONS } from "~/components/annotate-shortcuts";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { assignNextPair, getOpenAssignment } from "~/engine/assign.server";
import { discardStudyEngine } from "~/engine/engine.server";
import { annotationAvailability } from "~/models/study-lifecycle.server";
import {
  countAnnotatorVotes,
  getAssignmentView,
  undoableVote,
  undoVote,
  UndoFormSchema,
  VoteFormSchema,
  type RecordVoteResult,
} from "~/models/vote.server";
import { annotatorOf, ensureAnnotator, voteAs } from "~/services/annotating.server";
import { AVAILABILITY_MESSAGES, CHOICE_LABELS } from "~/utils/annotate";
import { constraintAttributes } from "~/components/field";
import { formConstraints } from "~/utils/form-constraints";
import { allMessages, errorsOf } from "~/utils/form-errors";
import { invalidForm, invalidField, refusedForm } from "~/utils/form-errors.server";
import { invariantResponse } from "~/utils/invariant";
import { renderMarkdown } from "~/utils/markdown.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `Annotate · ${data?.study.name ?? "promptduel"}` }];

// Annotators who joined the study, and its owners and editors (who vote as themselves, not blind).
// The page carries the query and the two responses only: no prompt text, no link to an owner page
// for an annotator.
export async function loader({ request, params }: LoaderFunctionArgs) {
  const access = await requireStudyPermission(request, params.studyId, "study:annotate");
  const { study, actor } = access;
  // A member who has not voted yet has no annotator: it is created on their first post.
  const annotator = annotatorOf(access);
  const availability = annotationAvailability(study.status);
  const open = annotator && availability === "open" ? getOpenAssignment(study.id, annotator.id) : undefined;
  const view = open ? getAssignmentView(open.id) : null;
  const done = annotator ? countAnnotatorVotes(study.id, annotator.id) : 0;
  return {
    study: {
      id: study.id,
      name: study.name,
      task: study.task,
      guidelinesHtml: study.guidelines ? renderMarkdown(study.guidelines) : null,
      goal: study.annotatorGoal,
    },
    availability,
    // A member sees the way back to the study's pages; an annotator does not.
    member: actor.kind === "user",
    voteForm: formConstraints(VoteFormSchema),
    done,
    lastVote: annotator ? undoableVote(study.id, annotator.id, { revealPrompts: study.revealWinner }) : null,
    assignment: view ? { id: view.assignmentId, query: view.query, aHtml: renderMarkdown(view.left), bHtml: renderMarkdown(view.right) } : null,
  };
}

type Notice = { tone: "info" | "warning"; text: string };

export async function action({ request, params }: ActionFunctionArgs) {
  const access = await requireStudyPermission(request, params.studyId, "study:annotate");
  const { study } = access;
  const form = Object.fromEntries(await request.formData());
  let notice: Notice | null = null;
  if (form.intent !== "vote" && form.intent !== "undo" && form.intent !== "start") {
    return invalidField("intent", "intent must be 'vote', 'undo' or 'start'");
  }
  if (form.intent === "undo") {
    const parsed = UndoFormSchema.safeParse(form);
    if (!parsed.success) return invalidForm(parsed.error);
    const voter = annotatorOf(access);
    const result = voter ? undoVote(study.id, voter.id, parsed.data.assignmentId) : ({ status: "not_found" } as const);
    if (result.status === "undone") {
      // The engine consumed the vote already: it is rebuilt from the votes without it.
      await discardStudyEngine(study.id);
      return data({
        undone: { comment: result.comment },
        notice: { tone: "info", text: "Vote undone. The same pair is shown again: choose again." },
      });
    }
    return data({
      notice: {
        tone: "warning",
        text: result.status === "too_late" ? "Too late to undo that vote: it is counted." : "There is no vote of yours to undo here.",
      } satisfies Notice,
    });
  }
  const vote = form.intent === "vote" ? VoteFormSchema.safeParse(form) : null;
  if (vote && !vote.success) return invalidForm(vote.error);
  const open = annotationAvailability(study.status) === "open";
  let next: { id: number } | null;
  if (vote) {
    // The vote and the next assignment in one transaction, as the JSON API does (voteAs).
    const voted = voteAs(access, vote.data, { next: open });
    invariantResponse(voted.result.status !== "not_found", "Assignment not found in this study", 404);
    invariantResponse(voted.result.status !== "forbidden", "This assignment belongs to another annotator", 403);
    notice = staleVoteNotice(voted.result, vote.data.choice);
    next = voted.next;
  } else {
    // A member's annotator is created on their first valid post, never by a malformed one.
    next = open ? assignNextPair(study.id, ensureAnnotator(access).id) : null;
  }
  if (!open) return notice ? data({ notice }) : redirect(`/studies/${study.id}/annotate`);
  if (!next) return refusedForm("No pair with two ready responses is available in this study yet.", { status: 409 });
  return notice ? data({ notice }) : redirect(`/studies/${study.id}/annotate`);
}

/** What to tell an annotator whose click landed on a pair that was already answered (a stale tab). */
function staleVoteNotice(result: RecordVoteResult, clicked: keyof typeof CHOICE_LABELS): Notice | null {
  switch (result.status) {
    case "duplicate":
      return { tone: "info", text: `Your vote on that pair was already recorded (“${CHOICE_LABELS[result.recordedChoice]}”); it counts once.` };
    case "conflict":
      return {
        tone: "warning",
        text: `That pair was already answered with “${CHOICE_LABELS[result.recordedChoice]}” (in another tab or window), so this click, “${CHOICE_LABELS[clicked]}”, was not counted.`,
      };
    case "withdrawn":
      return { tone: "warning", text: "You had undone your vote on that pair, so this click was not counted. The pair is shown again below." };
    default:
      return null;
  }
}

export default function Annotate() {
  const { study, availability, member, voteForm, done, lastVote, assignment } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const navigation = useNavigation();
  const busy = navigation.state !== "idle";
  const buttons = useRef(new Map<string, HTMLButtonElement>());
  const undoButton = useRef<HTMLButtonElement>(null);
  const shortcuts = useRef<HTMLDialogElement>(null);
  const shownAt = useRef(0);
  const latencyInput = useRef<HTMLInputElement>(null);
  const undone = actionData && "undone" in actionData ? actionData.undone : null;
  const notice = actionData && "notice" in actionData ? actionData.notice : null;
  const errors = allMessages(errorsOf(actionData));
  // The "recorded" confirmation and its Undo stay for what is left of the undo window.
  const [expiredVote, setExpiredVote] = useState<number | null>(null);
  const showRecorded = lastVote !== null && !undone && expiredVote !== lastVote.assignmentId;

  useEffect(() => {
    shownAt.current = Date.now();
  }, [assignment?.id]);

  useEffect(() => {
    if (!lastVote) return;
    const timer = setTimeout(() => setExpiredVote(lastVote.assignmentId), lastVote.remainingMs);
    return () => clearTimeout(timer);
  }, [lastVote]);

  useEffect(() => {
    function onKeyDown(event: KeyboardEvent) {
      if (event.metaKey || event.ctrlKey || event.altKey) return;
      const target = event.target as HTMLElement | null;
      if (target && (target.tagName === "TEXTAREA" || target.tagName === "INPUT" || target.isContentEditable)) return;
      if (shortcuts.current?.open) return;
      if (event.key === "?") {
        event.preventDefault();
        shortcuts.current?.showModal();
        return;
      }
      if (event.key.toLowerCase() === "u" && undoButton.current) {
        event.preventDefault();
        undoButton.current.click();
        return;
      }
      const choice = VOTE_BUTTONS.find((button) => button.hotkey.toLowerCase() === event.key.toLowerCase());
      if (!choice) return;
      event.preventDefault();
      buttons.current.get(choice.value)?.click();
    }
    window.addEventListener("keydown", onKeyDown);
    return () => window.removeEventListener("keydown", onKeyDown);
  }, []);

  const announcement = notice?.text ?? (showRecorded ? `Recorded: ${CHOICE_LABELS[lastVote.choice]}.${assignment ? " Next pair shown." : ""}` : "");

  return (
    <section className="annotate">
      <div className="annotate-header">
        <div>
          <h1>{study.name}</h1>
          {member ? (
            <p className="muted small">
              You are a member of this study: your votes count like anyone&apos;s but you are not blind to the prompts. To see exactly what annotators
              see, open an annotator link in a private window. <Link to={`/studies/${study.id}`}>Back to the dashboard</Link>
            </p>
          ) : null}
        </div>
        <div className="annotate-tools">
          <p className="done-count">
            <strong>{done}</strong>
            {study.goal ? ` of ${study.goal}` : ""} done
            {study.goal && done >= study.goal ? <span className="badge success">goal reached, thank you</span> : null}
          </p>
          <button type="button" className="shortcuts-button" aria-keyshortcuts="?" onClick={() => shortcuts.current?.showModal()}>
            Shortcuts <kbd aria-hidden="true">?</kbd>
          </button>
        </div>
      </div>

      <details className="guidelines" open={done === 0}>
        <summary>Task and guidelines</summary>
        <div className="guidelines-body">
          <p className="guidelines-task">{study.task}</p>
          {study.guidelinesHtml ? (
            <div className="markdown" dangerouslySetInnerHTML={{ __html: study.guidelinesHtml }} />
          ) : (
            <p className="muted">Read the question, then pick the answer you would rather receive. You will not see which prompts produced them.</p>
          )}
        </div>
      </details>

      <p className="visually-hidden" role="status" aria-live="polite">
        {announcement}
      </p>
      {errors.length > 0 ? (
        <div className="field-error" role="alert">
          {errors.map((error) => (
            <p key={String(error)}>{String(error)}</p>
          ))}
        </div>
      ) : null}
      {notice ? <p className={`notice ${notice.tone === "warning" ? "warning" : ""}`}>{notice.text}</p> : null}
      {showRecorded ? (
        <div className="recorded">
          <span>
            Recorded: <strong>{CHOICE_LABELS[lastVote.choice]}</strong>
            {lastVote.revealed ? (
              <span className="muted">
                {" "}
                · A was {lastVote.revealed.left}, B was {lastVote.revealed.right}
              </span>
            ) : null}
          </span>
          <Form method="post">
            <input type="hidden" name="intent" value="undo" />
            <input type="hidden" name="assignmentId" value={lastVote.assignmentId} />
            <button type="submit" ref={undoButton} disabled={busy} aria-keyshortcuts="u">
              Undo <kbd aria-hidden="true">U</kbd>
            </button>
          </Form>
        </div>
      ) : null}

      {availability !== "open" ? (
        <div className="start" role="status">
          <h2>{AVAILABILITY_MESSAGES[availability].title}</h2>
          <p>{AVAILABILITY_MESSAGES[availability].detail}</p>
        </div>
      ) : assignment ? (
        <Form
          method="post"
          key={assignment.id}
          className="pair-form"
          onSubmit={() => {
            if (latencyInput.current) latencyInput.current.value = String(Date.now() - shownAt.current);
          }}
        >
          <input type="hidden" name="intent" value="vote" />
          <input type="hidden" name="assignmentId" value={assignment.id} />
          <input type="hidden" name="latencyMs" ref={latencyInput} />
          <div className="query" role="region" aria-label="User query">
            <span className="query-label">User asks</span>
            <p>{assignment.query}</p>
          </div>
          <div className="duel">
            {/* Each response scrolls inside its box, so keyboard users must be able to focus it to scroll it
                (WCAG 2.1.1; axe scrollable-region-focusable). */}
            {/* eslint-disable-next-line jsx-a11y/no-noninteractive-tabindex -- a scrolling region, see above */}
            <article className="response" aria-label="Response A" tabIndex={0}>
              <h2>A</h2>
              <div className="markdown" dangerouslySetInnerHTML={{ __html: assignment.aHtml }} />
            </article>
            {/* eslint-disable-next-line jsx-a11y/no-noninteractive-tabindex -- a scrolling region, see above */}
            <article className="response" aria-label="Response B" tabIndex={0}>
              <h2>B</h2>
              <div className="markdown" dangerouslySetInnerHTML={{ __html: assignment.bHtml }} />
            </article>
          </div>
          <label className="comment" htmlFor="comment">
            Comment (optional)
            <textarea id="comment" name="comment" rows={2} {...constraintAttributes(voteForm.comment, true)} defaultValue={undone?.comment ?? ""} />
          </label>
          <div className="choices">
            {VOTE_BUTTONS.map((choice) => (
              <button
                key={choice.value}
                type="submit"
                name="choice"
                value={choice.value}
                disabled={busy}
                aria-keyshortcuts={choice.hotkey}
                className={choice.value === "left" || choice.value === "right" ? "primary" : undefined}
                ref={(element) => {
                  if (element) buttons.current.set(choice.value, element);
                  else buttons.current.delete(choice.value);
                }}
              >
                {CHOICE_LABELS[choice.value]} <kbd aria-hidden="true">{choice.key}</kbd>
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
      <AnnotateShortcutsDialog ref={shortcuts} shortcuts={ANNOTATE_SHORTCUTS} />
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}
