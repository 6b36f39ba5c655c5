import { z } from "zod";

// Input constraints derived from a form's zod schema (issue 19 §4, ADR 0040): the schema that parses a
// form on the server also gives its inputs required / minLength / maxLength / min / max / step /
// pattern / type, so no JSX repeats a limit. Loaders derive them (form schemas are server modules) and
// hand them to <Field> (app/components/field.tsx) as plain JSON.

/** The HTML constraint attributes of one input. */
export interface FieldConstraint {
  required?: boolean;
  minLength?: number;
  maxLength?: number;
  min?: number;
  max?: number;
  /** 1 for whole numbers, "any" for decimals (the schema accepts any decimal, so the browser must too). */
  step?: number | "any";
  pattern?: string;
  type?: "number" | "email";
  /** The choices of an enum field (radio buttons or a select). */
  options?: string[];
}

/** Constraints by field name. */
export type FormConstraints = Record<string, FieldConstraint>;

/**
 * Constraints of schemas whose rule zod cannot see (a transform that parses the text itself, as the
 * strict number fields of app/utils/strict-fields.ts do). A schema registers the limits its transform
 * enforces; derivation merges them over what it read from the schema's checks.
 */
export const fieldConstraintRegistry = z.registry<FieldConstraint>();

type AnySchema = z.core.$ZodType;

const SAFE_INTEGER_BOUND = Number.MAX_SAFE_INTEGER;

/**
 * The constraints of every field of a form's object schema. For a discriminated union (forms that post
 * several actions through an `intent` field) pass the intent whose fields you render. Refinements and
 * transforms on the whole object are cross-field rules and give no constraint; a field is `required`
 * when its schema refuses both an absent value and an empty string (what a blank input sends).
 */
export function formConstraints(schema: AnySchema, options: { intent?: string } = {}): FormConstraints {
  const shape = objectShape(schema, options.intent);
  const constraints: FormConstraints = {};
  for (const [name, field] of Object.entries(shape)) constraints[name] = fieldConstraint(field);
  return constraints;
}

/** The constraints of one field's schema. */
export function fieldConstraint(schema: AnySchema): FieldConstraint {
  const derived = readBounds(schema);
  if (!acceptsBlank(schema)) derived.required = true;
  return withoutUndefined(derived);
}

function objectShape(schema: AnySchema, intent: string | undefined): Record<string, AnySchema> {
  const def = schema._zod.def;
  switch (def.type) {
    case "object":
      return (def as z.core.$ZodObjectDef).shape;
    case "pipe":
      return objectShape((def as z.core.$ZodPipeDef).in, intent);
    case "union": {
      const options = (def as z.core.$ZodUnionDef).options;
      const discriminator = (def as z.core.$ZodDiscriminatedUnionDef).discriminator;
      if (discriminator === undefined || intent === undefined) {
        throw new Error("formConstraints of a union needs a discriminated union and the intent to render");
      }
      const option = options.find((candidate) => literalValues(objectShape(candidate, intent)[discriminator]).includes(intent));
      if (!option) throw new Error(`formConstraints: no form with ${discriminator} "${intent}"`);
      return objectShape(option, intent);
    }
    default:
      throw new Error(`formConstraints needs an object schema, not ${def.type}`);
  }
}

function literalValues(schema: AnySchema | undefined): unknown[] {
  if (!schema) return [];
  const def = schema._zod.def;
  if (def.type === "literal") return (def as z.core.$ZodLiteralDef<z.core.util.Literal>).values;
  if (def.type === "enum") return Object.values((def as z.core.$ZodEnumDef).entries);
  return [];
}

/** An HTML form sends a blank input as "" and an unchecked or missing one not at all. */
function acceptsBlank(schema: AnySchema): boolean {
  return z.safeParse(schema, undefined).success || z.safeParse(schema, "").success;
}

