import { afterEach, describe, expect, it } from "vitest";
import { requestIsHttps } from "./request-security.server";
import { sessionCookieHeader } from "./session.server";

const session = { id: 1, token: "t".repeat(43), expiresAt: new Date("2030-01-01T00:00:00.000Z") };

describe("Secure cookies whenever the request is HTTPS", () => {
  afterEach(() => {
    delete process.env.TRUST_PROXY;
  });

  it("believes X-Forwarded-Proto only with TRUST_PROXY=1, and only its first hop", () => {
    const behindProxy = { url: "http://app.internal/login", forwardedProto: "https" };
    expect(requestIsHttps(behindProxy)).toBe(false);
    process.env.TRUST_PROXY = "1";
    expect(requestIsHttps(behindProxy)).toBe(true);
    expect(requestIsHttps({ url: "http://app.internal/login", forwardedProto: "https, http" })).toBe(true);
    expect(requestIsHttps({ url: "http://app.internal/login", forwardedProto: "http, https" })).toBe(false);
    expect(requestIsHttps({ url: "http://app.internal/login", forwardedProto: null })).toBe(false);
    expect(requestIsHttps({ url: "https://app.example/login", forwardedProto: null })).toBe(true);
  });

  it("sends the session cookie httpOnly, SameSite=Lax, with its expiry, and Secure exactly when asked", async () => {
    const secure = await sessionCookieHeader(session, true);
    const plain = await sessionCookieHeader(session, false);
    for (const header of [secure, plain]) {
      expect(header).toMatch(/^__promptduel_session=/);
      expect(header).toContain("HttpOnly");
      expect(header).toContain("SameSite=Lax");
      expect(header).toContain("Path=/");
      expect(header).toContain("Expires=Tue, 01 Jan 2030 00:00:00 GMT");
      // Signed: the token alone never appears bare.
      expect(header).not.toContain(`=${session.token};`);
    }
    expect(secure).toContain("; Secure");
    expect(plain).not.toContain("Secure");
  });
});
