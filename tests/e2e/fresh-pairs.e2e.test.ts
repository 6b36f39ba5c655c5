import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAnnotatorLink, createFirstOwner, inviteTokenOf } from "../helpers/accounts";
import { ApiAnnotator } from "../../harness/api-annotator";
import { readAppDatabase, startApp, type RunningApp } from "../../harness/app-server";

// The simulation: 3 annotators, 50 votes each, consistent preferences, on the demo study
// (10 prompts x 14 queries: 630 (query, pair) combinations per annotator). Before fresh pairs, 38 of
// the 150 votes went to a combination the same annotator had already decided.
describe("fresh pairs first: three annotators voting 50 times each", () => {
  let app: RunningApp;
  let studyId: number;
  let inviteToken: string;

  beforeAll(async () => {
    app = await startApp({ PROMPTDUEL_TEST_HOOKS: "1" });
    studyId = readAppDatabase(app, (db) => db.prepare("select id from studies order by id limit 1").pluck().get() as number);
    // Annotators join only through an invite link, which the study's owner makes.
    const owner = await createFirstOwner(app);
    inviteToken = inviteTokenOf(await createAnnotatorLink(app, owner, studyId));
  });

  afterAll(async () => {
    await app?.stop();
  });

  it("never serves an annotator a (query, prompt pair) they already decided while fresh ones exist, and spreads the queries", async () => {
    const annotators = await Promise.all(
      ["Ada", "Grace", "Barbara"].map(async (name) => {
        const annotator = new ApiAnnotator(app.url, studyId);
        await annotator.join(inviteToken, name);
        return annotator;
      }),
    );
    // Consistent preferences: the longer answer for Ada, the shorter for the others.
    const prefersLonger = [true, false, false];
    try {
      for (let round = 0; round < 50; round++) {
        for (const [index, annotator] of annotators.entries()) {
          // Let the engine take in the last vote, as a person's pause would (a state, not a time).
          await annotator.engineIdle();
          const pair = await annotator.nextPair();
          const leftLonger = pair.left.length >= pair.right.length;
          expect((await annotator.vote(pair.assignmentId, leftLonger === prefersLonger[index] ? "left" : "right")).status).toBe("recorded");
        }
      }
    } finally {
      for (const annotator of annotators) annotator.close();
    }
    const rows = readAppDatabase(app, (db) =>
      db
        .prepare(
          `select a.annotator_id as annotator, min(a.prompt_a_id, a.prompt_b_id) || '-' || max(a.prompt_a_id, a.prompt_b_id) as pair,
                  a.query_id as query, a.policy as policy
           from votes v join assignments a on a.id = v.assignment_id where v.study_id = ? order by v.id`,
        )
        .all(studyId),
    ) as { annotator: number; pair: string; query: number; policy: string }[];
    expect(rows).toHaveLength(150);
    const seen = new Set<string>();
    let repeats = 0;
    for (const row of rows) {
      const key = `${row.annotator}|${row.pair}|${row.query}`;
      if (seen.has(key)) repeats++;
      seen.add(key);
    }
    const byEngine = rows.filter((row) => row.policy !== "random").length;
    const queriesUsed = new Set(rows.map((row) => row.query)).size;
    console.log(
      `fresh pairs: ${repeats} of ${rows.length} votes repeated a (query, pair) the same annotator had decided (${((100 * repeats) / rows.length).toFixed(1)}%); ${byEngine} pairs chosen by the engine; ${queriesUsed} of 14 queries used`,
    );
    expect(repeats).toBe(0);
    // Least-annotated first: every query is used, none hoarded.
    expect(queriesUsed).toBe(14);
    expect(byEngine).toBeGreaterThan(100);
  });
});
