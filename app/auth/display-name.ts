import { z } from "zod";
import { fieldConstraintRegistry } from "~/utils/form-constraints";

export const MAX_DISPLAY_NAME_LENGTH = 60;

// Whitespace an honest name may carry (tabs and newlines from a paste, no-break spaces): one space each run.
const WHITESPACE_RUN = /[\t\n\r\p{Zs}]+/gu;
// Control, format (zero-width, bidi overrides and isolates, BOM, soft hyphen), line/paragraph
// separators, surrogates, private-use and unassigned code points: they make a name look like another
// or hide text, and the name is the only identity owners see on the dashboard and in exports.
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Co}\p{Cn}]/u;
// Letters Unicode classes as visible that render as nothing (Hangul fillers, braille blank,
// combining grapheme joiner): a name made of them would look empty.
const INVISIBLE = /\u115F|\u1160|\u3164|\uFFA0|\u2800|\u034F/u;
// At least one character that shows: a letter, digit, punctuation or symbol (not only marks).
const VISIBLE = /[\p{L}\p{N}\p{P}\p{S}]/u;

const graphemes = new Intl.Segmenter("en", { granularity: "grapheme" });

/** User-perceived characters ("é" written as e + accent counts one). */
export function visibleLength(text: string): number {
  let count = 0;
  for (const _ of graphemes.segment(text)) count++;
  return count;
}

export type DisplayNameResult = { ok: true; name: string } | { ok: false; message: string };

/**
 * The name an annotator (or account) is shown by: NFC, whitespace runs collapsed to one space and
 * trimmed, then refused if it has control/format/bidi or invisible characters, nothing visible, or
 * more than 60 user-perceived characters (and at most 4 code units per character on average, so
 * stacked combining marks cannot make a 60-"character" name of thousands of code points).
 */
export function normalizeDisplayName(raw: string): DisplayNameResult {
  const collapsed = raw.normalize("NFC").replace(WHITESPACE_RUN, " ");
  // Checked before trim(), which would quietly drop a leading or trailing BOM.
  if (FORBIDDEN.test(collapsed) || INVISIBLE.test(collapsed)) {
    return { ok: false, message: "A display name cannot contain control, invisible or text-direction characters" };
  }
  const name = collapsed.trim();
  if (name === "") return { ok: false, message: "Enter a display name" };
  if (!VISIBLE.test(name)) return { ok: false, message: "A display name needs at least one letter, digit or symbol" };
  if (visibleLength(name) > MAX_DISPLAY_NAME_LENGTH || name.length > MAX_DISPLAY_NAME_LENGTH * 4) {
    return { ok: false, message: `A display name has at most ${MAX_DISPLAY_NAME_LENGTH} characters` };
  }
  return { ok: true, name };
}

/** normalizeDisplayName as a zod schema: parses to the normalised name, or fails with its message. */
export const DisplayNameSchema = z
  .string({ error: "Enter a display name" })
  .transform((raw, ctx) => {
    const result = normalizeDisplayName(raw);
    if (result.ok) return result.name;
    ctx.addIssue({ code: "custom", message: result.message });
    return z.NEVER;
  })
  // The input's bound in UTF-16 code units, as normalizeDisplayName counts them.
  .register(fieldConstraintRegistry, { maxLength: MAX_DISPLAY_NAME_LENGTH * 4 });
