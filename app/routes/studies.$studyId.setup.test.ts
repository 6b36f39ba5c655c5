import { count, desc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobs, prompts, queries, responses, studies } from "../../db/schema";
import { useTempAppDatabase } from "../../tests/helpers/temp-database";
import { db } from "~/db.server";
import { whenJobSettled } from "~/jobs/runner.server";
import { listVariantRequests } from "~/llm/variants.server";
import { createOwnedStudy } from "../../tests/helpers/owned-study";
import { signedInOwner } from "../../tests/helpers/in-process-actors";
import { routeResponse } from "../../tests/helpers/route-response";
import { action as newStudyAction, loader as newStudyLoader } from "./studies.new";
import { action as setupAction } from "./studies.$studyId.setup";

// The actions of the owner's setup pages, called as Remix calls them: every invalid post answers 400
// with field errors and writes nothing; valid ones write in one transaction.

// Signed in afresh for each describe block's database.
let owner: Awaited<ReturnType<typeof signedInOwner>>;
function useSignedInOwner() {
  beforeAll(async () => {
    owner = await signedInOwner();
  });
}

/** A multipart post as the signed-in owner's browser sends it. */
function post(path: string, fields: Record<string, string | File>): Request {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  return new Request(`http://localhost${path}`, { method: "POST", body: form, headers: { Cookie: owner.cookie } });
}

function rowCounts() {
  const n = (table: typeof studies | typeof prompts | typeof queries | typeof responses) => db().select({ n: count() }).from(table).get()!.n;
  return { studies: n(studies), prompts: n(prompts), queries: n(queries), responses: n(responses) };
}

function latestJob(studyId: number) {
  return db().select().from(jobs).where(eq(jobs.studyId, studyId)).orderBy(desc(jobs.id)).get();
}

/** The study's latest job once it has stopped running. */
async function settledJob(studyId: number) {
  await whenJobSettled(latestJob(studyId)!.id);
  return latestJob(studyId);
}

async function body(response: Response) {
  return (await response.json()) as { ok: boolean; formErrors?: string[]; fieldErrors?: Record<string, string[]>; notice?: string };
}

// Offline unless a test says otherwise, whatever the developer's shell has set.
const providerVariables = ["OPENAI_API_KEY", "OPENAI_BASE_URL"] as const;
const savedProvider = Object.fromEntries(providerVariables.map((name) => [name, process.env[name]]));
beforeAll(() => {
  for (const name of providerVariables) Reflect.deleteProperty(process.env, name);
});
afterAll(() => {
  for (const name of providerVariables) if (savedProvider[name] !== undefined) process.env[name] = savedProvider[name];
});

describe("the new-study action", () => {
  useTempAppDatabase();
  useSignedInOwner();

  it("creates the study from a multipart post with an uploaded queries CSV and redirects to its setup page", async () => {
    const before = rowCounts();
    const csv = new File(['text,notes\n"Why, though?",\nHow?,be short\n'], "queries.csv", { type: "text/csv" });
    const response = await routeResponse(() =>
      newStudyAction({
        request: post("/studies/new", {
          name: "Posted",
          task: "Help.",
          model: "m",
          temperature: "1",
          maxTokens: "50",
          seed: "",
          queriesFile: csv,
          promptsText: "A\n\nB",
        }),
        params: {},
        context: {},
      }),
    );
    // The study is written by a background job; the page follows it, then goes to the study's setup.
    expect(response.status).toBe(302);
    const jobId = Number(response.headers.get("Location")!.match(/^\/studies\/new\?job=(\d+)$/)![1]);
    await whenJobSettled(jobId);
    const followed = await routeResponse(() =>
      newStudyLoader({
        request: new Request(`http://localhost/studies/new?job=${jobId}`, { headers: { Cookie: owner.cookie } }),
        params: {},
        context: {},
      }),
    );
    expect(followed.status).toBe(302);
    const studyId = Number(followed.headers.get("Location")!.match(/^\/studies\/(\d+)\/setup$/)![1]);
    expect(db().select({ text: queries.text }).from(queries).where(eq(queries.studyId, studyId)).orderBy(queries.id).all()).toEqual([
      { text: "Why, though?" },
      { text: "How?" },
    ]);
    expect(rowCounts()).toEqual({
      studies: before.studies + 1,
      prompts: before.prompts + 2,
      queries: before.queries + 2,
      responses: before.responses + 4,
    });
  });

  it("refuses blank and loosely written numbers with a field error each, writing nothing", async () => {
    const before = rowCounts();
    const response = await routeResponse(() =>
      newStudyAction({
        request: post("/studies/new", {
          name: "Loose numbers",
          task: "Help.",
          model: "m",
          temperature: "",
          maxTokens: "0x20",
          seed: "1e3",
          queriesText: "Why?",
          promptsText: "A\n\nB",
        }),
        params: {},
        context: {},
      }),
    );
    expect(response.status).toBe(400);
    expect((await body(response)).fieldErrors).toEqual({
      temperature: ["Enter a temperature between 0 and 2"],
      maxTokens: ["Max tokens must be a whole number between 1 and 32768"],
      seed: ["Seed must be a whole number between 0 and 2147483647, or empty"],
    });
    expect(rowCounts()).toEqual(before);
  });

  it("answers 400 naming the file and line, and writes nothing", async () => {
    const before = rowCounts();
    const broken = new File(['{"text":"ok"}\n{"text":""}\n'], "queries.jsonl");
    const response = await routeResponse(() =>
      newStudyAction({
        request: post("/studies/new", {
          name: "Broken",
          task: "Help.",
          model: "m",
          temperature: "1",
          maxTokens: "50",
          queriesFile: broken,
          promptsText: "A\n\nB",
        }),
        params: {},
        context: {},
      }),
    );
    expect(response.status).toBe(400);
    expect((await body(response)).fieldErrors).toEqual({ queriesFile: ['queries.jsonl line 2: "text" is empty'] });
    expect(rowCounts()).toEqual(before);
  });
});

