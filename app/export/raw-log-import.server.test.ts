import { asc, count, desc, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { LEXICAL_EMBEDDING_MODEL } from "../../bandit/lexical-embedding";
import { mulberry32 } from "../../bandit/random";
import { annotators, assignments, goldItems, jobs, pairTallies, prompts, queries, studies, votes } from "../../db/schema";
import { routeResponse } from "../../tests/helpers/route-response";
import { signedInOwner } from "../../tests/helpers/in-process-actors";
import { useTempAppDatabase } from "../../tests/helpers/temp-database";
import { seedVotes } from "../../tests/helpers/seed-votes";
import { db } from "~/db.server";
import { whenJobSettled } from "~/jobs/runner.server";
import { assignNextPair } from "~/engine/assign.server";
import { annotatorQuality } from "~/models/annotator-quality.server";
import { getDashboard } from "~/models/dashboard.server";
import { createAnnotator } from "~/models/membership.server";
import { recordVote } from "~/models/vote.server";
import { action } from "~/routes/studies.$studyId.import-log";
import { ExportOptionsSchema } from "./export-options.server";
import { prepareExport } from "./formats.server";
import { importRawLog } from "./raw-log-import.server";
import { RawLogRecordSchema, type RawLogRecord } from "./raw-log-schema.server";

function rawLog(studyId: number): string {
  const prepared = prepareExport(db(), studyId, ExportOptionsSchema.parse({ format: "jsonl" }));
  if (!prepared.ok) throw new Error(prepared.message);
  return [...prepared.export.lines()].join("");
}

function emptyStudyLike(studyId: number) {
  const { id: _id, createdAt: _createdAt, ...settings } = db().select().from(studies).where(eq(studies.id, studyId)).get()!;
  return db().insert(studies).values(settings).returning().get().id;
}

const tally = () => ({
  votes: db().select({ n: count() }).from(votes).get()!.n,
  prompts: db().select({ n: count() }).from(prompts).get()!.n,
  queries: db().select({ n: count() }).from(queries).get()!.n,
  annotators: db().select({ n: count() }).from(annotators).get()!.n,
});

const ID_FIELDS = {
  vote_id: "vote",
  study_id: "study",
  annotator_id: "annotator",
  query_id: "query",
  prompt_a_id: "prompt",
  prompt_b_id: "prompt",
  preferred_prompt_id: "prompt",
  audit_of_vote_id: "vote",
  gold_answer_prompt_id: "prompt",
} as const;

describe("raw log import", () => {
  useTempAppDatabase();
  // The demo study's owner (the first account adopts it), whose cookie the route requests carry.
  let owner: Awaited<ReturnType<typeof signedInOwner>>;
  beforeAll(async () => {
    owner = await signedInOwner();
  });

  it("round-trips: export → import into an empty study → export gives the same log, up to one-to-one renumbered ids", () => {
    const source = db().select().from(studies).orderBy(asc(studies.id)).get()!.id;
    const at = (minute: number) => new Date(Date.UTC(2025, 5, 1, 12, minute, 0, 123));
    seedVotes(db(), source, [
      { annotator: "Ada", promptA: 0, promptB: 1, query: 0, leftIsA: true, choice: "left", at: at(1), latencyMs: 1500, comment: 'short,\n"sharp"' },
      { annotator: "Grace", promptA: 1, promptB: 0, query: 0, leftIsA: false, choice: "right", at: at(2), policy: "duet", engineRound: 7 },
      { annotator: "Ada", promptA: 2, promptB: 3, query: 1, leftIsA: true, choice: "tie", at: at(3), comment: "=SUM(A1) \u2028 line sep ünï" },
      { annotator: "Ada", promptA: 4, promptB: 5, query: 2, leftIsA: false, choice: "both_bad", at: at(4) },
      { annotator: "Ada", promptA: 2, promptB: 6, query: 1, leftIsA: true, choice: "skip", at: at(5), latencyMs: 0 },
    ]);
    const original = rawLog(source);
    expect(original).toContain("\\u2028");

    const target = emptyStudyLike(source);
    const result = importRawLog(db(), target, original);
    expect(result).toEqual({
      ok: true,
      summary: {
        votes: 5,
        skipped: 0,
        promptsCreated: 7,
        promptsMatched: 0,
        queriesCreated: 3,
        queriesMatched: 0,
        responsesCreated: 7,
        annotatorsCreated: 2,
        annotatorsMatched: 0,
      },
    });
    // Imported prompts carry the offline embedding, so a running engine can use them at once.
    const models = db().select({ model: prompts.embeddingModel }).from(prompts).where(eq(prompts.studyId, target)).all();
    expect(models.map((row) => row.model)).toEqual(Array(7).fill(LEXICAL_EMBEDDING_MODEL));
    const reexported = rawLog(target);

    const before = original
      .trimEnd()
      .split("\n")
      .map((line) => RawLogRecordSchema.parse(JSON.parse(line)));
    const after = reexported
      .trimEnd()
      .split("\n")
      .map((line) => RawLogRecordSchema.parse(JSON.parse(line)));
    expect(after).toHaveLength(before.length);
    // Build old → new id maps per kind from the paired records; each must be one-to-one.
    const maps = new Map<string, Map<number, number>>();
    before.forEach((record, index) => {
      for (const [field, kind] of Object.entries(ID_FIELDS) as [keyof RawLogRecord, string][]) {
        const oldId = record[field] as number | null;
        const newId = after[index]![field] as number | null;
        if (oldId === null || newId === null) {
          expect(newId).toBe(oldId);
          continue;
        }
        const map = maps.get(kind) ?? new Map<number, number>();
        maps.set(kind, map);
        expect(map.get(oldId) ?? newId).toBe(newId);
        map.set(oldId, newId);
      }
    });
    for (const map of maps.values()) expect(new Set(map.values()).size).toBe(map.size);
    expect(maps.get("study")).toEqual(new Map([[source, target]]));
    // With ids renumbered, the original log is byte for byte the re-export.
    const renumbered = original
      .trimEnd()
      .split("\n")
      .map((line) => {
        const record = JSON.parse(line) as Record<string, unknown>;
        for (const [field, kind] of Object.entries(ID_FIELDS)) {
          if (record[field] !== null) record[field] = maps.get(kind)!.get(record[field] as number);
        }
        return JSON.stringify(record).replace(/\u2028/g, "\\u2028");
      })
      .join("\n");
    expect(`${renumbered}\n`).toBe(reexported);
  });

  it("rejects invalid lines with their line numbers and writes nothing", () => {
    const source = db().select().from(studies).orderBy(asc(studies.id)).get()!.id;
    const [good, second] = rawLog(source).trimEnd().split("\n");
    const bad = JSON.parse(second!) as Record<string, unknown>;
    const target = emptyStudyLike(source);
    const before = tally();
    const log = [
      good,
      "{not json",
      JSON.stringify({ ...bad, choice: "maybe" }),
      "",
      JSON.stringify({ ...bad, vote_id: 999_999, voted_at: "yesterday", extra: 1 }),
      JSON.stringify((({ query: _query, ...rest }) => rest)(bad)),
      JSON.stringify({ ...bad, vote_id: 999_998, preferred_prompt_id: null }),
    ].join("\n");
    const result = importRawLog(db(), target, log);
    expect(result.ok).toBe(false);
    const errors = result.ok ? [] : result.errors;
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^line 2: not valid JSON/),
        "line 3: choice must be one of: left, right, tie, both_bad, skip",
        "line 5: unknown field(s): extra",
        expect.stringMatching(/^line 5: voted_at must be an ISO 8601 UTC timestamp/),
        "line 6: query is required",
        expect.stringMatching(/^line 7: preferred_prompt_id must be \d+ for choice "(left|right)"/),
      ]),
    );
    expect(tally()).toEqual(before);
    expect(importRawLog(db(), target, "\n\n")).toEqual({ ok: false, errors: ["the log holds no votes (expected one JSON object per line)"] });
  });

  it("rejects lines that disagree with each other or with the study, rolling back what was already written", () => {
    const source = db().select().from(studies).orderBy(asc(studies.id)).get()!.id;
    const records = rawLog(source)
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as RawLogRecord);
    const first = records[0]!;
    const target = emptyStudyLike(source);

    const renamed = { ...first, vote_id: first.vote_id + 100_000, prompt_a_text: "Another text for the same id" };
    const inconsistent = importRawLog(db(), target, [first, renamed].map((r) => JSON.stringify(r)).join("\n"));
    expect(inconsistent).toEqual({ ok: false, errors: [`line 2: the text of prompt ${first.prompt_a_id} differs from line 1`] });

    // Into the source study itself: prompts and queries match, but line 2 (a vote the study does not
    // have: another time) carries another response for a (prompt, query) the study already has.
    const before = tally();
    const later = (record: RawLogRecord, ms: number) => ({ ...record, voted_at: new Date(Date.parse(record.voted_at) + ms).toISOString() });
    const conflicting = { ...later(records[2]!, 1), vote_id: first.vote_id + 200_000, response_a: "not what the study holds" };
    const result = importRawLog(db(), source, [later(first, 1), conflicting].map((r) => JSON.stringify(r)).join("\n"));
    expect(result).toEqual({
      ok: false,
      errors: [expect.stringMatching(/^line 2: the study already has a different response for prompt \d+ and query \d+/)],
    });
    expect(tally()).toEqual(before);
  });

  it("the import page runs the import as a job: line errors on the failed job, a binary file refused with 400 and no job, 400 without a file, and nothing written", async () => {
    const source = db().select().from(studies).orderBy(asc(studies.id)).get()!.id;
    const post = async (body: FormData) => {
      const request = new Request(`http://localhost/studies/${source}/import-log`, { method: "POST", body, headers: { Cookie: owner.cookie } });
      return routeResponse(() => action({ request, params: { studyId: String(source) }, context: {} }));
    };
    const before = tally();
    const withBadFile = new FormData();
    withBadFile.set("log", new File(['{"vote_id": 1}\n'], "log.jsonl"));
    const response = await post(withBadFile);
    expect(response.status).toBe(202);
    const job = latestImportJob(source)!;
    await whenJobSettled(job.id);
    expect(latestImportJob(source)).toMatchObject({ id: job.id, state: "failed", errors: expect.arrayContaining(["line 1: study_id is required"]) });
    // A binary file is refused by the request's cheap checks (a NUL byte, UTF-8 validity): 400, no job queued.
    const jobsBefore = latestImportJob(source)!.id;
    const binary = new FormData();
    binary.set("log", new File([new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x00, 0x0a, 0x1a, 0x0a])], "photo.jsonl"));
    const refused = await post(binary);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({
      ok: false,
      formErrors: [],
      fieldErrors: { log: [expect.stringMatching(/^photo\.jsonl: this is a binary file, not text .*Nothing was added\.$/)] },
    });
    expect(latestImportJob(source)!.id).toBe(jobsBefore);
    const noFile = await post(new FormData());
    expect(noFile.status).toBe(400);
    expect(await noFile.json()).toEqual({ ok: false, formErrors: [], fieldErrors: { log: ["Choose a raw log file (.jsonl) to import"] } });
    expect(tally()).toEqual(before);
  });

  it("imports a log once: importing it again, or an overlapping log, skips what is there and says how many, creating nothing for them", () => {
    const source = db().select().from(studies).orderBy(asc(studies.id)).get()!.id;
    const lines = rawLog(source).trimEnd().split("\n");
    expect(lines.length).toBeGreaterThanOrEqual(4);
    const target = emptyStudyLike(source);
    const half = lines.slice(0, 2).join("\n");
    const first = importRawLog(db(), target, half);
    expect(first).toMatchObject({ ok: true, summary: { votes: 2, skipped: 0 } });

    const afterFirst = tally();
    expect(importRawLog(db(), target, half)).toEqual({
      ok: true,
      summary: {
        votes: 0,
        skipped: 2,
        promptsCreated: 0,
        promptsMatched: 0,
        queriesCreated: 0,
        queriesMatched: 0,
        responsesCreated: 0,
        annotatorsCreated: 0,
        annotatorsMatched: 0,
      },
    });
    expect(tally()).toEqual(afterFirst);

    const overlapping = importRawLog(db(), target, lines.join("\n"));
    expect(overlapping).toMatchObject({ ok: true, summary: { votes: lines.length - 2, skipped: 2 } });
    expect(db().select({ n: count() }).from(votes).where(eq(votes.studyId, target)).get()!.n).toBe(lines.length);
    // A log repeating one vote (same content, another vote id) counts it once.
    const repeated = JSON.stringify({ ...(JSON.parse(lines[0]!) as RawLogRecord), vote_id: 987_654 });
    expect(importRawLog(db(), target, [lines[0], repeated].join("\n"))).toMatchObject({ ok: true, summary: { votes: 0, skipped: 2 } });
    // And the study's own votes, exported and imported back, are recognised as its own.
    expect(importRawLog(db(), source, rawLog(source))).toMatchObject({ ok: true, summary: { votes: 0, skipped: lines.length } });
    expect(tally().votes).toBe(afterFirst.votes + lines.length - 2);
  });

  it("keeps the dashboard tallies equal to the imported votes", () => {
    const source = db().select().from(studies).orderBy(asc(studies.id)).get()!.id;
    const target = emptyStudyLike(source);
    expect(importRawLog(db(), target, rawLog(source)).ok).toBe(true);
    const recount = db().select({ votes: count() }).from(votes).where(eq(votes.studyId, target)).get()!.votes;
    const dashboard = getDashboard(target);
    expect(dashboard.votesPerAnnotator.reduce((total, row) => total + row.votes, 0)).toBe(recount);
    const decisive = dashboard.leaderboard.rows.reduce((total, row) => total + row.wins, 0);
    const sourceDashboard = getDashboard(source);
    expect(decisive).toBe(sourceDashboard.leaderboard.rows.reduce((total, row) => total + row.wins, 0));
    const records = (board: typeof dashboard.leaderboard.rows) =>
      board
        .filter((row) => row.wins + row.losses + row.ties + row.bothBad > 0)
        .map((row) => [row.text, row.wins, row.losses, row.ties, row.bothBad])
        .sort();
    expect(records(dashboard.leaderboard.rows).length).toBeGreaterThan(0);
    expect(records(dashboard.leaderboard.rows)).toEqual(records(sourceDashboard.leaderboard.rows));
  });

  it("validates every field as the live paths do", () => {
    const source = db().select().from(studies).orderBy(asc(studies.id)).get()!.id;
    const record = JSON.parse(rawLog(source).split("\n")[0]!) as RawLogRecord;
    const target = emptyStudyLike(source);
    const before = tally();
    const issuedLater = new Date(Date.parse(record.voted_at) + 1000).toISOString();
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const variants = [
      { ...record, annotator_name: "x".repeat(61) },
      { ...record, comment: "y".repeat(2001) },
      { ...record, latency_ms: 1e15 },
      { ...record, issued_at: issuedLater },
      { ...record, voted_at: future, issued_at: future },
      { ...record, policy: "mystery" },
      { ...record, annotator_name: "   " },
    ];
    const result = importRawLog(db(), target, variants.map((variant, k) => JSON.stringify({ ...variant, vote_id: 500_000 + k })).join("\n"));
    expect(result).toEqual({
      ok: false,
      errors: [
        "line 1: annotator_name: A display name has at most 60 characters",
        "line 2: comment must be at most 2000 characters",
        "line 3: latency_ms must be at most 86400000 (a day)",
        "line 4: issued_at must not be after voted_at (a pair is shown before it is voted on)",
        "line 5: voted_at must not be in the future",
        "line 6: policy must be one of: duet, apohf, random, linear, doublets, champion, dts",
        "line 7: annotator_name: Enter a display name",
      ],
    });
    expect(tally()).toEqual(before);
  });
});

