import { describe, expect, it } from "vitest";
import { jsonlLines } from "./jsonl";

describe("jsonlLines", () => {
  it("numbers non-blank lines from 1, ignoring a byte-order mark, CRLF endings and blank lines", () => {
    expect([...jsonlLines('\uFEFF{"a":1}\r\n\r\n  \n{"b":2}\n')]).toEqual([
      { line: 1, text: '{"a":1}' },
      { line: 4, text: '{"b":2}' },
    ]);
  });
});
