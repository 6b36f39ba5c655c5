import { describe, expect, it } from "vitest";
import {
  ImportError,
  MAX_PROMPT_CHARS,
  MAX_QUERY_CHARS,
  parseCsv,
  parsePromptBlocks,
  parsePromptsFile,
  parseQueriesFile,
  parseQueryLines,
  parseResponsesJsonl,
} from "./study-files.server";

describe("parseCsv", () => {
  it("handles quotes, doubled quotes, commas and line breaks inside quoted fields, CRLF and a BOM", () => {
    const csv = '\uFEFFtext,notes\r\n"Hello, world","say ""hi"""\r\n"two\nlines",\r\n\r\nplain,x\r\n';
    expect(parseCsv(csv)).toEqual([
      { line: 1, fields: ["text", "notes"] },
      { line: 2, fields: ["Hello, world", 'say "hi"'] },
      { line: 3, fields: ["two\nlines", ""] },
      { line: 6, fields: ["plain", "x"] },
    ]);
  });
  it("names the line where malformed CSV stops parsing", () => {
    expect(() => parseCsv('text\nok\n"broken,\nstill')).toThrow(
      new ImportError(4, "the file ends inside a quoted field: a quote opened on this line or before is never closed"),
    );
    expect(() => parseCsv('text\n"closed"then more\n')).toThrow(/^line 2: a quoted field is followed by more text/);
    expect(() => parseCsv('text,notes\nok,fine\nsay "hi",x\n')).toThrow(/^line 3: a quote in the middle of an unquoted field/);
  });
});

describe("one item per line, with a length limit", () => {
  it("names the line of a query or prompt that is too long to be one", () => {
    const long = "x".repeat(MAX_QUERY_CHARS + 1);
    expect(() => parseQueryLines(`fine\n\n${long}`)).toThrow(
      new ImportError(3, `this query is 8,001 characters long; a query can have at most 8,000`),
    );
    expect(() => parseQueriesFile("q.jsonl", `{"text":"ok"}\n{"text":"${long}"}`)).toThrow(/^line 2: this query is 8,001/);
    expect(() => parsePromptBlocks(`Be brief.\n---\n\n${"y".repeat(MAX_PROMPT_CHARS + 1)}`)).toThrow(/^line 4: this prompt is 20,001/);
    expect(parseQueryLines("a\r\nb\rc")).toEqual(["a", "b", "c"].map((text) => ({ text, notes: null })));
  });
});

