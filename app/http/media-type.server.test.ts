import { describe, expect, it } from "vitest";
import { decodeUtf8, isWellFormedUrlencoded, mediaTypeOf } from "./media-type.server";

describe("mediaTypeOf", () => {
  it.each([
    ["application/json", "application/json"],
    ["Application/JSON; charset=UTF-8", "application/json"],
    ['multipart/form-data; boundary="--x"', "multipart/form-data"],
    ["text/plain; a=application/json", null],
    ['text/plain; a="application/json"', "text/plain"],
    ["application/json, text/plain", null],
    ["application/jsonx", "application/jsonx"],
    ["json", null],
    ["", null],
    [null, null],
  ])("%j → %j", (header, expected) => {
    expect(mediaTypeOf(header)).toBe(expected);
  });
});

describe("isWellFormedUrlencoded", () => {
  const bytes = (text: string, extra: number[] = []) => new Uint8Array([...Buffer.from(text, "latin1"), ...extra]);
  it.each([
    ["displayName=Ada+Lovelace&redirectTo=%2Fstudies%2F1", true],
    ["displayName=%C3%A9t%C3%A9", true],
    ["", true],
    ["a&&b=", true],
    ["displayName=%FF%FE", false],
    ["displayName=%C3", false],
    ["displayName=%ZZ", false],
    ["displayName=100%", false],
  ])("%j → %s", (text, expected) => {
    expect(isWellFormedUrlencoded(bytes(text))).toBe(expected);
  });
  it("refuses raw bytes that are not UTF-8", () => {
    expect(isWellFormedUrlencoded(bytes("displayName=", [0xff, 0xfe]))).toBe(false);
    expect(decodeUtf8(bytes("{}", [0xc3]))).toBeNull();
    expect(decodeUtf8(Buffer.from('{"a":"é"}', "utf8"))).toBe('{"a":"é"}');
  });
});
