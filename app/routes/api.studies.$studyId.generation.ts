import { json, type LoaderFunctionArgs } from "@remix-run/node";
import { generationStatus } from "~/llm/runtime.server";
import { getStudy } from "~/models/study.server";
import { StudyIdParamSchema } from "~/utils/forms";
import { invariantResponse } from "~/utils/invariant";

// Polled every second or so by the setup page's progress bar: a few COUNT queries, no LLM call.
export async function loader({ params }: LoaderFunctionArgs) {
  const parsed = StudyIdParamSchema.safeParse(params.studyId);
  invariantResponse(parsed.success && getStudy(parsed.data), "Study not found");
  return json(generationStatus(parsed.data), { headers: { "Cache-Control": "no-store" } });
}
