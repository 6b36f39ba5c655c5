import { asc } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { studies } from "../../db/schema";
import { useTempAppDatabase } from "../../tests/helpers/temp-database";
import { connection, db } from "~/db.server";
import { planResponses } from "~/llm/response-plan.server";
import { OFF_THREAD_FORM_BYTES, parseFormHere, parseSetupFormFields, parseThreadStarted, stopParseThread } from "./setup-parse.server";

// A large setup or new-study form is parsed on the parse thread (ADR 0036), with the same result and
// the same field errors as on the request thread.

describe("parseSetupFormFields", () => {
  afterAll(() => stopParseThread());

  it("parses a small form here and a 100,000-line upload on the parse thread, with the same rows", async () => {
    const small = { intent: "add-queries", queriesText: "Why?\nHow?" };
    expect(await parseSetupFormFields("setup", { providerConfigured: false }, small)).toEqual(
      parseFormHere("setup", { providerConfigured: false }, small),
    );
    expect(parseThreadStarted()).toBe(false);

    const content = Array.from({ length: 100_000 }, (_, k) => `Why does E${k} blink?`).join("\n");
    expect(content.length).toBeGreaterThan(OFF_THREAD_FORM_BYTES);
    const large = { intent: "add-queries", queriesFile: { name: "queries.txt", content } };
    const parsed = await parseSetupFormFields("setup", { providerConfigured: false }, large);
    expect(parseThreadStarted()).toBe(true);
    expect(parsed).toEqual(parseFormHere("setup", { providerConfigured: false }, large));
    expect(parsed.success && parsed.data.intent === "add-queries" && parsed.data.queries.length).toBe(100_000);
  });

  it("gives the same field errors for a large form that does not validate", async () => {
    const content = `${"x".repeat(OFF_THREAD_FORM_BYTES)}\n`;
    const large = { intent: "add-prompts", promptsFile: { name: "prompts.jsonl", content } };
    const parsed = await parseSetupFormFields("setup", { providerConfigured: false }, large);
    expect(parsed.success).toBe(false);
    expect(parsed).toEqual(parseFormHere("setup", { providerConfigured: false }, large));
    const study = { name: "", queriesText: "q".repeat(OFF_THREAD_FORM_BYTES + 1) };
    expect(await parseSetupFormFields("new-study", { providerConfigured: false }, study)).toEqual(
      parseFormHere("new-study", { providerConfigured: false }, study),
    );
  });
});

// The plan of what a form adds (ADR 0043) is made on the parse thread, from its own connection,
// whatever the form's size: the same figures as planResponses on the request thread.
describe("parseSetupFormFields with a plan", () => {
  useTempAppDatabase();
  afterAll(() => stopParseThread());

  it("plans an addition and a new study on the parse thread as planResponses plans them here, and reports the cap", async () => {
    const study = db().select().from(studies).orderBy(asc(studies.id)).get()!;
    const request = { studyId: study.id, provider: null, responseCap: 200_000, databasePath: connection().path };
    const small = { intent: "add-queries", queriesText: "Why?\nHow?" };
    const planned = await parseSetupFormFields("setup", { providerConfigured: false }, small, request);
    expect(parseThreadStarted()).toBe(true);
    const here = planResponses(db(), study.id, study, { promptTexts: [], queryTexts: ["Why?", "How?"] }, null);
    expect(planned).toEqual({ ...parseFormHere("setup", { providerConfigured: false }, small), planned: { plan: here } });
    expect(here.newResponses).toBeGreaterThan(0);

    const content = Array.from({ length: 100_000 }, (_, k) => `Why does E${k} blink?`).join("\n");
    const large = { intent: "add-queries", queriesFile: { name: "queries.txt", content } };
    const capped = await parseSetupFormFields("setup", { providerConfigured: false }, large, request);
    expect(capped.success && capped.planned).toEqual({
      capError: expect.stringMatching(/a study holds at most 200,000 \(RESPONSES_PER_STUDY_MAX\)/),
    });
    const allowed = await parseSetupFormFields("setup", { providerConfigured: false }, large, { ...request, responseCap: 10_000_000 });
    expect(allowed.success && allowed.planned).toMatchObject({ plan: { queries: here.queries - 2 + 100_000 } });

    // Other intents get no plan; neither does a form that does not validate.
    expect(await parseSetupFormFields("setup", { providerConfigured: false }, { intent: "retry-failed" }, request)).toEqual({
      success: true,
      data: { intent: "retry-failed" },
    });
    const fields = {
      name: "New",
      task: "Help.",
      model: "gpt-4o-mini",
      temperature: "0.7",
      maxTokens: "300",
      promptsText: "A\n---\nB",
      queriesText: "Q?",
    };
    const newStudy = await parseSetupFormFields("new-study", { providerConfigured: false }, fields, { ...request, studyId: null });
    expect(newStudy.success && newStudy.planned).toMatchObject({ plan: { prompts: 2, queries: 1, responses: 2, newResponses: 2 } });
  });
});
