import { describe, expect, it } from "vitest";
import { safeRedirect } from "./safe-redirect";

describe("safeRedirect", () => {
  it("keeps same-origin paths", () => {
    expect(safeRedirect("/studies/1/annotate?x=1")).toBe("/studies/1/annotate?x=1");
  });
  it.each(["https://evil.example", "//evil.example", "/\\evil.example", "", null, undefined])("refuses %s", (target) => {
    expect(safeRedirect(target)).toBe("/");
  });
});
