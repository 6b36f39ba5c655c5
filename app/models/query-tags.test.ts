import { z } from "zod";
import { describe, expect, it } from "vitest";
import { MAX_TAGS_PER_QUERY, parseTagList, QueryTagsFormSchema } from "./query-tags";

describe("query tags", () => {
  it("normalise: trimmed, inner spaces collapsed, lower-cased, repeats and blanks dropped, order kept", () => {
    expect(parseTagList("  Billing ,refunds,, billing,  Smart   Home ")).toEqual({ ok: true, tags: ["billing", "refunds", "smart home"] });
    expect(parseTagList("")).toEqual({ ok: true, tags: [] });
    expect(parseTagList("Ünïcode, 2fa, a/b, q&a, v1.2, x:y")).toEqual({ ok: true, tags: ["ünïcode", "2fa", "a/b", "q&a", "v1.2", "x:y"] });
  });

  it("refuse a tag too long, with a character a tag cannot have, or too many", () => {
    expect(parseTagList("x".repeat(41))).toMatchObject({ ok: false, problem: expect.stringMatching(/longer than 40 characters/) });
    expect(parseTagList("<script>")).toMatchObject({ ok: false, problem: expect.stringMatching(/must start with a letter or digit/) });
    expect(parseTagList("-dash")).toMatchObject({ ok: false });
    expect(parseTagList("semi;colon")).toMatchObject({ ok: false });
    const many = Array.from({ length: MAX_TAGS_PER_QUERY + 1 }, (_, k) => `t${k}`).join(",");
    expect(parseTagList(many)).toMatchObject({ ok: false, problem: `13 tags given; a query can have at most ${MAX_TAGS_PER_QUERY}` });
  });

  it("the editor's form: a clear error per field, never a throw", () => {
    const errors = (input: unknown) => {
      const parsed = QueryTagsFormSchema.safeParse(input);
      return parsed.success ? null : z.flattenError(parsed.error).fieldErrors;
    };
    expect(QueryTagsFormSchema.parse({ intent: "set-query-tags", queryId: "12", tags: "Billing, refunds" })).toEqual({
      intent: "set-query-tags",
      queryId: 12,
      tags: ["billing", "refunds"],
    });
    expect(QueryTagsFormSchema.parse({ intent: "set-query-tags", queryId: "12", tags: "" }).tags).toEqual([]);
    expect(errors({ intent: "set-query-tags", queryId: "12", tags: "ok, <b>" })).toEqual({
      tags: [expect.stringMatching(/^Not saved: the tag "<b>" must start with a letter or digit/)],
    });
    expect(errors({ intent: "set-query-tags", queryId: "012", tags: "a" })).toEqual({ queryId: ["queryId must be a positive whole number"] });
    expect(errors({ intent: "set-query-tags", queryId: "1" })).toEqual({
      tags: ["Give the tags as a comma-separated list (empty removes them all)"],
    });
    expect(errors({ intent: "set-query-tags", queryId: "1", tags: ["a", "b"] })).toMatchObject({ tags: [expect.any(String)] });
    expect(errors({ intent: "set-query-tags", queryId: "1", tags: "a,".repeat(400) })).toEqual({ tags: ["Too long for a list of tags"] });
    expect(errors({ intent: "nope", queryId: "1", tags: "a" })).toMatchObject({ intent: [expect.any(String)] });
  });
});