describe("queries from uploads", () => {
  it("reads CSV with a text or query column and optional notes", () => {
    expect(parseQueriesFile("q.csv", "Query,Notes\nHow warm?,be precise\nWhy?,\n")).toEqual([
      { text: "How warm?", notes: "be precise" },
      { text: "Why?", notes: null },
    ]);
  });
  it("reads JSONL and plain text", () => {
    expect(parseQueriesFile("q.jsonl", '{"text":"A?"}\n\n{"query":"B?","notes":"n"}\n')).toEqual([
      { text: "A?", notes: null },
      { text: "B?", notes: "n" },
    ]);
    expect(parseQueriesFile("q.txt", "A?\n\n  B?  \n")).toEqual([
      { text: "A?", notes: null },
      { text: "B?", notes: null },
    ]);
  });
  it("reads tags: a quoted comma-separated CSV field or a JSONL array, normalised", () => {
    expect(parseQueriesFile("q.csv", 'text,tags\nRefund?,"Billing,  Refunds "\nWhy?,\n')).toEqual([
      { text: "Refund?", notes: null, tags: ["billing", "refunds"] },
      { text: "Why?", notes: null },
    ]);
    expect(parseQueriesFile("q.jsonl", '{"text":"A?","tags":["Setup","setup","Wi-Fi"]}\n{"text":"B?","tags":[]}\n')).toEqual([
      { text: "A?", notes: null, tags: ["setup", "wi-fi"] },
      { text: "B?", notes: null },
    ]);
  });
  it("names the line of a bad tag", () => {
    expect(parseQueriesFile("q.jsonl", '{"text":"B?","tags":"billing, refunds"}')).toEqual([
      { text: "B?", notes: null, tags: ["billing", "refunds"] },
    ]);
    expect(() => parseQueriesFile("q.jsonl", '{"text":"A?"}\n{"text":"B?","tags":{"a":1}}')).toThrow(/^line 2: "tags" must be an array of strings/);
    expect(() => parseQueriesFile("q.jsonl", '{"text":"A?","tags":[1]}')).toThrow(/^line 1: "tags" must be an array/);
    expect(() => parseQueriesFile("q.csv", 'text,tags\nA?,ok\nB?,"#nope"\n')).toThrow(/^line 3: the tag "#nope" must start with a letter or digit/);
    expect(() => parseQueriesFile("q.csv", `text,tags\nA?,${"x".repeat(41)}\n`)).toThrow(/^line 2: the tag "x{20}…" is longer than 40 characters/);
  });
  it("names the failing line", () => {
    expect(() => parseQueriesFile("q.csv", "notes\nx\n")).toThrow('line 1: the header needs a column named "text" or "query"');
    expect(() => parseQueriesFile("q.csv", "text,notes\nok,\ntoo,many,fields\n")).toThrow("line 3: expected 2 fields like the header, found 3");
    expect(() => parseQueriesFile("q.jsonl", '{"text":"ok"}\n{"text": 3}\n')).toThrow('line 2: "text" must be a string');
    expect(() => parseQueriesFile("q.jsonl", '{"text":"ok"}\n\n{oops\n')).toThrow("line 3: not valid JSON");
    expect(() => parseQueriesFile("q.jsonl", '["a"]')).toThrow("line 1: expected a JSON object");
  });
});

describe("prompts from pasted text", () => {
  it("splits on blank lines when there is no --- line", () => {
    expect(parsePromptBlocks("Be brief.\n\n\nBe kind.\nAlways.\n").map((p) => p.text)).toEqual(["Be brief.", "Be kind.\nAlways."]);
  });
  it("splits only on --- lines when there is one, so prompts keep their blank lines", () => {
    expect(parsePromptBlocks("Rule one.\n\nRule two.\n---\nOther prompt.\n  ----  \n").map((p) => p.text)).toEqual([
      "Rule one.\n\nRule two.",
      "Other prompt.",
    ]);
  });
  it("reads prompt uploads as CSV and JSONL with labels", () => {
    expect(parsePromptsFile("p.csv", "prompt,label\nBe brief.,short\n")).toEqual([{ text: "Be brief.", label: "short" }]);
    expect(parsePromptsFile("p.jsonl", '{"text":"Be kind.","label":""}')).toEqual([{ text: "Be kind.", label: null }]);
  });
});

describe("parseResponsesJsonl", () => {
  it("accepts texts or ids", () => {
    expect(parseResponsesJsonl('{"prompt":"P","query":"Q","response":"R"}\n{"prompt_id":3,"query_id":4,"response":"S"}')).toEqual([
      { line: 1, prompt: { text: "P" }, query: { text: "Q" }, content: "R" },
      { line: 2, prompt: { id: 3 }, query: { id: 4 }, content: "S" },
    ]);
  });
  it("names the line of a missing field or bad id", () => {
    expect(() => parseResponsesJsonl('{"prompt":"P","query":"Q","response":"R"}\n{"prompt":"P","query":"Q"}')).toThrow(
      'line 2: needs a "response" field',
    );
    expect(() => parseResponsesJsonl('{"prompt_id":1.5,"query":"Q","response":"R"}')).toThrow('line 1: "prompt_id" must be a positive integer');
    expect(() => parseResponsesJsonl("\n\n")).toThrow("line 1: the file has no responses");
  });
});
