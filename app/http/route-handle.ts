/**
 * What a route module may declare about its HTTP surface, through Remix's `handle` export (read by
 * the server before the request reaches Remix, app/http/route-policy.server.ts). Shared with the
 * browser bundle, so only plain values live here.
 *
 *   export const handle = { maxBodyBytes: SETUP_FORM_BODY_BYTES } satisfies HttpRouteHandle;
 */
export interface HttpRouteHandle {
  /** The largest request body the route's action accepts (default FORM_BODY_BYTES); larger answers 413. */
  maxBodyBytes?: number;
}

/** A form without uploads: a 2,000-character comment or a display name is far below this. */
export const FORM_BODY_BYTES = 64 * 1024;

/** Each file of the new-study and setup forms. */
export const SETUP_UPLOAD_FILE_BYTES = 5_000_000;
/** The new-study form: up to three files (queries, prompts, responses) and the pasted text beside them. */
export const SETUP_FORM_BODY_BYTES = 4 * SETUP_UPLOAD_FILE_BYTES;

/**
 * The raw log of an import is held in memory so every line is checked before anything is written.
 * The app's own raw export of 100,000 votes is about 80 MB (issue 14's import size), so this is 100 MB.
 */
export const IMPORT_LOG_FILE_BYTES = 100_000_000;
export const IMPORT_LOG_BODY_BYTES = IMPORT_LOG_FILE_BYTES + FORM_BODY_BYTES;
