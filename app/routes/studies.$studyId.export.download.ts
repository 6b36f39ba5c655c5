import type { LoaderFunctionArgs } from "@remix-run/node";
import { requireStudyPermission } from "~/auth/require.server";
import { exportDownloadResponse } from "~/export/download.server";
import { recordExportAs } from "~/services/studies.server";

// Resource route: GET /studies/:studyId/export/download?format=…&system=…&duplicates=…&annotator=…&from=…&to=…
// A GET because it changes nothing in the study (the audit log records it); the body streams from the
// database (see download.server.ts), waiting for a slow client and stopping when it goes away. API
// tokens (Authorization: Bearer) reach it too: the export CLI's --url mode.
export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const access = await requireStudyPermission(request, params.studyId, "study:export");
  return exportDownloadResponse(
    access.studyId,
    new URL(request.url).searchParams,
    { flow: context.responseFlow, signal: request.signal },
    (options) => recordExportAs(access, options),
  );
}
