import { describe, expect, it } from "vitest";
import { csvField, csvRow } from "./csv.server";

/** A small RFC 4180 reader, independent of the writer, to check that rows come back intact. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let k = 0; k < text.length; k++) {
    const char = text[k]!;
    if (quoted) {
      if (char === '"' && text[k + 1] === '"') {
        field += '"';
        k++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ",") {
      row.push(field);
      field = "";
    } else if (char === "\r" && text[k + 1] === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      k++;
    } else field += char;
  }
  return rows;
}

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
    expect(csvField("\r=1")).toBe("\"'\r=1\"");
    expect(csvField('=HYPERLINK("http://x","y")')).toBe('"\'=HYPERLINK(""http://x"",""y"")"');
    expect(csvField("a=b")).toBe("a=b");
  });
});

describe("csvRow", () => {
  it("round-trips awkward cells through an RFC 4180 reader", () => {
    const cells = ["comma, inside", 'quote " inside', "new\nline", "=cmd", "", "ünïcödé 🎉", "trailing,"];
    const text = csvRow(["header", "x"]) + csvRow(cells);
    expect(text.endsWith("\r\n")).toBe(true);
    const [header, row] = parseCsv(text);
    expect(header).toEqual(["header", "x"]);
    expect(row).toEqual(["comma, inside", 'quote " inside', "new\nline", "'=cmd", "", "ünïcödé 🎉", "trailing,"]);
  });
});
