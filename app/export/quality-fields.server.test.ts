import { asc, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { annotators, assignments, goldItems, prompts, queries, reliabilityFits, responses, studies, studyAnnotators, votes } from "../../db/schema";
import { generationSettingsHash } from "../../db/text";
import { seedVotes, type SeededVote } from "../../tests/helpers/seed-votes";
import { useTempAppDatabase } from "../../tests/helpers/temp-database";
import { db } from "~/db.server";
import { ExportOptionsSchema } from "./export-options.server";
import { countPreferencePairs, prepareExport } from "./formats.server";

// Quality fields and filters of the preference exports (issue 18 §7, ADR 0035) on a fixed log whose
// figures are worked out by hand. Three prompts (0 < 1 < 2 by id), two queries: six items. Every
// response is 500 characters, so the reading rule asks 20 s of a vote.
//   Ada: always clicks left (sides alternate), 30 s a vote      -> 6 of 6 left: side_bias
//   Bo:  prompt A on the left, 2 s a vote                        -> too_fast
//   Cy:  prompt A on the right, 25 s a vote                      -> no flag
// Labels per item (0 = lower-id prompt won, 1 = higher-id won, 2 = draw):
//   Ada [0, 1, 0, 1, 0, 1]   Bo [0, 1, 0, 1, 0, 2]   Cy [0, 1, 1, 1, 2, 2]
// Pairings with the others: Ada agrees on 8 of 12 (0.6667), Bo on 9 of 12 (0.75), Cy on 7 of 12 (0.5833).
// Decisive votes: Ada 6, Bo 5, Cy 4 (15 pairs with duplicates=keep).
const ITEMS: [number, number, number][] = [
  [0, 1, 0],
  [0, 2, 0],
  [1, 2, 0],
  [0, 1, 1],
  [0, 2, 1],
  [1, 2, 1],
];
const LABELS = { Ada: [0, 1, 0, 1, 0, 1], Bo: [0, 1, 0, 1, 0, 2], Cy: [0, 1, 1, 1, 2, 2] } as const;
type Name = keyof typeof LABELS;

function vote(annotator: Name, item: number, label: number, leftIsA: boolean, latencyMs: number, minute: number): SeededVote {
  const [promptA, promptB, query] = ITEMS[item]!;
  const choice = label === 2 ? "tie" : (label === 0) === leftIsA ? "left" : "right";
  return { annotator, promptA, promptB, query, leftIsA, choice, latencyMs, at: new Date(Date.UTC(2026, 10, 1, 10, minute)) };
}

const Quality = z.strictObject({
  votes: z.number(),
  majority_votes: z.number(),
  flags: z.array(z.string()),
  annotators: z.array(
    z.strictObject({
      id: z.number(),
      kind: z.enum(["human", "judge"]),
      agreement: z.number().nullable(),
      consistency: z.number().nullable(),
      gold_accuracy: z.number().nullable(),
      reliability: z.number().nullable(),
      flags: z.array(z.string()),
    }),
  ),
});
const TrlWithQuality = z.strictObject({ prompt: z.string(), chosen: z.string(), rejected: z.string(), quality: Quality });

let studyId: number;
const ids = {} as Record<Name, number>;

function lines(options: z.input<typeof ExportOptionsSchema>) {
  const prepared = prepareExport(db(), studyId, ExportOptionsSchema.parse(options));
  if (!prepared.ok) throw new Error(prepared.message);
  return [...prepared.export.lines()].map((line) => JSON.parse(line) as Record<string, unknown>);
}

const count = (options: z.input<typeof ExportOptionsSchema>) => countPreferencePairs(db(), studyId, ExportOptionsSchema.parse(options));

describe("quality fields and filters of the preference exports", () => {
  useTempAppDatabase();
  beforeAll(() => {
    const study = db().insert(studies).values({ name: "Quality export", task: "t", model: "m" }).returning().get();
    studyId = study.id;
    const promptIds = ["one", "two", "three"].map(
      (text) => db().insert(prompts).values({ studyId, text, normalizedText: text }).returning().get().id,
    );
    const queryIds = ["first", "second"].map((text) => db().insert(queries).values({ studyId, text }).returning().get().id);
    for (const promptId of promptIds)
      for (const queryId of queryIds)
        db()
          .insert(responses)
          .values({
            promptId,
            queryId,
            settingsHash: generationSettingsHash(study),
            status: "ready",
            content: `${promptId}:${queryId}:`.padEnd(500, "x"),
          })
          .run();
    const log: SeededVote[] = [];
    LABELS.Ada.forEach((label, item) => log.push(vote("Ada", item, label, item % 2 === 0, 30_000, item)));
    LABELS.Bo.forEach((label, item) => log.push(vote("Bo", item, label, true, 2_000, 10 + item)));
    LABELS.Cy.forEach((label, item) => log.push(vote("Cy", item, label, false, 25_000, 20 + item)));
    seedVotes(db(), studyId, log);
    for (const row of db().select().from(annotators).all()) {
      ids[row.displayName as Name] = row.id;
      db().insert(studyAnnotators).values({ studyId, annotatorId: row.id }).run();
    }
  });

  it("omits the quality object unless asked, and carries each annotator's figures and flags when included", () => {
    expect(lines({ format: "trl" }).every((line) => !("quality" in line))).toBe(true);
    const included = lines({ format: "trl", quality: "include" }).map((line) => TrlWithQuality.parse(line));
    expect(included).toHaveLength(15);
    const byAnnotator = (name: Name) => included.filter((line) => line.quality.annotators[0]!.id === ids[name]);
    expect(byAnnotator("Ada")[0]!.quality).toEqual({
      votes: 1,
      majority_votes: 1,
      flags: ["side_bias"],
      annotators: [
        { id: ids.Ada, kind: "human", agreement: 0.6667, consistency: null, gold_accuracy: null, reliability: null, flags: ["side_bias"] },
      ],
    });
    expect(byAnnotator("Bo")).toHaveLength(5);
    expect(byAnnotator("Bo")[0]!.quality.flags).toEqual(["too_fast"]);
    expect(byAnnotator("Bo")[0]!.quality.annotators[0]!.agreement).toBe(0.75);
    expect(byAnnotator("Cy")).toHaveLength(4);
    expect(byAnnotator("Cy")[0]!.quality.flags).toEqual([]);
    // The OpenAI format carries the same object after its own fields.
    const openai = lines({ format: "openai", quality: "include" });
    expect(Object.keys(openai[0]!)).toEqual(["input", "preferred_output", "non_preferred_output", "quality"]);
  });

  it("--exclude-flagged keeps only unflagged annotators' votes; --min-agreement only those agreeing at least that share", () => {
    expect(count({ format: "trl" })).toBe(15);
    // Ada (side bias) and Bo (too fast) are flagged: Cy's 4 decisive votes remain.
    expect(count({ format: "trl", "exclude-flagged": "on" })).toBe(4);
    const unflagged = lines({ format: "trl", "exclude-flagged": "yes", quality: "include" }).map((line) => TrlWithQuality.parse(line));
    expect(unflagged.map((line) => line.quality.annotators[0]!.id)).toEqual([ids.Cy, ids.Cy, ids.Cy, ids.Cy]);
    // 0.75 >= 0.7: Bo only; 0.6667 and 0.75 >= 0.6: Ada and Bo; 0.5833 >= 0.5: everyone.
    expect(count({ format: "trl", "min-agreement": "0.7" })).toBe(5);
    expect(count({ format: "openai", "min-agreement": "0.6" })).toBe(11);
    expect(count({ format: "trl", "min-agreement": "0.5" })).toBe(15);
    expect(count({ format: "trl", "min-agreement": "0.6", "exclude-flagged": "on" })).toBe(0);
    // The count is the number of lines the download writes.
    expect(lines({ format: "trl-conversational", "min-agreement": "0.7" })).toHaveLength(5);
    // Raw-log formats are every vote: no pair count.
    expect(count({ format: "csv" })).toBeNull();
  });

  it("an excluded annotator is flagged, and by majority the line names every annotator behind it", () => {
    db().update(studyAnnotators).set({ excludedAt: new Date() }).where(eq(studyAnnotators.annotatorId, ids.Cy)).run();
    try {
      const flagged = lines({ format: "trl", quality: "include" }).map((line) => TrlWithQuality.parse(line));
      const cy = flagged.filter((line) => line.quality.annotators[0]!.id === ids.Cy);
      expect(cy.map((line) => line.quality.flags)).toEqual([["excluded"], ["excluded"], ["excluded"], ["excluded"]]);
      expect(count({ format: "trl", "exclude-flagged": "on" })).toBe(0);
    } finally {
      db().update(studyAnnotators).set({ excludedAt: null }).where(eq(studyAnnotators.annotatorId, ids.Cy)).run();
    }
    // An LLM judge's votes say so (annotators.kind, ADR 0032).
    db().update(annotators).set({ kind: "judge" }).where(eq(annotators.id, ids.Cy)).run();
    try {
      const judged = lines({ format: "openai", quality: "include" }) as { quality: z.infer<typeof Quality> }[];
      expect(new Set(judged.filter((line) => line.quality.annotators[0]!.id === ids.Cy).map((line) => line.quality.annotators[0]!.kind))).toEqual(
        new Set(["judge"]),
      );
    } finally {
      db().update(annotators).set({ kind: "human" }).where(eq(annotators.id, ids.Cy)).run();
    }
    // Majority per item over the decisive votes. Item 0 (0-1 on q0): Ada 0, Bo 0, Cy 0 -> 3 of 3. Item 2 (1-2 on q0):
    // Ada 0, Bo 0, Cy 1 -> 2 of 3. Item 4 (0-2 on q1): Ada 0, Bo 0 (Cy drew) -> 2 of 2. Item 5: Ada 1 alone -> 1 of 1.
    const majority = lines({ format: "trl", duplicates: "majority", quality: "include" }).map((line) => TrlWithQuality.parse(line));
    expect(majority.map((line) => [line.quality.votes, line.quality.majority_votes, line.quality.annotators.map((entry) => entry.id)])).toEqual([
      [3, 3, [ids.Ada, ids.Bo, ids.Cy]],
      [3, 3, [ids.Ada, ids.Bo, ids.Cy]],
      [3, 2, [ids.Ada, ids.Bo, ids.Cy]],
      [3, 3, [ids.Ada, ids.Bo, ids.Cy]],
      [2, 2, [ids.Ada, ids.Bo]],
      [1, 1, [ids.Ada]],
    ]);
    expect(majority[0]!.quality.flags).toEqual(["too_fast", "side_bias"]);
    // The filter applies before the majority: Cy alone.
    const cyOnly = lines({ format: "trl", duplicates: "majority", quality: "include", "exclude-flagged": "on" }).map((line) =>
      TrlWithQuality.parse(line),
    );
    expect(cyOnly.map((line) => line.quality.votes)).toEqual([1, 1, 1, 1]);
  });

  it("flags audit votes and votes on gold items, leaves audits out of the majority, and drops both with --exclude-flagged", () => {
    // Cy is audited on item 0 (prompt 0 vs 1 on the first query), sides swapped, and says the same again; item 1 becomes gold.
    const [low, , high] = db().select().from(prompts).where(eq(prompts.studyId, studyId)).orderBy(asc(prompts.id)).all();
    const [first] = db().select().from(queries).where(eq(queries.studyId, studyId)).orderBy(asc(queries.id)).all();
    const original = db().select().from(assignments).where(eq(assignments.annotatorId, ids.Cy)).orderBy(assignments.id).get()!;
    const at = new Date(Date.UTC(2026, 10, 1, 11, 0));
    const audit = db()
      .insert(assignments)
      .values({ ...original, id: undefined, leftIsA: !original.leftIsA, issuedAt: at, expiresAt: at, purpose: "audit", auditOf: original.id })
      .returning()
      .get();
    // Label 0 (the lower id wins) with prompt A now on the left: "left".
    db().insert(votes).values({ assignmentId: audit.id, studyId, annotatorId: ids.Cy, choice: "left", latencyMs: 25_000, createdAt: at }).run();
    db().insert(goldItems).values({ studyId, queryId: first!.id, lowPromptId: low!.id, highPromptId: high!.id, preferredPromptId: high!.id }).run();
    try {
      const all = lines({ format: "trl", quality: "include" }).map((line) => TrlWithQuality.parse(line));
      expect(all).toHaveLength(16);
      expect(all.at(-1)!.quality.flags).toEqual(["audit"]);
      // Item 1 was voted decisively by all three: three gold lines (Ada's and Bo's with their own flags too).
      expect(all.filter((line) => line.quality.flags.includes("gold"))).toHaveLength(3);
      // Cy's consistency: 1 audit, the same answer; gold accuracy: item 1 went to the higher id (label 1) for all three.
      expect(all.at(-1)!.quality.annotators[0]).toMatchObject({ id: ids.Cy, consistency: 1, gold_accuracy: 1 });
      expect(all[0]!.quality.annotators[0]).toMatchObject({ id: ids.Ada, consistency: null, gold_accuracy: 1 });
      // Unflagged: Cy's 4 votes minus the gold one; the audit is out.
      expect(count({ format: "trl", "exclude-flagged": "on" })).toBe(3);
      // By majority the audit is no second vote: item 0 still has 3 votes behind it; item 1 is marked gold.
      const majority = lines({ format: "trl", duplicates: "majority", quality: "include" }).map((line) => TrlWithQuality.parse(line));
      expect(majority[0]!.quality.votes).toBe(3);
      expect(majority[1]!.quality.flags).toContain("gold");
      expect(majority.map((line) => line.quality.flags.includes("audit"))).not.toContain(true);
    } finally {
      db().delete(goldItems).run();
      db().delete(assignments).where(eq(assignments.id, audit.id)).run();
    }
  });

  it("--min-reliability keeps the votes of annotators the cached crowd fit rates at least that; lines carry the reliability", () => {
    // A cached fit as the reliability thread stores it (ADR 0041): Ada 1.25, Bo reversed at -0.4 (flagged), Cy not in it.
    const annotatorRow = (annotatorId: number, reliability: number, flagged: boolean) => ({
      annotatorId,
      votes: 6,
      reliability,
      stdErr: 0.3,
      upper: reliability + 0.6,
      flagged,
      reversed: flagged,
    });
    const fit = { votes: 12, truncated: false, side: 0, sideStdErr: 0.5, converged: true, prompts: [] };
    db()
      .insert(reliabilityFits)
      .values({
        studyId,
        lastVoteId: 1,
        fitMs: 1,
        fit: { ...fit, annotators: [annotatorRow(ids.Ada, 1.25, false), annotatorRow(ids.Bo, -0.4, true)] },
      })
      .run();
    try {
      // Ada's 6 decisive votes pass 1 and 1.25; Bo's 5 join at -0.5; Cy, outside the fit, never passes.
      expect(count({ format: "trl", "min-reliability": "1" })).toBe(6);
      expect(count({ format: "trl", "min-reliability": "1.25" })).toBe(6);
      expect(count({ format: "trl", "min-reliability": "1.3" })).toBe(0);
      expect(count({ format: "openai", "min-reliability": "-0.5" })).toBe(11);
      expect(count({ format: "trl", "min-reliability": "-.5", "min-agreement": "0.7" })).toBe(5);
      const included = lines({ format: "trl", quality: "include" }).map((line) => TrlWithQuality.parse(line));
      const of = (name: Name) => included.find((line) => line.quality.annotators[0]!.id === ids[name])!.quality;
      expect(of("Ada").annotators[0]).toMatchObject({ reliability: 1.25, flags: ["side_bias"] });
      expect(of("Bo")).toMatchObject({ flags: ["too_fast", "unreliable"], annotators: [{ reliability: -0.4, flags: ["too_fast", "unreliable"] }] });
      expect(of("Cy").annotators[0]!.reliability).toBeNull();
      // The fit's flag is a flag like the others: --exclude-flagged leaves Bo out (as before, for too_fast).
      expect(count({ format: "trl", "exclude-flagged": "on" })).toBe(4);
    } finally {
      db().delete(reliabilityFits).run();
    }
    expect(count({ format: "trl", "min-reliability": "-100" })).toBe(0);
    const parsed = ExportOptionsSchema.safeParse({ format: "trl", "min-reliability": "high" });
    expect(parsed.error!.issues.map((issue) => issue.message)).toEqual(["min-reliability must be a number, e.g. 0.5"]);
    expect(ExportOptionsSchema.safeParse({ format: "trl", "min-reliability": "1000" }).success).toBe(false);
  });

  it("rejects a malformed quality option with a message naming it", () => {
    const parsed = ExportOptionsSchema.safeParse({ format: "trl", "min-agreement": "70%", "exclude-flagged": "maybe", quality: "all" });
    expect(parsed.success).toBe(false);
    const messages = parsed.error!.issues.map((issue) => issue.message).join("\n");
    expect(messages).toContain("min-agreement must be a number from 0 to 1");
    expect(messages).toContain("exclude-flagged takes no value, or yes / no");
    expect(messages).toContain("quality must be one of: omit, include");
    expect(ExportOptionsSchema.safeParse({ format: "trl", "min-agreement": "1.5" }).success).toBe(false);
  });
});
