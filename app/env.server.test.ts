import { describe, expect, it } from "vitest";
import { parseEnv } from "./env.server";

describe("parseEnv", () => {
  it("runs with nothing set", () => {
    expect(parseEnv({})).toMatchObject({ DATABASE_PATH: "./data/promptduel.db", PORT: 3000, ASSIGNMENT_TTL_MINUTES: 10 });
  });
  it("splits SESSION_SECRET into a rotation list", () => {
    expect(parseEnv({ SESSION_SECRET: "a".repeat(16) + ", " + "b".repeat(20) }).SESSION_SECRET).toEqual(["a".repeat(16), "b".repeat(20)]);
  });
  it("names every bad variable in one error", () => {
    expect(() => parseEnv({ PORT: "http", SESSION_SECRET: "short" })).toThrow(/PORT[\s\S]*SESSION_SECRET: every SESSION_SECRET entry must be at least 16 characters/);
  });
});
