import fs from "node:fs";
import path from "node:path";
import { and, asc, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { annotators, engineSnapshots, prompts, queries, responses, studies, studyAnnotators } from "../../db/schema";
import { signedInOwner } from "../../tests/helpers/in-process-actors";
import { useTempAppDatabase, useTempDir } from "../../tests/helpers/temp-database";
import { seedVotes, type SeededVote } from "../../tests/helpers/seed-votes";
import { db } from "~/db.server";
import { loader as downloadLoader } from "~/routes/studies.$studyId.export.download";
import { ExportOptionsSchema } from "./export-options.server";
import { prepareExport } from "./formats.server";
import { RAW_LOG_COLUMNS, RawLogRecordSchema } from "./raw-log-schema.server";
import { writeLinesToFile } from "./stream.server";

// Mirrors of what the consumers accept. TRL preference dataset (huggingface.co/docs/trl/dataset_formats):
// standard = prompt/chosen/rejected strings; conversational = message lists, the prompt ending with the
// user turn, chosen/rejected one assistant turn each. OpenAI preference fine-tuning input (platform docs,
// "Direct preference optimization"): input.messages, then exactly one assistant message in
// preferred_output and in non_preferred_output.
const text = z.string().min(1);
const assistantTurn = z.tuple([z.strictObject({ role: z.literal("assistant"), content: text })]);
const promptTurns = z
  .array(z.strictObject({ role: z.enum(["system", "user"]), content: text }))
  .min(1)
  .refine((turns) => turns.at(-1)!.role === "user", "the prompt must end with the user turn")
  .refine((turns) => turns.every((turn, index) => turn.role === "user" || index === 0), "a system message may only come first");
const TrlStandardLine = z.strictObject({ prompt: text, chosen: text, rejected: text });
const TrlConversationalLine = z.strictObject({ prompt: promptTurns, chosen: assistantTurn, rejected: assistantTurn });
const OpenAiPreferenceLine = z.strictObject({
  input: z.strictObject({ messages: promptTurns }),
  preferred_output: assistantTurn,
  non_preferred_output: assistantTurn,
});

function demoStudy() {
  return db().select().from(studies).orderBy(asc(studies.id)).get()!;
}

function byIndex(studyId: number) {
  const promptRows = db().select().from(prompts).where(eq(prompts.studyId, studyId)).orderBy(asc(prompts.id)).all();
  const queryRows = db().select().from(queries).where(eq(queries.studyId, studyId)).orderBy(asc(queries.id)).all();
  const response = (prompt: number, query: number) =>
    db()
      .select({ content: responses.content })
      .from(responses)
      .where(and(eq(responses.promptId, promptRows[prompt]!.id), eq(responses.queryId, queryRows[query]!.id)))
      .get()!.content!;
  return { promptRows, queryRows, response };
}

function exportText(studyId: number, options: z.input<typeof ExportOptionsSchema>): string {
  const prepared = prepareExport(db(), studyId, ExportOptionsSchema.parse(options));
  if (!prepared.ok) throw new Error(prepared.message);
  return [...prepared.export.lines()].join("");
}

const jsonLines = (content: string) =>
  content
    .split("\n")
    .slice(0, -1)
    .map((line) => JSON.parse(line) as unknown);

const DAY1 = new Date("2025-03-01T10:00:00.000Z");
const DAY2 = new Date("2025-03-02T10:00:00.000Z");
const DAY3 = new Date("2025-03-03T23:59:59.000Z");

// Prompt 0 vs 1 on query 0 is voted four times (3 for prompt 0, 1 for prompt 1): the majority case.
// Prompt 2 vs 3 on query 1 is split 1-1 (no majority). Every non-decisive choice appears once.
const VOTES: SeededVote[] = [
  { annotator: "Ada", promptA: 0, promptB: 1, query: 0, leftIsA: true, choice: "left", at: DAY1, latencyMs: 1200 },
  { annotator: "Ada", promptA: 0, promptB: 1, query: 0, leftIsA: false, choice: "right", at: DAY1, comment: "clearer" },
  { annotator: "Grace", promptA: 1, promptB: 0, query: 0, leftIsA: true, choice: "right", at: DAY2 },
  { annotator: "Grace", promptA: 0, promptB: 1, query: 0, leftIsA: true, choice: "right", at: DAY2 },
  { annotator: "Ada", promptA: 2, promptB: 3, query: 1, leftIsA: true, choice: "left", at: DAY2 },
  { annotator: "Grace", promptA: 2, promptB: 3, query: 1, leftIsA: false, choice: "left", at: DAY3 },
  { annotator: "Ada", promptA: 4, promptB: 5, query: 2, leftIsA: true, choice: "tie", at: DAY3 },
  { annotator: "Grace", promptA: 4, promptB: 5, query: 3, leftIsA: false, choice: "both_bad", at: DAY3 },
  {
    annotator: "Grace",
    promptA: 6,
    promptB: 7,
    query: 4,
    leftIsA: true,
    choice: "skip",
    at: DAY3,
    comment: "=cmd|' /C calc'!A0, \"quoted\"\nline two",
  },
];

/** [chosen prompt index, rejected prompt index, query index] of each decisive vote, in vote order. */
const EXPECTED_PAIRS: [number, number, number][] = [
  [0, 1, 0],
  [0, 1, 0],
  [0, 1, 0],
  [1, 0, 0],
  [2, 3, 1],
  [3, 2, 1],
];

describe("preference exports (TRL, OpenAI)", () => {
  useTempAppDatabase();
  // The demo study's owner (the first account adopts it), whose cookie the route requests carry.
  let owner: Awaited<ReturnType<typeof signedInOwner>>;
  beforeAll(async () => {
    owner = await signedInOwner();
  });
  const tempDir = useTempDir();

  it("writes one valid TRL standard line per decisive vote, chosen resolved through left_is_a; no tie, both-bad or skip leaks in", () => {
    const study = demoStudy();
    seedVotes(db(), study.id, VOTES);
    const { queryRows, response } = byIndex(study.id);
    const lines = jsonLines(exportText(study.id, { format: "trl" })).map((line) => TrlStandardLine.parse(line));
    expect(lines).toEqual(
      EXPECTED_PAIRS.map(([chosen, rejected, query]) => ({
        prompt: queryRows[query]!.text,
        chosen: response(chosen, query),
        rejected: response(rejected, query),
      })),
    );
    const nonDecisiveQueries = [2, 3, 4].map((query) => queryRows[query]!.text);
    for (const line of lines) expect(nonDecisiveQueries).not.toContain(line.prompt);
  });

  it("writes TRL conversational and OpenAI lines with the right roles and each system message option", () => {
    const study = demoStudy();
    const { promptRows, queryRows, response } = byIndex(study.id);
    const conversational = jsonLines(exportText(study.id, { format: "trl-conversational" })).map((line) => TrlConversationalLine.parse(line));
    expect(conversational).toHaveLength(EXPECTED_PAIRS.length);
    expect(conversational[3]).toEqual({
      prompt: [{ role: "user", content: queryRows[0]!.text }],
      chosen: [{ role: "assistant", content: response(1, 0) }],
      rejected: [{ role: "assistant", content: response(0, 0) }],
    });

    const withChosenPrompt = jsonLines(exportText(study.id, { format: "openai", system: "chosen-prompt" })).map((line) =>
      OpenAiPreferenceLine.parse(line),
    );
    expect(withChosenPrompt).toHaveLength(EXPECTED_PAIRS.length);
    withChosenPrompt.forEach((line, index) => {
      const [chosen, rejected, query] = EXPECTED_PAIRS[index]!;
      expect(line).toEqual({
        input: {
          messages: [
            { role: "system", content: promptRows[chosen]!.text },
            { role: "user", content: queryRows[query]!.text },
          ],
        },
        preferred_output: [{ role: "assistant", content: response(chosen, query) }],
        non_preferred_output: [{ role: "assistant", content: response(rejected, query) }],
      });
    });

    const noSnapshotYet = prepareExport(db(), study.id, ExportOptionsSchema.parse({ format: "openai", system: "recommended" }));
    expect(noSnapshotYet).toMatchObject({ ok: false, status: 400, message: expect.stringMatching(/no recommended prompt yet/) });
    db()
      .insert(engineSnapshots)
      .values({ studyId: study.id, voteCount: 6, policy: "duet", recommendedPromptId: promptRows[2]!.id, promptStats: [] })
      .run();
    const recommended = jsonLines(exportText(study.id, { format: "trl-conversational", system: "recommended" })).map((line) =>
      TrlConversationalLine.parse(line),
    );
    for (const line of recommended) expect(line.prompt[0]).toEqual({ role: "system", content: promptRows[2]!.text });
    // TRL standard has no place for a system message: the option has no effect there.
    expect(exportText(study.id, { format: "trl", system: "recommended" })).toBe(exportText(study.id, { format: "trl" }));
  });

  it("aggregates duplicates of the same (query, prompt pair) by majority and leaves an even split out", () => {
    const study = demoStudy();
    const { queryRows, response } = byIndex(study.id);
    const lines = jsonLines(exportText(study.id, { format: "trl", duplicates: "majority" })).map((line) => TrlStandardLine.parse(line));
    expect(lines).toEqual([{ prompt: queryRows[0]!.text, chosen: response(0, 0), rejected: response(1, 0) }]);
  });

  it("filters by annotator and by inclusive UTC days", () => {
    const study = demoStudy();
    const raw = (options: Omit<z.input<typeof ExportOptionsSchema>, "format">) =>
      jsonLines(exportText(study.id, { format: "jsonl", ...options })).map((line) => RawLogRecordSchema.parse(line));
    const ada = raw({}).find((record) => record.annotator_name === "Ada")!.annotator_id;
    expect(raw({ annotator: String(ada) }).map((record) => record.annotator_name)).toEqual(["Ada", "Ada", "Ada", "Ada"]);
    expect(raw({ from: "2025-03-02", to: "2025-03-02" })).toHaveLength(3);
    expect(raw({ from: "2025-03-03" })).toHaveLength(4);
    expect(raw({ to: "2025-03-01" })).toHaveLength(2);
    expect(exportText(study.id, { format: "trl", to: "2025-03-01" }).split("\n")).toHaveLength(3);
  });

  it("writes the raw log with every vote, both prompts, sides, choice and timing; CSV has the same columns", () => {
    const study = demoStudy();
    const { promptRows, queryRows, response } = byIndex(study.id);
    const records = jsonLines(exportText(study.id, { format: "jsonl" })).map((line) => RawLogRecordSchema.parse(line));
    expect(records.map((record) => record.choice)).toEqual(VOTES.map((vote) => vote.choice));
    expect(Object.keys(records[0]!)).toEqual([...RAW_LOG_COLUMNS]);
    expect(records[1]).toMatchObject({
      study_id: study.id,
      study_name: study.name,
      annotator_name: "Ada",
      query: queryRows[0]!.text,
      prompt_a_id: promptRows[0]!.id,
      prompt_a_text: promptRows[0]!.text,
      prompt_b_id: promptRows[1]!.id,
      response_a: response(0, 0),
      response_b: response(1, 0),
      prompt_a_side: "right",
      prompt_b_side: "left",
      choice: "right",
      preferred_prompt_id: promptRows[0]!.id,
      comment: "clearer",
      issued_at: "2025-03-01T09:59:55.000Z",
      voted_at: "2025-03-01T10:00:00.000Z",
      policy: "random",
      engine_round: 0,
    });
    expect(records[6]!.preferred_prompt_id).toBeNull();

    expect(records.every((record) => record.annotator_excluded === false)).toBe(true);

    const csv = exportText(study.id, { format: "csv" });
    expect(csv.startsWith(`${RAW_LOG_COLUMNS.join(",")}\r\n`)).toBe(true);
    expect(csv).toContain(`,"'=cmd|' /C calc'!A0, ""quoted""\nline two",`);
    expect(csv.endsWith("\r\n")).toBe(true);
  });

  it("marks the votes of an excluded annotator in the raw log, and unmarks them on reinstatement", () => {
    const study = demoStudy();
    const ada = db().select({ id: annotators.id }).from(annotators).where(eq(annotators.displayName, "Ada")).get()!.id;
    db()
      .insert(studyAnnotators)
      .values({ studyId: study.id, annotatorId: ada, excludedAt: new Date() })
      .onConflictDoUpdate({
        target: [studyAnnotators.studyId, studyAnnotators.annotatorId],
        set: { excludedAt: new Date() },
      })
      .run();
    const records = jsonLines(exportText(study.id, { format: "jsonl" })).map((line) => RawLogRecordSchema.parse(line));
    expect(records.some((record) => record.annotator_name === "Ada")).toBe(true);
    expect(records.some((record) => record.annotator_name !== "Ada")).toBe(true);
    for (const record of records) expect(record.annotator_excluded).toBe(record.annotator_name === "Ada");
    const csvRows = exportText(study.id, { format: "csv" }).trimEnd().split("\r\n").slice(1);
    expect(csvRows.filter((row) => row.endsWith(",true,human,work,,")).length).toBe(
      records.filter((record) => record.annotator_name === "Ada").length,
    );

    db().update(studyAnnotators).set({ excludedAt: null }).where(eq(studyAnnotators.annotatorId, ada)).run();
    const again = jsonLines(exportText(study.id, { format: "jsonl" })).map((line) => RawLogRecordSchema.parse(line));
    expect(again.every((record) => record.annotator_excluded === false)).toBe(true);
  });

  it("gives the same bytes every time, from the download route and from the file writer the CLI uses", async () => {
    const study = demoStudy();
    for (const format of ["trl", "trl-conversational", "openai", "csv", "jsonl"] as const) {
      const options = { format, system: format === "openai" ? "chosen-prompt" : "none", duplicates: "keep" } as const;
      const file = path.join(tempDir(), `${format}.out`);
      const prepared = prepareExport(db(), study.id, ExportOptionsSchema.parse(options));
      if (!prepared.ok) throw new Error(prepared.message);
      await writeLinesToFile(prepared.export.lines(), file);
      const response = await downloadLoader({
        request: new Request(`http://localhost/studies/${study.id}/export/download?${new URLSearchParams(options)}`, {
          headers: { Cookie: owner.cookie },
        }),
        params: { studyId: String(study.id) },
        context: {},
      });
      expect(response.status).toBe(200);
      expect(response.headers.get("Content-Disposition")).toBe(`attachment; filename="${prepared.export.fileName}"`);
      const downloaded = Buffer.from(await response.arrayBuffer());
      expect(downloaded.equals(fs.readFileSync(file))).toBe(true);
      expect(downloaded.length).toBeGreaterThan(0);
      expect(exportText(study.id, options)).toBe(downloaded.toString("utf8"));
    }
  });

  it("answers 400 with a readable message for bad parameters and 404 for an unknown study", async () => {
    const study = demoStudy();
    const get = async (studyId: string, query: string) => {
      try {
        return await downloadLoader({
          request: new Request(`http://localhost/studies/${studyId}/export/download?${query}`, { headers: { Cookie: owner.cookie } }),
          params: { studyId },
          context: {},
        });
      } catch (thrown) {
        if (thrown instanceof Response) return thrown;
        throw thrown;
      }
    };
    const cases: [string, RegExp][] = [
      ["format=parquet", /format must be one of: trl, trl-conversational, openai, csv, jsonl/],
      ["", /format must be one of/],
      ["format=trl&system=maybe", /system must be one of: none, recommended, chosen-prompt/],
      ["format=trl&duplicates=drop", /duplicates must be one of: keep, majority/],
      ["format=csv&annotator=ada", /annotator must be an annotator id/],
      ["format=csv&from=2025-02-30", /from is not a real calendar date/],
      ["format=csv&from=03/01/2025", /from must be a date written YYYY-MM-DD/],
      ["format=csv&from=2025-03-02&to=2025-03-01", /to must be on or after from/],
    ];
    for (const [query, message] of cases) {
      const response = await get(String(study.id), query);
      expect(response.status, query).toBe(400);
      expect(await response.text(), query).toMatch(message);
    }
    expect((await get("999999", "format=csv")).status).toBe(404);
    expect((await get("abc", "format=csv")).status).toBe(404);
  });
});
