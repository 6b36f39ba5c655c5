import { describe, expect, it } from "vitest";
import { z } from "zod";
import { fieldConstraint, fieldConstraintRegistry, formConstraints } from "./form-constraints";
import { decimalId, formInteger, formNumber, optionalFormInteger } from "./strict-fields";

describe("formConstraints", () => {
  it("reads required, lengths, pattern and email from string schemas", () => {
    const schema = z.object({
      name: z.string().trim().min(1, "Enter a name").max(120),
      code: z
        .string()
        .min(3)
        .max(8)
        .regex(/^[a-z]+$/),
      email: z.string().trim().max(254).pipe(z.email()),
      note: z.string().max(80).optional(),
      blankAllowed: z.string().max(500),
    });
    expect(formConstraints(schema)).toEqual({
      name: { required: true, minLength: 1, maxLength: 120 },
      code: { required: true, minLength: 3, maxLength: 8, pattern: "^[a-z]+$" },
      email: { required: true, maxLength: 254, type: "email" },
      note: { maxLength: 80 },
      // "" parses: a blank input is a valid answer, so the browser must not demand one.
      blankAllowed: { maxLength: 500 },
    });
  });

  it("leaves out a pattern the browser would reject under its v flag, and flagged regexes", () => {
    expect(fieldConstraint(z.string().regex(/^[\w.:/@-]+$/))).toEqual({ required: true });
    expect(fieldConstraint(z.string().regex(/^abc$/i))).toEqual({ required: true });
  });

  it("reads coerced, preprocessed and piped numbers: bounds, whole-number step, exclusive bounds", () => {
    const schema = z.object({
      uses: z.coerce.number().int().min(2).max(100_000),
      positiveId: z.coerce.number().int().positive(),
      dollars: z.number().positive().max(100_000),
      days: z.preprocess((value) => (value === "" ? null : value), z.coerce.number().int().min(1).max(365).nullable()),
      perMinute: z.string().trim().transform(Number).pipe(z.number().int().min(1).max(600)),
      divisible: z.number().multipleOf(0.05).min(0).max(20),
    });
    expect(formConstraints(schema)).toEqual({
      uses: { required: true, type: "number", step: 1, min: 2, max: 100_000 },
      positiveId: { required: true, type: "number", step: 1, min: 1 },
      // HTML has no exclusive bound: 0 is let through to the server, which refuses it.
      dollars: { required: true, type: "number", step: "any", min: 0, max: 100_000 },
      days: { type: "number", step: 1, min: 1, max: 365 },
      perMinute: { required: true, type: "number", step: 1, min: 1, max: 600 },
      divisible: { required: true, type: "number", step: 0.05, min: 0, max: 20 },
    });
  });

  it("treats defaults and optionals as not required and keeps their bounds", () => {
    const schema = z.object({
      expiresInDays: z.coerce.number().int().min(1).max(30).default(7),
      label: z.string().trim().max(80).nullable().default(null),
      seed: z.string().optional(),
    });
    expect(formConstraints(schema)).toEqual({
      expiresInDays: { type: "number", step: 1, min: 1, max: 30 },
      label: { maxLength: 80 },
      seed: {},
    });
  });

  it("gives an enum its options and required, and a literal or checkbox nothing to demand", () => {
    const schema = z.object({
      scope: z.enum(["read", "write"]),
      role: z.enum(["owner", "editor"]).optional(),
      intent: z.literal("create-token"),
      confirmed: z.literal("yes").optional(),
      notify: z.preprocess((value) => value === "on", z.boolean()),
    });
    expect(formConstraints(schema)).toEqual({
      scope: { required: true, options: ["read", "write"] },
      role: { options: ["owner", "editor"] },
      intent: { required: true },
      confirmed: {},
      notify: {},
    });
  });

  it("reads the bounds the strict number fields register for their transforms", () => {
    const schema = z.object({
      temperature: formNumber({ min: 0, max: 2, message: "m", blankMessage: "b" }),
      maxTokens: formInteger({ min: 1, max: 32768, message: "m", blankMessage: "b" }),
      seed: optionalFormInteger({ min: 0, max: 2_147_483_647, message: "m" }),
      promptId: decimalId("Choose a prompt"),
    });
    expect(formConstraints(schema)).toEqual({
      temperature: { required: true, type: "number", step: "any", min: 0, max: 2 },
      maxTokens: { required: true, type: "number", step: 1, min: 1, max: 32768 },
      seed: { type: "number", step: 1, min: 0, max: 2_147_483_647 },
      promptId: { required: true, pattern: "^[1-9]\\d*$" },
    });
    const registered = z
      .string()
      .transform((value, ctx) => {
        if (value.trim() !== "") return value.trim();
        ctx.addIssue({ code: "custom", message: "Enter a name" });
        return z.NEVER;
      })
      .register(fieldConstraintRegistry, { maxLength: 240 });
    expect(fieldConstraint(registered)).toEqual({ required: true, maxLength: 240 });
    // The same transform without its registration shows zod nothing to read but the blank refusal.
    expect(fieldConstraint(z.string().transform((value) => value.trim()))).toEqual({});
  });

  it("reads one form of a discriminated union by its intent, through object refinements and transforms", () => {
    const schema = z.discriminatedUnion("intent", [
      z
        .object({ intent: z.literal("create"), name: z.string().min(1).max(80), uses: z.coerce.number().int().min(2).optional() })
        .refine((form) => form.uses !== 3, { path: ["uses"], message: "not 3" })
        .transform((form) => ({ ...form, uses: form.uses ?? 1 })),
      z.object({ intent: z.literal("revoke"), tokenId: decimalId("bad id") }),
    ]);
    expect(formConstraints(schema, { intent: "create" })).toEqual({
      intent: { required: true },
      name: { required: true, minLength: 1, maxLength: 80 },
      uses: { type: "number", step: 1, min: 2 },
    });
    expect(Object.keys(formConstraints(schema, { intent: "revoke" }))).toEqual(["intent", "tokenId"]);
    expect(() => formConstraints(schema)).toThrow(/needs a discriminated union and the intent/);
    expect(() => formConstraints(schema, { intent: "nope" })).toThrow(/no form with intent "nope"/);
    expect(() => formConstraints(z.string())).toThrow(/needs an object schema, not string/);
  });
});
