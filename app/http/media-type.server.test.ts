import { describe, expect, it } from "vitest";
import { mediaTypeOf } from "./media-type.server";

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
