import type { LoaderFunctionArgs } from "@remix-run/node";
import { exportDownloadResponse } from "~/export/download.server";
import { StudyIdParamSchema } from "~/utils/forms";
import { invariantResponse } from "~/utils/invariant";

// Resource route: GET /studies/:studyId/export/download?format=…&system=…&duplicates=…&annotator=…&from=…&to=…
// A GET because it changes nothing; the body streams from the database (see download.server.ts).
export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const studyId = StudyIdParamSchema.safeParse(params.studyId);
  invariantResponse(studyId.success, "Study not found");
  return exportDownloadResponse(studyId.data, new URL(request.url).searchParams, { flow: context.responseFlow, signal: request.signal });
}
