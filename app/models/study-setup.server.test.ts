import path from "node:path";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { LEXICAL_EMBEDDING_MODEL } from "../../bandit/lexical-embedding";
import { openDatabase } from "../../db/client";
import { prompts, queries, responses, studies } from "../../db/schema";
import { useTempDir } from "../../tests/helpers/temp-database";
import { decodeEmbedding, reembedLexically, runReembedJob } from "~/llm/embeddings.server";
import { responseProgress } from "~/llm/generation-queue.server";
import { listVariantRequests } from "~/llm/variants.server";
import { parseResponsesJsonl } from "~/utils/study-files.server";
import { newStudyFormSchema, studySetupFormSchema } from "./study-setup-forms.server";
import { addToStudy, createStudy, importResponses, type NewStudy } from "./study-setup.server";

const SETTINGS = { name: "Setup", task: "Help thermostat owners.", model: "m", temperature: 0.5, maxTokens: 100, seed: null };

function study(overrides: Partial<NewStudy> = {}): NewStudy {
  return {
    ...SETTINGS,
    prompts: [
      { text: "Be brief.", label: null, source: "manual" },
      { text: "Be thorough and give examples.", label: "long", source: "manual" },
    ],
    queries: [
      { text: "How do I pair it?", notes: null },
      { text: "Does it need a C-wire?", notes: "Core: no" },
    ],
    variants: null,
    responses: [],
    ...overrides,
  };
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  for (let k = 0; k < a.length; k++) dot += a[k]! * b[k]!;
  return dot;
}

describe("createStudy", () => {
  const dir = useTempDir();

  it("writes the study, drops prompts that repeat after normalisation, embeds offline and queues every pair", () => {
    const { db, close } = openDatabase(path.join(dir(), "create.db"));
    const result = createStudy(db, study({ prompts: [...study().prompts, { text: "  BE   brief. ", label: null, source: "manual" }] }));
    expect(result).toMatchObject({ promptsAdded: 2, promptDuplicates: 1, queriesAdded: 2, queryDuplicates: 0, responsesQueued: 4 });
    expect(responseProgress(db, result.studyId)).toMatchObject({ total: 4, pending: 4, ready: 0 });
    const stored = db.select().from(prompts).where(eq(prompts.studyId, result.studyId)).all();
    for (const prompt of stored) {
      expect(prompt.embeddingModel).toBe(LEXICAL_EMBEDDING_MODEL);
      const vector = decodeEmbedding(prompt.embedding!);
      expect(vector).toHaveLength(256);
      expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
    }
    close();
  });

  it("stores the offline embedding deterministically: near-duplicate prompts land closer than unrelated ones", () => {
    const { db, close } = openDatabase(path.join(dir(), "embed.db"));
    const { studyId } = createStudy(
      db,
      study({
        prompts: [
          { text: "You are a friendly support agent. Answer briefly and politely.", label: null, source: "manual" },
          { text: "You are a friendly support agent. Answer briefly and very politely.", label: null, source: "manual" },
          { text: "Translate every message into French poetry with rhymes.", label: null, source: "manual" },
        ],
      }),
    );
    const vectors = db
      .select()
      .from(prompts)
      .where(eq(prompts.studyId, studyId))
      .orderBy(prompts.id)
      .all()
      .map((p) => decodeEmbedding(p.embedding!));
    expect(cosine(vectors[0]!, vectors[1]!)).toBeGreaterThan(cosine(vectors[0]!, vectors[2]!) + 0.3);
    const again = createStudy(
      db,
      study({
        name: "Again",
        prompts: [
          { text: "You are a friendly support agent. Answer briefly and politely.", label: null, source: "manual" },
          { text: "Other.", label: null, source: "manual" },
        ],
      }),
    );
    const twin = db.select().from(prompts).where(eq(prompts.studyId, again.studyId)).orderBy(prompts.id).get()!;
    expect(Buffer.compare(twin.embedding!, db.select().from(prompts).where(eq(prompts.studyId, studyId)).orderBy(prompts.id).get()!.embedding!)).toBe(
      0,
    );

    db.update(prompts).set({ embeddingModel: "some-provider-model" }).where(eq(prompts.id, twin.id)).run();
    expect(reembedLexically(db)).toEqual({ prompts: 1, studyIds: [again.studyId] });
    expect(db.select().from(prompts).where(eq(prompts.id, twin.id)).get()!.embeddingModel).toBe(LEXICAL_EMBEDDING_MODEL);

    // The same as the job does it: one commit, reporting what it changed (its commit runs inside reembedLexically).
    db.update(prompts).set({ embeddingModel: "some-provider-model" }).where(eq(prompts.id, twin.id)).run();
    const progress = () => {};
    const result = runReembedJob({
      db,
      jobId: 0,
      progress,
      chunk: (write) => db.transaction((tx) => write(tx)),
      commit: (write) => db.transaction((tx) => write(tx)),
      discardStaged: () => {},
    });
    expect(result).toEqual({ prompts: 1, restartEngines: [again.studyId] });
    expect(db.select().from(prompts).where(eq(prompts.id, twin.id)).get()!.embeddingModel).toBe(LEXICAL_EMBEDDING_MODEL);
    close();
  });

  it("records a variant request for the seed prompt, which joins the study as a prompt", () => {
    const { db, close } = openDatabase(path.join(dir(), "variants.db"));
    const { studyId } = createStudy(db, study({ prompts: [], variants: { seedPrompt: "Be helpful.", count: 3 } }));
    const seed = db.select().from(prompts).where(eq(prompts.studyId, studyId)).get()!;
    expect(seed).toMatchObject({ text: "Be helpful.", label: "seed", source: "manual" });
    expect(listVariantRequests(db, studyId)).toEqual([{ studyId, seedPromptId: seed.id, count: 3, error: null }]);
    close();
  });

  it("creates a whole offline study from a responses file: prompts and queries named there are added, all ready", () => {
    const { db, close } = openDatabase(path.join(dir(), "offline.db"));
    const jsonl = [
      { prompt: "Be brief.", query: "Q1?", response: "Short." },
      { prompt: "Be thorough.", query: "Q1?", response: "Long answer." },
      { prompt: "be   BRIEF.", query: "Q2?", response: "Short 2." },
      { prompt: "Be thorough.", query: "Q2?", response: "Long answer 2." },
    ]
      .map((line) => JSON.stringify(line))
      .join("\n");
    const { studyId } = createStudy(db, study({ prompts: [], queries: [], responses: parseResponsesJsonl(jsonl) }));
    expect(responseProgress(db, studyId)).toMatchObject({ total: 4, ready: 4, pending: 0 });
    expect(
      db
        .select()
        .from(prompts)
        .where(eq(prompts.studyId, studyId))
        .all()
        .map((p) => p.source),
    ).toEqual(["imported", "imported"]);
    close();
  });
});

