import { afterAll, describe, expect, it } from "vitest";
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
