// What a vote may carry, on every path that stores one: the annotate page, the JSON API and an
// imported raw log (issue 14: the import used to accept 100,000-character comments and latencies of
// 1e15 ms that no live path could produce).

/** Longest comment, after trimming. */
export const COMMENT_MAX = 2000;
/** Longest measured time from the pair being shown to the click: a day. */
export const LATENCY_MAX_MS = 86_400_000;
/** Longest annotator display name (the join form's limit). */