describe("importResponses and addToStudy", () => {
  const dir = useTempDir();

  it("imports by text or id, replacing queued rows; all-or-nothing with the failing line named", () => {
    const { db, close } = openDatabase(path.join(dir(), "import.db"));
    const { studyId } = createStudy(db, study());
    const [brief, thorough] = db.select().from(prompts).where(eq(prompts.studyId, studyId)).orderBy(prompts.id).all();
    const [pair, wire] = db.select().from(queries).where(eq(queries.studyId, studyId)).orderBy(queries.id).all();

    const bad = parseResponsesJsonl(
      [
        JSON.stringify({ prompt: "be brief.", query: "How do I pair it?", response: "Hold the ring." }),
        JSON.stringify({ prompt: "Unknown prompt", query: "How do I pair it?", response: "x" }),
      ].join("\n"),
    );
    expect(() => importResponses(db, studyId, bad)).toThrow('line 2: no prompt in this study matches "Unknown prompt"');
    expect(responseProgress(db, studyId)).toMatchObject({ ready: 0, pending: 4 });

    const repeated = parseResponsesJsonl(
      [
        JSON.stringify({ prompt_id: brief!.id, query_id: pair!.id, response: "a" }),
        JSON.stringify({ prompt: "Be brief.", query: "How do I pair it?", response: "b" }),
      ].join("\n"),
    );
    expect(() => importResponses(db, studyId, repeated)).toThrow("line 2: repeats the prompt and query of line 1");
    expect(() => importResponses(db, studyId, parseResponsesJsonl(JSON.stringify({ prompt_id: brief!.id, query_id: 9999, response: "a" })))).toThrow(
      "line 1: no query in this study matches id 9999",
    );

    const good = parseResponsesJsonl(
      [
        JSON.stringify({ prompt: "be brief.", query: "How do I pair it?", response: "Hold the ring." }),
        JSON.stringify({ prompt_id: thorough!.id, query_id: pair!.id, response: "Step by step..." }),
        JSON.stringify({ prompt: "Be brief.", query: "does it need a c-wire?", response: "Core: no." }),
        JSON.stringify({ prompt_id: thorough!.id, query_id: wire!.id, response: "It depends..." }),
      ].join("\n"),
    );
    expect(importResponses(db, studyId, good)).toBe(4);
    expect(responseProgress(db, studyId)).toMatchObject({ total: 4, ready: 4, pending: 0 });

    // A ready response is never replaced (votes refer to its text); the same file again is fine.
    expect(importResponses(db, studyId, good)).toBe(4);
    const changed = parseResponsesJsonl(JSON.stringify({ prompt: "Be brief.", query: "How do I pair it?", response: "Something else." }));
    expect(() => importResponses(db, studyId, changed)).toThrow("line 1: this prompt already has a ready response to this query");
    const kept = db.select({ content: responses.content }).from(responses).where(eq(responses.promptId, brief!.id)).all();
    expect(kept.map((row) => row.content)).toContain("Hold the ring.");
    expect(kept.map((row) => row.content)).not.toContain("Something else.");
    close();
  });

  it("adds prompts and queries to a study and queues only the new pairs", () => {
    const { db, close } = openDatabase(path.join(dir(), "add.db"));
    const { studyId } = createStudy(db, study());
    const added = addToStudy(db, studyId, {
      prompts: [
        { text: "Be brief.", label: null, source: "manual" },
        { text: "Answer like a pirate.", label: null, source: "manual" },
      ],
      queries: [{ text: "What does Eco mode do?", notes: null }],
    });
    expect(added).toMatchObject({ promptsAdded: 1, promptDuplicates: 1, queriesAdded: 1, responsesQueued: 9 - 4 });
    expect(db.select().from(responses).all()).toHaveLength(9);
    expect(db.select().from(studies).all()).toHaveLength(1);
    close();
  });
});

