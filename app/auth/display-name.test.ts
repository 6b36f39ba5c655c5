import { describe, expect, it } from "vitest";
import { normalizeDisplayName, visibleLength } from "./display-name";

const ok = (raw: string) => normalizeDisplayName(raw);

describe("display-name normalisation", () => {
  it("applies NFC, collapses whitespace runs and trims", () => {
    expect(ok("  Ada \t\n  Lovelace  ")).toEqual({ ok: true, name: "Ada Lovelace" });
    expect(ok("Jose\u0301")).toEqual({ ok: true, name: "Jos\u00e9" });
    expect(ok("Zoë\u00a0Smith")).toEqual({ ok: true, name: "Zoë Smith" });
    expect(ok("李小龙")).toEqual({ ok: true, name: "李小龙" });
    expect(ok("Ana 🌻")).toEqual({ ok: true, name: "Ana 🌻" });
  });

  it("refuses control, format (zero-width, BOM, soft hyphen) and bidi characters", () => {
    for (const raw of [
      "Ada\u0000",
      "Ada\u0007Bell",
      "Ad\u200Ba",
      "Ad\u200Da",
      "\uFEFFAda",
      "Ad\u00ADa",
      "Ada\u202Egnp.exe",
      "\u2066Ada\u2069",
      "Ada\u200F",
      "Ada\u2028Lovelace",
      "Ada\u{E0041}",
      "Ada\uE000",
    ]) {
      const result = ok(raw);
      expect(result.ok, JSON.stringify(raw)).toBe(false);
    }
  });

  it("refuses names that show nothing", () => {
    for (const raw of ["", "   ", "\u3164", "\u2800\u2800", "\u115F", "\u0301\u0301", "A\u034F"]) expect(ok(raw).ok, JSON.stringify(raw)).toBe(false);
  });

  it("counts user-perceived characters: 60 are fine, 61 are not, and stacked marks cannot inflate a name", () => {
    expect(visibleLength("e\u0301")).toBe(1);
    expect(ok("a".repeat(60))).toEqual({ ok: true, name: "a".repeat(60) });
    expect(ok("a".repeat(61))).toMatchObject({ ok: false, message: expect.stringContaining("60") });
    expect(ok("é".repeat(60)).ok).toBe(true);
    expect(ok(`Z${"\u0336".repeat(400)}`).ok).toBe(false);
  });
});
