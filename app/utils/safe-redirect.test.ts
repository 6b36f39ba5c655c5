import { describe, expect, it } from "vitest";
import { safeRedirect } from "./safe-redirect";

describe("safeRedirect", () => {
  it.each([
    ["/studies/1/annotate?x=1", "/studies/1/annotate?x=1"],
    ["/join?redirectTo=%2Fstudies%2F1", "/join?redirectTo=%2Fstudies%2F1"],
    ["/studies/1#top", "/studies/1#top"],
    // Non-ASCII comes back percent-encoded: a Location header must be ASCII.
    ["/études?q=ü", "/%C3%A9tudes?q=%C3%BC"],
  ])("keeps the same-origin path %s", (target, expected) => {
    expect(safeRedirect(target)).toBe(expected);
  });

  it.each([
    "https://evil.example",
    "http:evil.example",
    "javascript:alert(1)",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example/x",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/x\r\nSet-Cookie: a=b",
    "/%09/evil.example/x",
    "/%0d%0a/evil.example",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "/%5Cevil.example",
    "/%252F/evil.example",
    "/%E0%A4%A",
    "/.//evil.example",
    "/a/../..//evil.example",
    "/\u0000x",
    "/\u0085x",
    "evil.example",
    "?x=1",
    "",
    null,
    undefined,
    "/" + "a".repeat(5000),
  ])("refuses %j", (target) => {
    expect(safeRedirect(target)).toBe("/");
  });

  it("never throws and always returns an ASCII path without control characters", () => {
    const alphabet = ["/", "\\", "%", "0", "9", "2F", "5C", "\t", "\n", "\r", ".", "?", "#", "é", "\u2028", "\ud800", "@", ":", " ", "a"];
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 5000; i++) {
      const length = 1 + Math.floor(random() * 12);
      const target = "/" + Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join("");
      const result = safeRedirect(target);
      expect(result.startsWith("/") && !result.startsWith("//"), target).toBe(true);
      expect(result, target).toMatch(/^[\x21-\x7e]*$/);
      // Whatever a browser would make of the Location, it stays on our origin.
      expect(new URL(result, "https://app.example").origin).toBe("https://app.example");
    }
  });
});
