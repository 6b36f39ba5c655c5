import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decodeTextUpload, refuseNonText } from "./text-upload.server";

describe("decodeTextUpload: only text gets in", () => {
  it("reads UTF-8, drops a UTF-8 BOM and converts UTF-16 with a BOM", () => {
    expect(decodeTextUpload(Buffer.from("Grüße\nzwei"))).toEqual({ text: "Grüße\nzwei" });
    expect(decodeTextUpload(Buffer.from("\uFEFFtext,notes"))).toEqual({ text: "text,notes" });
    expect(decodeTextUpload(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("Wie warm?\r\n", "utf16le")]))).toEqual({ text: "Wie warm?\r\n" });
    const bigEndian = Buffer.from("Eco", "utf16le").swap16();
    expect(decodeTextUpload(Buffer.concat([Buffer.from([0xfe, 0xff]), bigEndian]))).toEqual({ text: "Eco" });
  });

  it("refuses binary files, random bytes, UTF-16 without a BOM and other encodings, saying what to do", () => {
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), randomBytes(200)]);
    expect(decodeTextUpload(png)).toEqual({ error: expect.stringMatching(/binary file|not valid UTF-8/) });
    // 3 KB of random bytes as in the issue: never taken as queries.
    for (let trial = 0; trial < 20; trial++) expect(decodeTextUpload(randomBytes(3_000))).toHaveProperty("error");
    expect(decodeTextUpload(Buffer.from("How warm is it?\nWhy?", "utf16le"))).toEqual({
      error: expect.stringContaining("UTF-16 text without a byte-order mark"),
    });
    expect(decodeTextUpload(Buffer.from([0x47, 0x72, 0xfc, 0xdf, 0x65]))).toEqual({ error: expect.stringContaining("not valid UTF-8") });
    expect(decodeTextUpload(Buffer.from("text\u001b[31mred"))).toEqual({ error: expect.stringContaining("control characters") });
  });
});

describe("refuseNonText: the request thread's checks of an upload a job decodes", () => {
  it("refuses empty, binary and non-UTF-8 files, and lets text (UTF-8, with a BOM, UTF-16 with a BOM) through", () => {
    expect(refuseNonText(new Uint8Array([]))).toBe("the file is empty");
    expect(refuseNonText(new Uint8Array([0xff, 0xfe]))).toBe("the file is empty");
    expect(refuseNonText(new Uint8Array([0xef, 0xbb, 0xbf]))).toBe("the file is empty");
    expect(refuseNonText(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01]))).toMatch(/binary/);
    expect(refuseNonText(new Uint8Array([0x7b, 0xc3, 0x28]))).toMatch(/not valid UTF-8/);
    expect(refuseNonText(new TextEncoder().encode('{"vote_id": 1}\n'))).toBeNull();
    expect(refuseNonText(new Uint8Array([0xef, 0xbb, 0xbf, 0x41]))).toBeNull();
    expect(refuseNonText(new Uint8Array([0xff, 0xfe, 0x41, 0x00]))).toBeNull();
  });
});
