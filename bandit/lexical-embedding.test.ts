import { describe, expect, it } from "vitest";
import { embedText, LEXICAL_EMBEDDING_MODEL } from "./lexical-embedding";

function cosine(x: Float64Array, y: Float64Array): number {
  let sum = 0;
  for (let k = 0; k < x.length; k++) sum += x[k]! * y[k]!;
  return sum;
}

describe("embedText", () => {
  it("is deterministic, unit-norm and 256-dimensional by default", () => {
    const text = "You are a helpful assistant. Answer briefly.";
    const first = embedText(text);
    expect(first.length).toBe(256);
    expect(Array.from(embedText(text))).toEqual(Array.from(first));
    expect(cosine(first, first)).toBeCloseTo(1, 12);
    expect(LEXICAL_EMBEDDING_MODEL).toMatch(/lexical/);
  });

  it("puts near-duplicate prompts closer together than unrelated ones", () => {
    const base = embedText("Answer the customer's question politely and in at most three sentences.");
    const nearDuplicate = embedText("Answer the customer's question politely, in three sentences at most.");
    const unrelated = embedText("Translate the following poem into French, keeping its rhyme scheme.");
    expect(cosine(base, nearDuplicate)).toBeGreaterThan(0.6);
    expect(cosine(base, nearDuplicate)).toBeGreaterThan(cosine(base, unrelated) + 0.3);
  });

  it("honours the dimension option and returns zeros for text without grams", () => {
    expect(embedText("hello world", { dimension: 32 }).length).toBe(32);
    expect(Array.from(embedText("", { dimension: 8 }))).toEqual(new Array(8).fill(0));
    expect(() => embedText("x", { dimension: 0 })).toThrow(/embedText/);
  });
});
