import { describe, expect, it } from "vitest";
import type { RawLogRecord } from "../../app/export/raw-log-schema.server";
import { formatReplayReport, parseReplayLog, replay } from "./replay";

const PROMPTS: Record<number, string> = {
  11: "You are a terse assistant.",
  12: "You are a warm, thorough support agent who explains each step.",
  13: "Answer in one word.",
};

let nextVoteId = 1;
function vote(promptA: number, promptB: number, promptASide: "left" | "right", choice: RawLogRecord["choice"]): string {
  const decisive = choice === "left" || choice === "right";
  const record: RawLogRecord = {
    vote_id: nextVoteId++,
    study_id: 3,
    study_name: "Replay study",
    annotator_id: 1,
    annotator_name: "Ada",
    query_id: 1,
    query: "How do I reset it?",
    prompt_a_id: promptA,
    prompt_a_text: PROMPTS[promptA]!,
    prompt_b_id: promptB,
    prompt_b_text: PROMPTS[promptB]!,
    response_a: "a",
    response_b: "b",
    prompt_a_side: promptASide,
    prompt_b_side: promptASide === "left" ? "right" : "left",
    choice,
    preferred_prompt_id: decisive ? (choice === promptASide ? promptA : promptB) : null,
    comment: null,
    issued_at: "2025-01-01T00:00:00.000Z",
    voted_at: "2025-01-01T00:00:01.000Z",
    latency_ms: 1000,
    policy: "random",
    engine_round: 0,
  };
  return JSON.stringify(record);
}

describe("parseReplayLog", () => {
  it("maps votes to duels with a = the prompt shown on the left, like the app's engine; skips are left out", () => {
    const data = parseReplayLog(
      [
        vote(12, 11, "left", "left"),
        vote(12, 11, "right", "left"),
        vote(13, 11, "left", "tie"),
        vote(11, 13, "left", "both_bad"),
        vote(11, 12, "left", "skip"),
        "",
      ].join("\n"),
    );
    expect(data.studyName).toBe("Replay study");
    expect(data.prompts.map((prompt) => prompt.id)).toEqual([11, 12, 13]);
    expect(data.duels).toEqual([
      { a: 1, b: 0, outcome: 1 },
      { a: 0, b: 1, outcome: 1 },
      { a: 2, b: 0, outcome: 0.5 },
      { a: 0, b: 2, outcome: 0.5 },
    ]);
    expect(data.skips).toBe(1);
    // The same log saved with a byte-order mark and CRLF endings (as Windows editors do) reads the same.
    const windows = parseReplayLog(`\uFEFF${[vote(12, 11, "left", "left"), vote(12, 11, "right", "left")].join("\r\n")}\r\n`);
    expect(windows.duels).toEqual(data.duels.slice(0, 2));
  });

  it("names every invalid line, and refuses a log mixing studies", () => {
    expect(() =>
      parseReplayLog([vote(11, 12, "left", "left"), "{oops", vote(11, 12, "left", "left").replace('"choice":"left"', '"choice":"up"')].join("\n")),
    ).toThrow(/line 2: not valid JSON[\s\S]*line 3: choice must be one of/);
    const otherStudy = vote(11, 12, "left", "left").replace('"study_id":3', '"study_id":4');
    expect(() => parseReplayLog([vote(11, 12, "left", "left"), otherStudy].join("\n"))).toThrow(/line 2: study_id 4 differs from 3/);
  });
});

describe("replay", () => {
  it("ranks the prompt that keeps winning first, for the policy and for Bradley–Terry", () => {
    const lines: string[] = [];
    for (let round = 0; round < 12; round++) {
      const side = round % 2 === 0 ? "left" : "right";
      lines.push(vote(12, 11, side, side)); // 12 wins wherever it is shown
      lines.push(vote(13, 12, side, side === "left" ? "right" : "left")); // 12 wins again
      lines.push(vote(11, 13, side, side)); // 11 beats 13
    }
    const report = replay(parseReplayLog(lines.join("\n")), { policy: "duet", seed: 1, samples: 50 });
    expect(report.votes).toBe(36);
    expect(report.ranking.map((row) => row.promptId)).toEqual([12, 11, 13]);
    expect(report.btBestPromptId).toBe(12);
    expect(report.recommendations.map((r) => r.votes)).toEqual([25, 36]);
    expect(report.recommendations.at(-1)!.promptId).toBe(12);
    expect(report.ranking[0]).toMatchObject({ wins: 24, losses: 0, ties: 0 });
    const text = formatReplayReport(report);
    expect(text).toMatch(/replay of 36 votes \(0 skips left out\) · policy duet/);
    expect(text).toMatch(/Bradley–Terry best: prompt 12 \(agrees with the policy\)/);
  });
});
