import { type LoaderFunctionArgs } from "@remix-run/node";
import { generationStatus } from "~/llm/runtime.server";
import { requireStudy } from "~/models/study.server";

// Polled every second or so by the setup page's progress bar: a few COUNT queries, no LLM call.
export async function loader({ params }: LoaderFunctionArgs) {
  const study = requireStudy(params.studyId);
  return Response.json(generationStatus(study.id), { headers: { "Cache-Control": "no-store" } });
}