describe("newStudyFormSchema", () => {
  const base = { name: "S", task: "T", model: "m", temperature: "0.7", maxTokens: "300", seed: "" };

  it("turns pasted text into prompts and queries, and the seed field into a number or null", () => {
    const parsed = newStudyFormSchema({ providerConfigured: false }).parse({
      ...base,
      seed: "42",
      queriesText: "Q1?\n\nQ2?\n",
      promptsText: "A\n---\nB\n\nstill B",
    });
    expect(parsed).toMatchObject({ seed: 42, temperature: 0.7, maxTokens: 300, variants: null });
    expect(parsed.queries.map((q) => q.text)).toEqual(["Q1?", "Q2?"]);
    expect(parsed.prompts.map((p) => p.text)).toEqual(["A", "B\n\nstill B"]);
  });

  it("reports every field problem at once, naming the file and line", () => {
    const result = newStudyFormSchema({ providerConfigured: false }).safeParse({
      ...base,
      name: " ",
      temperature: "3",
      seed: "x",
      queriesFile: { name: "queries.jsonl", content: '{"text":"ok"}\n{"txt":"typo"}' },
      promptsText: "Only one prompt",
      variantCount: "2",
    });
    expect(result.success).toBe(false);
    expect(result.error!.flatten().fieldErrors).toEqual({
      name: ["Enter a name"],
      temperature: ["Temperature must be a number between 0 and 2"],
      seed: ["Seed must be a whole number between 0 and 2147483647, or empty"],
      queriesFile: ['queries.jsonl line 2: needs a "text" or "query" field'],
      seedPrompt: ["Enter the seed prompt to generate variants of"],
      variantCount: ["Generating variants needs an LLM provider (OPENAI_API_KEY or OPENAI_BASE_URL); paste or import prompts instead"],
      promptsText: ["A study compares at least two different prompts: paste or upload two, or generate variants of a seed prompt"],
    });
  });

  it("accepts a seed prompt with N variants as the only prompts when a provider is configured", () => {
    const parsed = newStudyFormSchema({ providerConfigured: true }).parse({
      ...base,
      queriesText: "Q?",
      seedPrompt: "Be helpful.",
      variantCount: "4",
    });
    expect(parsed).toMatchObject({ prompts: [], variants: { seedPrompt: "Be helpful.", count: 4 } });
  });
});

describe("studySetupFormSchema", () => {
  it("parses each intent and rejects an unknown one", () => {
    const schema = studySetupFormSchema({ providerConfigured: true });
    expect(schema.parse({ intent: "add-queries", queriesText: "A?\nB?" })).toMatchObject({ queries: [{ text: "A?" }, { text: "B?" }] });
    expect(schema.parse({ intent: "generate-variants", seedPromptId: "3", variantCount: "5" })).toEqual({
      intent: "generate-variants",
      seedPromptId: 3,
      count: 5,
    });
    expect(schema.safeParse({ intent: "import-responses" }).error!.flatten().fieldErrors).toEqual({
      responsesFile: ["Choose a JSONL file of responses"],
    });
    expect(schema.safeParse({ intent: "drop-tables" }).success).toBe(false);
  });
});