describe("the setup action", () => {
  useTempAppDatabase();
  useSignedInOwner();

  function newStudy() {
    return createOwnedStudy(owner.actor.user.id, {
      name: "Setup",
      task: "Help.",
      model: "m",
      temperature: 0.5,
      maxTokens: 50,
      seed: null,
      prompts: [
        { text: "Be brief.", label: null, source: "manual" },
        { text: "Be kind.", label: null, source: "manual" },
      ],
      queries: [{ text: "Hi?", notes: null }],
      variants: null,
      responses: [],
    }).studyId;
  }

  async function run(studyId: number, fields: Record<string, string | File>) {
    const response = await routeResponse(() =>
      setupAction({
        request: post(`/studies/${studyId}/setup`, fields),
        params: { studyId: String(studyId) },
        context: {},
      }),
    );
    return { status: response.status, ...(await body(response)) };
  }

  it("adds prompts in a background job that queues their responses", async () => {
    const studyId = newStudy();
    expect(await run(studyId, { intent: "add-prompts", promptsText: "Be bold.\n---\nbe BRIEF." })).toEqual({
      status: 200,
      ok: true,
      intent: "add-prompts",
      notice: expect.stringMatching(/^Adding 2 prompts \(job #\d+\)\.$/),
    });
    const job = await settledJob(studyId);
    expect(job).toMatchObject({ state: "succeeded", result: { promptsAdded: 1, promptDuplicates: 1, responsesQueued: 1 } });
  });

  it("asks for a confirmation with the figures before queueing many responses; cancelling writes nothing, confirming runs it", async () => {
    const studyId = newStudy();
    const before = rowCounts();
    process.env.CONFIRM_RESPONSES_ABOVE = "2";
    try {
      const added = await run(studyId, { intent: "add-queries", queriesText: "One?\nTwo?\nThree?" });
      expect(added).toMatchObject({ status: 200, notice: expect.stringContaining("waits for your confirmation") });
      const waiting = latestJob(studyId)!;
      expect(waiting.state).toBe("awaiting_confirmation");
      expect(waiting.plan).toMatchObject({ prompts: 2, queries: 4, responses: 8, newResponses: 6 });
      expect(rowCounts()).toEqual(before);

      expect(await run(studyId, { intent: "cancel-job", jobId: String(waiting.id) })).toMatchObject({ status: 200 });
      expect(latestJob(studyId)?.id).not.toBe(waiting.id);
      expect(rowCounts()).toEqual(before);

      await run(studyId, { intent: "add-queries", queriesText: "One?\nTwo?\nThree?" });
      const second = latestJob(studyId)!;
      expect(await run(studyId, { intent: "confirm-job", jobId: String(second.id) })).toMatchObject({ status: 200 });
      expect(await run(studyId, { intent: "confirm-job", jobId: String(second.id) })).toMatchObject({ status: 400 });
      expect(await settledJob(studyId)).toMatchObject({ id: second.id, state: "succeeded", result: { queriesAdded: 3, responsesQueued: 6 } });
      expect(rowCounts()).toMatchObject({ queries: before.queries + 3, responses: before.responses + 6 });
    } finally {
      delete process.env.CONFIRM_RESPONSES_ABOVE;
    }
  });

  it("refuses an addition past the per-study response cap with the figures, writing nothing", async () => {
    const studyId = newStudy();
    const before = rowCounts();
    process.env.RESPONSES_PER_STUDY_MAX = "5";
    try {
      expect(await run(studyId, { intent: "add-queries", queriesText: "One?\nTwo?\nThree?" })).toEqual({
        status: 400,
        ok: false,
        intent: "add-queries",
        formErrors: [],
        fieldErrors: {
          queriesText: [
            "This would make 2 prompts × 4 queries = 8 responses; a study holds at most 5 (RESPONSES_PER_STUDY_MAX). Add fewer prompts or queries, or split them across studies.",
          ],
        },
      });
      expect(rowCounts()).toEqual(before);
    } finally {
      delete process.env.RESPONSES_PER_STUDY_MAX;
    }
  });

  it("records a variant request only for a seed prompt of this study, and only with a provider", async () => {
    const studyId = newStudy();
    const seed = db().select().from(prompts).where(eq(prompts.studyId, studyId)).get()!;
    const foreign = db().select().from(prompts).where(eq(prompts.studyId, newStudy())).get()!;
    expect(await run(studyId, { intent: "generate-variants", seedPromptId: String(seed.id), variantCount: "2" })).toMatchObject({
      status: 400,
      fieldErrors: { variantCount: ["Generating variants needs an LLM provider (OPENAI_API_KEY or OPENAI_BASE_URL)"] },
    });
    // A provider that is never called: no worker runs in this test, the request is only stored.
    process.env.OPENAI_BASE_URL = "http://127.0.0.1:9/v1";
    try {
      expect(await run(studyId, { intent: "generate-variants", seedPromptId: String(foreign.id), variantCount: "2" })).toMatchObject({
        status: 400,
        fieldErrors: { seedPromptId: ["Choose a prompt of this study"] },
      });
      expect(await run(studyId, { intent: "generate-variants", seedPromptId: String(seed.id), variantCount: "2" })).toEqual({
        status: 200,
        ok: true,
        intent: "generate-variants",
        notice: `Writing 2 variants of prompt #${seed.id}.`,
      });
    } finally {
      delete process.env.OPENAI_BASE_URL;
    }
    expect(listVariantRequests(db(), studyId)).toEqual([{ studyId, seedPromptId: seed.id, count: 2, error: null }]);
  });

  it("rejects an import naming an unknown prompt and an unknown intent: 400, nothing written", async () => {
    const studyId = newStudy();
    const before = rowCounts();
    const jsonl = new File(
      [
        `${JSON.stringify({ prompt: "Be brief.", query: "Hi?", response: "Hello." })}\n${JSON.stringify({ prompt: "Nope", query: "Hi?", response: "x" })}`,
      ],
      "r.jsonl",
    );
    expect(await run(studyId, { intent: "import-responses", responsesFile: jsonl })).toMatchObject({ status: 200 });
    expect(await settledJob(studyId)).toMatchObject({ state: "failed", errors: ['line 2: no prompt in this study matches "Nope"'] });
    expect(await run(studyId, { intent: "drop" })).toMatchObject({
      status: 400,
      fieldErrors: { intent: [expect.stringContaining("intent must be one of")] },
    });
    expect(rowCounts()).toEqual(before);
    expect(
      db()
        .select()
        .from(responses)
        .where(eq(responses.status, "ready"))
        .all()
        .filter((r) => r.content === "Hello."),
    ).toEqual([]);
  });

  it("saves automatic rounds only with valid fields and a provider; a bad field is a 400 that writes nothing", async () => {
    const studyId = newStudy();
    const fields = {
      intent: "auto-rounds",
      autoRoundEvery: "25",
      autoRoundCount: "3",
      autoRoundParents: "2",
      autoRoundStableVotes: "10",
      autoRoundMaxRounds: "4",
      autoRoundMaxPrompts: "",
      autoRoundMaxCostUsd: "1.50",
    };
    const stored = () => db().select().from(studies).where(eq(studies.id, studyId)).get()!;
    expect(await run(studyId, fields)).toMatchObject({
      status: 400,
      fieldErrors: { autoRoundEvery: [expect.stringMatching(/^Automatic rounds ask an LLM for new prompts/)] },
    });
    process.env.OPENAI_BASE_URL = "http://127.0.0.1:9/v1";
    try {
      expect(await run(studyId, { ...fields, autoRoundEvery: "2", autoRoundCount: "x", autoRoundMaxCostUsd: "-1" })).toMatchObject({
        status: 400,
        fieldErrors: {
          autoRoundEvery: ["Every must be at least 5"],
          autoRoundCount: ["New prompts must be a whole number"],
          autoRoundMaxCostUsd: [expect.stringContaining("a number of dollars")],
        },
      });
      expect(await run(studyId, { ...fields, extra: "1" })).toMatchObject({ status: 400 });
      expect(stored().autoRoundEvery).toBeNull();
      expect(await run(studyId, fields)).toEqual({
        status: 200,
        ok: true,
        intent: "auto-rounds",
        notice: "Saved: every 25 decisive votes with a stable leader, 3 new prompts from the top 2, at most 4 rounds.",
      });
      expect(stored()).toMatchObject({
        autoRoundEvery: 25,
        autoRoundCount: 3,
        autoRoundMaxRounds: 4,
        autoRoundMaxPrompts: null,
        autoRoundMaxCostUsd: 1.5,
      });
      expect(await run(studyId, { ...fields, autoRoundEvery: "" })).toMatchObject({ status: 200, notice: "Saved: automatic rounds are off." });
      expect(stored().autoRoundEvery).toBeNull();
    } finally {
      delete process.env.OPENAI_BASE_URL;
    }
  });
});
