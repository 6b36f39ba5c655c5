import { describe, expect, it } from "vitest";
import { z } from "zod";
import { decimalId, formInteger, formNumber, jsonId, optionalFormInteger } from "./strict-fields";

const accepts = (schema: z.ZodType, input: unknown) => schema.safeParse(input);

describe("strict fields", () => {
  it("reads ids only as plain positive decimal strings", () => {
    const id = decimalId("bad id");
    expect(accepts(id, "1")).toMatchObject({ success: true, data: 1 });
    expect(accepts(id, "9007199254740991")).toMatchObject({ success: true, data: Number.MAX_SAFE_INTEGER });
    for (const input of ["0x1", "1e0", "+1", " 1", "1 ", "01", "0", "-1", "1.0", "", "9007199254740993", 1, true, null, [["1"]]]) {
      expect(accepts(id, input).success, JSON.stringify(input)).toBe(false);
    }
  });

  it("reads JSON ids only as JSON integers", () => {
    const id = jsonId("bad id");
    expect(accepts(id, 2003)).toMatchObject({ success: true, data: 2003 });
    for (const input of ["2003", [["2003"]], [2003], true, null, 0, -1, 1.5, "0x10", Number.MAX_SAFE_INTEGER + 2]) {
      expect(accepts(id, input).success, JSON.stringify(input)).toBe(false);
    }
  });

  it("treats a blank required number as an error, never as 0", () => {
    const maxTokens = formInteger({ min: 1, max: 10, message: "range", blankMessage: "blank" });
    expect(accepts(maxTokens, " 7 ")).toMatchObject({ success: true, data: 7 });
    expect(z.flattenError(maxTokens.safeParse("").error!).formErrors).toEqual(["blank"]);
    for (const input of ["0x7", "7e0", "+7", "7.0", "11", "0"]) expect(accepts(maxTokens, input).success, input).toBe(false);

    const temperature = formNumber({ min: 0, max: 2, message: "range", blankMessage: "blank" });
    expect(accepts(temperature, "0.7")).toMatchObject({ success: true, data: 0.7 });
    expect(accepts(temperature, ".5")).toMatchObject({ success: true, data: 0.5 });
    expect(accepts(temperature, "0")).toMatchObject({ success: true, data: 0 });
    for (const input of ["", "  ", "1e0", "0x1", "Infinity", "NaN", "2.5", "-0.1", "1."])
      expect(accepts(temperature, input).success, input).toBe(false);
  });

  it("reads a blank optional number as null, the documented 'not given'", () => {
    const seed = optionalFormInteger({ min: 0, max: 100, message: "range" });
    expect(accepts(seed, "")).toMatchObject({ success: true, data: null });
    expect(accepts(seed, undefined)).toMatchObject({ success: true, data: null });
    expect(accepts(seed, "42")).toMatchObject({ success: true, data: 42 });
    for (const input of ["0x2", "4e1", "-1", "101"]) expect(accepts(seed, input).success, input).toBe(false);
  });
});
