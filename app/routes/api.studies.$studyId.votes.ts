import { json, type ActionFunctionArgs } from "@remix-run/node";
import { getStudyEngine } from "~/engine/engine.server";
import { getStudy } from "~/models/study.server";
import { recordVote, VoteFormSchema } from "~/models/vote.server";
import { requireApiAnnotator } from "~/session.server";
import { parseJsonBody, requirePost } from "~/utils/api.server";
import { StudyIdParamSchema } from "~/utils/forms";

/**
 * POST {"assignmentId", "choice", "comment"?, "latencyMs"?} → 201 {"status": "recorded"} or 200
 * {"status": "duplicate"} for a repeated submit (counted once). 400 on invalid input, nothing written.
 */
export async function action({ request, params }: ActionFunctionArgs) {
  requirePost(request);
  const annotator = await requireApiAnnotator(request);
  const studyId = StudyIdParamSchema.safeParse(params.studyId);
  if (!studyId.success || !getStudy(studyId.data)) return json({ error: "Study not found" }, { status: 404 });
  const input = await parseJsonBody(request, VoteFormSchema);
  const result = recordVote(studyId.data, annotator.id, input);
  if (result.status === "not_found") return json({ error: "Assignment not found in this study" }, { status: 404 });
  if (result.status === "forbidden") return json({ error: "This assignment belongs to another annotator" }, { status: 403 });
  if (result.status === "recorded") getStudyEngine(studyId.data).requestUpdate();
  return json({ status: result.status }, { status: result.status === "recorded" ? 201 : 200 });
}
