import { json, type ActionFunctionArgs } from "@remix-run/node";
import { assignNextPair } from "~/engine/assign.server";
import { getStudy } from "~/models/study.server";
import { getAssignmentView } from "~/models/vote.server";
import { requireApiAnnotator } from "~/session.server";
import { requirePost } from "~/utils/api.server";
import { StudyIdParamSchema } from "~/utils/forms";

/**
 * POST → the annotator's next pair: {assignmentId, query, left, right} (markdown sources, blind:
 * no prompt ids or texts). 409 when the study has no pair with two ready responses yet.
 */
export async function action({ request, params }: ActionFunctionArgs) {
  requirePost(request);
  const annotator = await requireApiAnnotator(request);
  const studyId = StudyIdParamSchema.safeParse(params.studyId);
  if (!studyId.success || !getStudy(studyId.data)) return json({ error: "Study not found" }, { status: 404 });
  const assignment = assignNextPair(studyId.data, annotator.id);
  const view = assignment ? getAssignmentView(assignment.id) : null;
  if (!view) return json({ error: "No pair with two ready responses is available in this study yet" }, { status: 409 });
  return json({ assignmentId: view.assignmentId, query: view.query, left: view.left, right: view.right });
}