function latestImportJob(studyId: number) {
  return db().select().from(jobs).where(eq(jobs.studyId, studyId)).orderBy(desc(jobs.id)).get();
}

describe("raw log import of quality checks (audits, gold items, served overlaps)", () => {
  useTempAppDatabase();

  it("round-trips audits, gold and overlap markers: export → import into a fresh study keeps counts, audits and flags; a second import adds nothing", () => {
    const source = db().select().from(studies).orderBy(asc(studies.id)).get()!;
    db().update(studies).set({ auditRate: 0.2, auditMaxShare: 0.2, goldRate: 0.15, overlapRate: 0.3 }).where(eq(studies.id, source.id)).run();
    const promptIds = db().select({ id: prompts.id }).from(prompts).where(eq(prompts.studyId, source.id)).orderBy(asc(prompts.id)).all();
    const queryIds = db().select({ id: queries.id }).from(queries).where(eq(queries.studyId, source.id)).orderBy(asc(queries.id)).all();
    for (const query of queryIds.slice(0, 4)) {
      db()
        .insert(goldItems)
        .values({
          studyId: source.id,
          queryId: query.id,
          lowPromptId: promptIds[0]!.id,
          highPromptId: promptIds[1]!.id,
          preferredPromptId: promptIds[0]!.id,
        })
        .run();
    }
    // Three annotators through the real pair request (seeded); a choice that depends on the item and the annotator.
    let clock = Date.UTC(2026, 11, 2, 9, 0, 0);
    ["Ada", "Grace", "Edsger"].forEach((name, k) => {
      const annotator = createAnnotator(db(), name);
      const random = mulberry32(1800 + k);
      for (let request = 0; request < 45; request++) {
        clock += 61_000;
        const row = assignNextPair(source.id, annotator.id, { random, now: new Date(clock) })!;
        const lowerWins = (row.promptAId + row.promptBId + row.queryId + k * request) % 4 !== 0;
        const choice = (row.promptAId < row.promptBId === row.leftIsA) === lowerWins ? "left" : "right";
        expect(recordVote(source.id, annotator.id, { assignmentId: row.id, choice, comment: null, latencyMs: 20_000 + request }).status).toBe(
          "recorded",
        );
      }
    });
    const purposes = (studyId: number) =>
      Object.fromEntries(
        db()
          .select({ purpose: assignments.purpose, n: count() })
          .from(assignments)
          .innerJoin(votes, eq(votes.assignmentId, assignments.id))
          .where(eq(assignments.studyId, studyId))
          .groupBy(assignments.purpose)
          .all()
          .map((row) => [row.purpose, row.n]),
      );
    const sourcePurposes = purposes(source.id);
    expect(sourcePurposes.audit).toBeGreaterThan(0);
    expect(sourcePurposes.gold).toBeGreaterThan(0);
    expect(sourcePurposes.overlap).toBeGreaterThan(0);

    const log = rawLog(source.id);
    const target = emptyStudyLike(source.id);
    const imported = importRawLog(db(), target, log);
    expect(imported.ok && imported.summary.votes).toBe(135);
    expect(purposes(target)).toEqual(sourcePurposes);

    // Counts: the leaderboard's records per prompt text, and the pair tallies' total games (audits left out).
    const records = (studyId: number) =>
      getDashboard(studyId)
        .leaderboard.rows.map((row) => [row.text, row.wins, row.losses, row.ties, row.bothBad])
        .sort();
    expect(records(target)).toEqual(records(source.id));
    const games = (studyId: number) =>
      db()
        .select({ low: pairTallies.lowWins, high: pairTallies.highWins, draws: pairTallies.draws })
        .from(pairTallies)
        .innerJoin(prompts, eq(prompts.id, pairTallies.lowPromptId))
        .where(eq(prompts.studyId, studyId))
        .all()
        .reduce((sum, row) => sum + row.low + row.high + row.draws, 0);
    expect(games(target)).toBe(135 - sourcePurposes.audit!);
    expect(games(target)).toBe(games(source.id));

    // Audits: each annotator's consistency (audits whose original is linked) and gold accuracy are the same.
    const figures = (studyId: number) =>
      annotatorQuality({ ...source, id: studyId })
        .annotators.map((row) => [row.displayName, row.votes, row.consistency.judged, row.consistency.matched, row.gold.judged, row.gold.matched])
        .sort();
    expect(figures(target)).toEqual(figures(source.id));
    expect(figures(source.id).some((row) => (row[2] as number) > 0)).toBe(true);
    expect(annotatorQuality({ ...source, id: target }).overall.servedOverlapItems).toBe(annotatorQuality(source).overall.servedOverlapItems);

    // Flags: the preference export's lines with their quality flags are the same (annotator ids aside).
    const preferenceLines = (studyId: number) => {
      const prepared = prepareExport(db(), studyId, ExportOptionsSchema.parse({ format: "trl", quality: "include" }));
      if (!prepared.ok) throw new Error(prepared.message);
      return [...prepared.export.lines()].map((line) => {
        const { prompt, chosen, rejected, quality } = JSON.parse(line) as {
          prompt: string;
          chosen: string;
          rejected: string;
          quality: { flags: string[] };
        };
        return JSON.stringify([prompt, chosen, rejected, quality.flags]);
      });
    };
    const flagged = preferenceLines(source.id);
    for (const flag of ["audit", "gold", "overlap"]) expect(flagged.some((line) => line.includes(`"${flag}"`))).toBe(true);
    expect(preferenceLines(target)).toEqual(flagged);

    // The re-export is the log up to renumbered ids (checked field by field in the first round-trip test); here the markers.
    const markers = (text: string) =>
      text
        .trimEnd()
        .split("\n")
        .map((line) => RawLogRecordSchema.parse(JSON.parse(line)))
        .map((record) => [record.purpose, record.audit_of_vote_id === null, record.gold_answer_prompt_id === null]);
    expect(markers(rawLog(target))).toEqual(markers(log));

    // Idempotent (ADR 0036): importing the same log again skips every vote and changes nothing.
    const again = importRawLog(db(), target, log);
    expect(again.ok && again.summary).toMatchObject({ votes: 0, skipped: 135 });
    expect(purposes(target)).toEqual(sourcePurposes);
    expect(db().select({ n: count() }).from(goldItems).where(eq(goldItems.studyId, target)).get()!.n).toBe(4);
  });

  it("refuses an audit_of_vote_id on a vote that is not an audit, and a gold answer that is neither prompt", () => {
    const source = db().select().from(studies).orderBy(asc(studies.id)).get()!.id;
    const record = JSON.parse(rawLog(source).split("\n")[0]!) as RawLogRecord;
    const work = RawLogRecordSchema.safeParse({ ...record, purpose: "work", audit_of_vote_id: record.vote_id + 1 });
    expect(work.success).toBe(false);
    const gold = RawLogRecordSchema.safeParse({ ...record, gold_answer_prompt_id: record.prompt_a_id + record.prompt_b_id });
    expect(gold.success).toBe(false);
    // A log written before these fields existed still parses (all work, no gold).
    const { purpose: _purpose, audit_of_vote_id: _auditOf, gold_answer_prompt_id: _gold, ...old } = record;
    expect(RawLogRecordSchema.safeParse(old).success).toBe(true);
  });
});
