import { describe, expect, it } from "vitest";
import { env, lockEnv, parseEnv } from "./env.server";

describe("parseEnv", () => {
  it("runs with nothing set", () => {
    expect(parseEnv({})).toMatchObject({ DATABASE_PATH: "./data/promptduel.db", PORT: 3000, ASSIGNMENT_TTL_MINUTES: 10 });
  });
  it("splits SESSION_SECRET into a rotation list", () => {
    expect(parseEnv({ SESSION_SECRET: "a".repeat(16) + ", " + "b".repeat(20) }).SESSION_SECRET).toEqual(["a".repeat(16), "b".repeat(20)]);
  });
  it("names every bad variable in one error", () => {
    expect(() => parseEnv({ PORT: "http", SESSION_SECRET: "short" })).toThrow(
      /PORT[\s\S]*SESSION_SECRET: every SESSION_SECRET entry must be at least 16 characters/,
    );
  });
});

describe("env", () => {
  it("follows changes to the process environment", () => {
    const saved = process.env.ASSIGNMENT_TTL_MINUTES;
    try {
      process.env.ASSIGNMENT_TTL_MINUTES = "7";
      expect(env().ASSIGNMENT_TTL_MINUTES).toBe(7);
      process.env.ASSIGNMENT_TTL_MINUTES = "8";
      expect(env().ASSIGNMENT_TTL_MINUTES).toBe(8);
      process.env.ASSIGNMENT_TTL_MINUTES = "-1";
      expect(() => env()).toThrow(/ASSIGNMENT_TTL_MINUTES/);
    } finally {
      if (saved === undefined) delete process.env.ASSIGNMENT_TTL_MINUTES;
      else process.env.ASSIGNMENT_TTL_MINUTES = saved;
    }
  });
});

// Last in this file: a locked environment stays locked for the rest of the module's life.
describe("lockEnv", () => {
  it("keeps the environment read at boot, as a running server's does not change", () => {
    const saved = process.env.ASSIGNMENT_TTL_MINUTES;
    try {
      process.env.ASSIGNMENT_TTL_MINUTES = "5";
      lockEnv();
      process.env.ASSIGNMENT_TTL_MINUTES = "6";
      expect(env().ASSIGNMENT_TTL_MINUTES).toBe(5);
    } finally {
      if (saved === undefined) delete process.env.ASSIGNMENT_TTL_MINUTES;
      else process.env.ASSIGNMENT_TTL_MINUTES = saved;
    }
  });
});
