import { describe, expect, it } from "vitest";
import { hashPassword, NewPasswordSchema, verifyAgainstNothing, verifyPassword } from "./password.server";

describe("password hashing (scrypt)", () => {
  it("stores the parameters and a random salt with the hash, and verifies only the right password", async () => {
    const first = await hashPassword("correct horse battery");
    const second = await hashPassword("correct horse battery");
    expect(first).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(second).not.toBe(first);
    await expect(verifyPassword("correct horse battery", first)).resolves.toBe(true);
    await expect(verifyPassword("correct horse battery", second)).resolves.toBe(true);
    await expect(verifyPassword("correct horse batterY", first)).resolves.toBe(false);
    await expect(verifyPassword("", first)).resolves.toBe(false);
  });

  it("treats canonically equal passwords as one (NFC): é typed precomposed or as e + accent", async () => {
    const stored = await hashPassword("caf\u00e9 au lait, please");
    await expect(verifyPassword("cafe\u0301 au lait, please", stored)).resolves.toBe(true);
  });

  it("never matches a malformed or tampered hash, and never throws on one", async () => {
    const stored = await hashPassword("correct horse battery");
    const parts = stored.split("$");
    for (const bad of [
      "",
      "plain",
      "bcrypt$x",
      stored.replace("scrypt", "md5"),
      [...parts.slice(0, 5), ""].join("$"),
      [parts[0], "99999999", ...parts.slice(2)].join("$"),
    ]) {
      await expect(verifyPassword("correct horse battery", bad)).resolves.toBe(false);
    }
  });

  it("answers false for an unknown account after doing the same work", async () => {
    await expect(verifyAgainstNothing("anything")).resolves.toBe(false);
  });

  it("asks for at least 10 and at most 200 characters", () => {
    expect(NewPasswordSchema.safeParse("short").success).toBe(false);
    expect(NewPasswordSchema.safeParse("long enough").success).toBe(true);
    expect(NewPasswordSchema.safeParse("x".repeat(201)).success).toBe(false);
  });
});
