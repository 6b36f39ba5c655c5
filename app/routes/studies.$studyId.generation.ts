import { type LoaderFunctionArgs } from "@remix-run/node";
import { requireStudyPermission } from "~/auth/require.server";
import { generationStatus } from "~/llm/runtime.server";

// Polled every second or so by the setup page's progress bar: a few COUNT queries, no LLM call.
export async function loader({ request, params }: LoaderFunctionArgs) {
  const { study } = await requireStudyPermission(request, params.studyId, "study:read", { signedOut: "status" });
  return Response.json(generationStatus(study.id), { headers: { "Cache-Control": "no-store" } });
}
