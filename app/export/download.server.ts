import { openReader } from "../../db/client";
import { connection } from "~/db.server";
import { describeIssues, ExportOptionsSchema, type ExportOptions } from "./export-options.server";
import { prepareExport } from "./formats.server";
import { readableStreamOf, type ResponseFlow } from "./stream.server";

const plainText = (message: string, status: number) => new Response(message, { status, headers: { "Content-Type": "text/plain; charset=utf-8" } });

/**
 * The HTTP download of an export: validates the query parameters (400 with a readable message),
 * then streams the file. The rows are read on a connection of the download's own: better-sqlite3
 * refuses writes on a connection with an open iterator, and annotators keep voting during a long
 * download. In WAL mode that connection reads one consistent snapshot from the first row to the last.
 * With the client's `flow` and `signal` the stream waits for a slow client and stops (closing that
 * connection) when it goes away or stalls. `onStart` runs once the file is sure to be sent (the audit
 * log's record of the export).
 */
export function exportDownloadResponse(
  studyId: number,
  searchParams: URLSearchParams,
  client: { flow?: ResponseFlow; signal?: AbortSignal } = {},
  onStart: (options: ExportOptions) => void = () => {},
): Response {
  const parsed = ExportOptionsSchema.safeParse(Object.fromEntries(searchParams.entries()));
  if (!parsed.success) return plainText(describeIssues(parsed.error), 400);
  const reader = openReader(connection().path);
  let prepared: ReturnType<typeof prepareExport>;
  try {
    prepared = prepareExport(reader.db, studyId, parsed.data);
  } catch (error) {
    reader.close();
    throw error;
  }
  if (!prepared.ok) {
    reader.close();
    return plainText(prepared.message, prepared.status);
  }
  try {
    onStart(parsed.data);
  } catch (error) {
    reader.close();
    throw error;
  }
  const { fileName, contentType, lines } = prepared.export;
  return new Response(
    readableStreamOf(lines(), () => reader.close(), client),
    {
      status: 200,
      headers: {
        "Content-Type": contentType,
        "Content-Disposition": `attachment; filename="${fileName}"`,
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
      },
    },
  );
}
