import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { csvField, csvRow } from "./csv.server";

describe("csvField", () => {
  it("leaves plain text, numbers and booleans alone and writes null as an empty field", () => {
    expect(csvField("plain text")).toBe("plain text");
    expect(csvField(42)).toBe("42");
    expect(csvField(-3)).toBe("-3");
    expect(csvField(true)).toBe("true");
    expect(csvField(null)).toBe("");
  });

  it("quotes commas, quotes, newlines and carriage returns, doubling quotes", () => {
    expect(csvField("a, b")).toBe('"a, b"');
    expect(csvField('she said "hi"')).toBe('"she said ""hi"""');
    expect(csvField("line 1\nline 2")).toBe('"line 1\nline 2"');
    expect(csvField("a\r\nb")).toBe('"a\r\nb"');
  });

  it("prefixes an apostrophe to text a spreadsheet would run as a formula", () => {
    expect(csvField("=cmd|' /C calc'!A0")).toBe("'=cmd|' /C calc'!A0");
    expect(csvField("+1+1")).toBe("'+1+1");
    expect(csvField("-2+3")).toBe("'-2+3");
    expect(csvField("@SUM(A1)")).toBe("'@SUM(A1)");
    expect(csvField("\tindented")).toBe("'\tindented");
    expect(csvField("\r=1")).toBe('"\'\r=1"');
    expect(csvField('=HYPERLINK("http://x","y")')).toBe('"\'=HYPERLINK(""http://x"",""y"")"');
    expect(csvField("a=b")).toBe("a=b");
  });
});

describe("csvRow", () => {
  it("round-trips awkward cells through an independent RFC 4180 reader (csv-parse)", () => {
    const cells = ["comma, inside", 'quote " inside', "new\nline", "=cmd", "", "ünïcödé 🎉", "trailing,"];
    const text = csvRow(["header", "x"]) + csvRow(cells);
    expect(text.endsWith("\r\n")).toBe(true);
    const [header, row] = parse(text, { relax_column_count: true });
    expect(header).toEqual(["header", "x"]);
    expect(row).toEqual(["comma, inside", 'quote " inside', "new\nline", "'=cmd", "", "ünïcödé 🎉", "trailing,"]);
  });
});
