import { z } from "zod";
import { fieldConstraintRegistry } from "./form-constraints";

// Exact parsing of numbers from forms, URL parameters and JSON (issue 14): Number() and z.coerce read
// "0x10", "1e0", "+1", " 1", true and [["2003"]] as numbers, so an id or a setting could name
// something the client never wrote. Form fields and URL parameters are strings written in plain
// decimal; JSON numbers must be JSON numbers; null stays null.

const DECIMAL_INTEGER = /^(0|[1-9]\d*)$/;
const DECIMAL_NUMBER = /^(0|[1-9]\d*)(\.\d+)?$|^\.\d+$/;

/** A record id: a positive integer that survives the round trip through a JavaScript number. */
const ID_MAX = Number.MAX_SAFE_INTEGER;

/** A positive decimal id written as a string (route params, form fields, query parameters): "12", never "012", "0x1", "1e0", "+1". */
export function decimalId(message: string) {
  return z
    .string({ error: message })
    .regex(/^[1-9]\d*$/, message)
    .transform(Number)
    .refine((value) => value <= ID_MAX, message);
}

/** A positive integer id in a JSON body: a JSON number, not a string, boolean or array. */
export function jsonId(message: string) {
  return z.number({ error: message }).int(message).positive(message).max(ID_MAX, message);
}

/**
 * A required whole number in a form field, in plain decimal, within [min, max]. A blank field is an
 * error (`blankMessage`), never 0.
 */
export function formInteger(options: { min: number; max: number; message: string; blankMessage: string }) {
  return z
    .string({ error: options.blankMessage })
    .transform((raw, ctx) => {
      const value = raw.trim();
      if (value === "") return fail(ctx, options.blankMessage);
      if (!DECIMAL_INTEGER.test(value)) return fail(ctx, options.message);
      const number = Number(value);
      return number >= options.min && number <= options.max ? number : fail(ctx, options.message);
    })
    .register(fieldConstraintRegistry, { type: "number", step: 1, min: options.min, max: options.max });
}

/** An optional whole number in a form field: blank or absent is null (the documented "not given"), otherwise as formInteger. */
export function optionalFormInteger(options: { min: number; max: number; message: string }) {
  return z
    .string({ error: options.message })
    .optional()
    .transform((raw, ctx) => {
      const value = raw?.trim() ?? "";
      if (value === "") return null;
      if (!DECIMAL_INTEGER.test(value)) return fail(ctx, options.message);
      const number = Number(value);
      return number >= options.min && number <= options.max ? number : fail(ctx, options.message);
    })
    .register(fieldConstraintRegistry, { type: "number", step: 1, min: options.min, max: options.max });
}

/** A required decimal number ("0.7", "1", ".5") in a form field within [min, max]; blank is an error. */
export function formNumber(options: { min: number; max: number; message: string; blankMessage: string }) {
  return z
    .string({ error: options.blankMessage })
    .transform((raw, ctx) => {
      const value = raw.trim();
      if (value === "") return fail(ctx, options.blankMessage);
      if (!DECIMAL_NUMBER.test(value)) return fail(ctx, options.message);
      const number = Number(value);
      return number >= options.min && number <= options.max ? number : fail(ctx, options.message);
    })
    .register(fieldConstraintRegistry, { type: "number", step: "any", min: options.min, max: options.max });
}

function fail(ctx: z.RefinementCtx, message: string): never {
  ctx.addIssue({ code: "custom", message });
  return z.NEVER;
}
