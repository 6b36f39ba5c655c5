import { z } from "zod";
import { decimalId } from "~/utils/strict-fields";

// Query tags (issue 18 §6): short owner-given labels ("billing", "refunds") to read results per kind of
// question. One normalisation for every way a tag arrives (a queries file's column, the tag editor),
// so "Billing " and "billing" are one tag.

export const MAX_TAG_CHARS = 40;
export const MAX_TAGS_PER_QUERY = 12;
// A letter or digit first, then letters, digits, spaces and a few joiners; no comma (the list separator).
const TAG_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N} _\-./&+:]*$/u;

/** A tag as stored: trimmed, inner whitespace collapsed to one space, lower-cased. */
export function normalizeTag(raw: string): string {
  return raw.trim().replace(/\s+/g, " ").toLowerCase();
}

/**
 * A query's tags from the raw strings given for it: normalised, repeats dropped, order kept; blank
 * entries ignored. Returns the problem in an owner's words for a tag too long, with a character a tag
 * cannot have, or too many tags.
 */
export function parseTags(raw: readonly string[]): { ok: true; tags: string[] } | { ok: false; problem: string } {
  const tags: string[] = [];
  for (const entry of raw) {
    const tag = normalizeTag(entry);
    if (tag === "") continue;
    if (tag.length > MAX_TAG_CHARS) return { ok: false, problem: `the tag "${tag.slice(0, 20)}…" is longer than ${MAX_TAG_CHARS} characters` };
    if (!TAG_PATTERN.test(tag)) {
      return { ok: false, problem: `the tag "${tag}" must start with a letter or digit and hold only letters, digits, spaces and - _ . / & + :` };
    }
    if (!tags.includes(tag)) tags.push(tag);
  }
  if (tags.length > MAX_TAGS_PER_QUERY) return { ok: false, problem: `${tags.length} tags given; a query can have at most ${MAX_TAGS_PER_QUERY}` };
  return { ok: true, tags };
}

/** Tags typed as one comma-separated list ("billing, refunds"). */
export function parseTagList(text: string): ReturnType<typeof parseTags> {
  return parseTags(text.split(","));
}

/** The tag editor's form: a comma-separated list, empty to remove every tag. */
export const QueryTagsFormSchema = z.object({
  intent: z.literal("set-query-tags"),
  queryId: decimalId("queryId must be a positive whole number"),
  tags: z
    .string({ error: "Give the tags as a comma-separated list (empty removes them all)" })
    .max(MAX_TAGS_PER_QUERY * (MAX_TAG_CHARS + 2), "Too long for a list of tags")
    .transform((text, ctx) => {
      const parsed = parseTagList(text);
      if (parsed.ok) return parsed.tags;
      ctx.addIssue({ code: "custom", message: `Not saved: ${parsed.problem}` });
      return z.NEVER;
    }),
});
