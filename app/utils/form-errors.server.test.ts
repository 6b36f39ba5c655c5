import { describe, expect, it } from "vitest";
import { z } from "zod";
import { routeResponse } from "../../tests/helpers/route-response";
import { allMessages, errorsOf } from "./form-errors";
import { invalidField, invalidForm, refusedForm } from "./form-errors.server";

const answer = async (result: unknown) => {
  const response = await routeResponse(async () => result);
  return { status: response.status, body: (await response.json()) as unknown };
};

describe("the form error shape", () => {
  it("answers a zod failure as form errors and field errors, 400", async () => {
    const schema = z
      .object({ name: z.string().min(1, "Enter a name"), days: z.coerce.number().max(30, "At most 30 days") })
      .refine((form) => form.name !== "x", "Not x");
    const failed = schema.safeParse({ name: "", days: "31" });
    expect(failed.success).toBe(false);
    expect(await answer(invalidForm(failed.error!))).toEqual({
      status: 400,
      body: { ok: false, formErrors: [], fieldErrors: { name: ["Enter a name"], days: ["At most 30 days"] } },
    });
    expect((await answer(invalidForm(schema.safeParse({ name: "x", days: "1" }).error!))).body).toEqual({
      ok: false,
      formErrors: ["Not x"],
      fieldErrors: {},
    });
  });

  it("keeps a status and an intent, and builds one-field and whole-form refusals", async () => {
    expect(await answer(invalidField("annotatorId", "No such annotator", { status: 404, intent: "exclude" }))).toEqual({
      status: 404,
      body: { ok: false, intent: "exclude", formErrors: [], fieldErrors: { annotatorId: ["No such annotator"] } },
    });
    expect(await answer(refusedForm("Email or password is wrong."))).toEqual({
      status: 400,
      body: { ok: false, formErrors: ["Email or password is wrong."], fieldErrors: {} },
    });
  });

  it("gives a page the errors of its own form only, and none after a success", () => {
    const failure = { ok: false, intent: "grow-pool", formErrors: ["Read again"], fieldErrors: { growthCount: ["At most 10"] } };
    expect(errorsOf(failure, "grow-pool")).toEqual({ formErrors: ["Read again"], fieldErrors: { growthCount: ["At most 10"] } });
    expect(errorsOf(failure, "auto-rounds")).toEqual({ formErrors: [], fieldErrors: {} });
    expect(errorsOf(failure)).toEqual({ formErrors: ["Read again"], fieldErrors: { growthCount: ["At most 10"] } });
    // A body refused before its intent was read (an oversized upload) belongs to every form.
    expect(errorsOf({ ...failure, intent: "" }, "auto-rounds").fieldErrors).toEqual({ growthCount: ["At most 10"] });
    expect(errorsOf({ ok: true, notice: "Saved." })).toEqual({ formErrors: [], fieldErrors: {} });
    expect(errorsOf(undefined)).toEqual({ formErrors: [], fieldErrors: {} });
    expect(allMessages(errorsOf(failure))).toEqual(["Read again", "At most 10"]);
  });
});