/** The bounds a field's schema enforces on what the user types, walking through wrappers and pipes. */
function readBounds(schema: AnySchema): FieldConstraint {
  const def = schema._zod.def;
  let bounds: FieldConstraint;
  switch (def.type) {
    case "optional":
    case "nullable":
    case "default":
    case "prefault":
    case "readonly":
    case "catch":
      bounds = readBounds((def as z.core.$ZodOptionalDef).innerType);
      break;
    case "pipe": {
      const { in: input, out } = def as z.core.$ZodPipeDef;
      // z.preprocess(fn, schema): the input is unknown to zod; the bounds are the schema's.
      if (input._zod.def.type === "transform") bounds = readBounds(out);
      // A transform after a schema (.transform(fn)) adds no bound; a schema after it (.pipe(schema))
      // checks the converted value, e.g. z.string().transform(Number).pipe(z.number().max(600)).
      else bounds = { ...readBounds(input), ...(out._zod.def.type === "transform" ? {} : readBounds(out)) };
      break;
    }
    case "string":
      bounds = stringBounds(schema as z.core.$ZodString);
      break;
    case "number":
      bounds = numberBounds(schema as z.core.$ZodNumber);
      break;
    case "enum":
      bounds = { options: Object.values((def as z.core.$ZodEnumDef).entries).map(String) };
      break;
    default:
      bounds = {};
  }
  return { ...bounds, ...fieldConstraintRegistry.get(schema) };
}

function stringBounds(schema: z.core.$ZodString): FieldConstraint {
  const def = schema._zod.def;
  const bounds: FieldConstraint = (def as { format?: string }).format === "email" ? { type: "email" } : {};
  for (const check of def.checks ?? []) {
    const checkDef = check._zod.def as z.core.$ZodCheckDef & Record<string, unknown>;
    if (checkDef.check === "min_length") bounds.minLength = Math.max(bounds.minLength ?? 0, checkDef.minimum as number);
    if (checkDef.check === "max_length") bounds.maxLength = Math.min(bounds.maxLength ?? Infinity, checkDef.maximum as number);
    if (checkDef.check === "length_equals") bounds.minLength = bounds.maxLength = checkDef.length as number;
    if (checkDef.check === "string_format" && checkDef.format === "email") bounds.type = "email";
    if (checkDef.check === "string_format" && checkDef.format === "regex") {
      const pattern = checkDef.pattern as RegExp;
      if (pattern.flags === "" && isValidHtmlPattern(pattern.source)) bounds.pattern = pattern.source;
    }
  }
  return bounds;
}

function numberBounds(schema: z.core.$ZodNumber): FieldConstraint {
  const bounds: FieldConstraint = { type: "number", step: "any" };
  for (const check of schema._zod.def.checks ?? []) {
    const checkDef = check._zod.def as z.core.$ZodCheckDef & Record<string, unknown>;
    if (checkDef.check === "number_format" && (checkDef.format === "safeint" || checkDef.format === "int32")) bounds.step = 1;
    // HTML has no exclusive bound: min 0 stands for "above 0" and the server refuses 0 itself.
    if (checkDef.check === "greater_than") bounds.min = Math.max(bounds.min ?? -Infinity, checkDef.value as number);
    if (checkDef.check === "less_than") bounds.max = Math.min(bounds.max ?? Infinity, checkDef.value as number);
    if (checkDef.check === "multiple_of") bounds.step = checkDef.value as number;
  }
  // A whole number above an exclusive bound starts at the next integer (.positive() on an int: min 1).
  const exclusiveMin = (schema._zod.def.checks ?? []).some((check) => {
    const checkDef = check._zod.def as z.core.$ZodCheckDef & Record<string, unknown>;
    return checkDef.check === "greater_than" && checkDef.inclusive === false && checkDef.value === bounds.min;
  });
  if (exclusiveMin && bounds.step === 1 && bounds.min !== undefined) bounds.min += 1;
  if (bounds.min !== undefined && bounds.min <= -SAFE_INTEGER_BOUND) delete bounds.min;
  if (bounds.max !== undefined && bounds.max >= SAFE_INTEGER_BOUND) delete bounds.max;
  return bounds;
}

/** Browsers compile `pattern` with the `v` flag and ignore (with a console warning) one that fails. */
function isValidHtmlPattern(source: string): boolean {
  try {
    new RegExp(source, "v");
    return true;
  } catch {
    return false;
  }
}

function withoutUndefined(constraint: FieldConstraint): FieldConstraint {
  return Object.fromEntries(Object.entries(constraint).filter(([, value]) => value !== undefined));
}
