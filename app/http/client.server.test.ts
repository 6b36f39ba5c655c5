import { Socket } from "node:net";
import { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { clientOf, rateLimitAddress } from "./client.server";

function request(headers: Record<string, string>, remoteAddress = "127.0.0.1"): IncomingMessage {
  const socket = new Socket();
  Object.defineProperty(socket, "remoteAddress", { value: remoteAddress });
  const req = new IncomingMessage(socket);
  req.headers = headers;
  return req;
}

describe("rateLimitAddress", () => {
  it.each([
    ["10.1.2.3", "10.1.2.3"],
    ["::ffff:10.1.2.3", "10.1.2.3"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["2001:0db8:0001:0002:ffff::1", "2001:db8:1:2::/64"],
    ["2001:db8::1", "2001:db8:0:0::/64"],
    ["[2001:db8:1:2::9]", "2001:db8:1:2::/64"],
    ["::1", "0:0:0:0::/64"],
    ["not-an-address", "not-an-address"],
  ])("%s → %s", (address, expected) => {
    expect(rateLimitAddress(address)).toBe(expected);
  });
});

describe("clientOf", () => {
  const forwarded = {
    host: "internal:3000",
    "x-forwarded-for": "6.6.6.6, 203.0.113.7",
    "x-forwarded-proto": "https",
    "x-forwarded-host": "app.example",
  };

  it("ignores forwarded headers unless a proxy is trusted (a client could forge them)", () => {
    expect(clientOf(request(forwarded, "192.0.2.1"), false)).toEqual({ ip: "192.0.2.1", host: "internal:3000", https: false, session: null });
  });

  it("behind a trusted proxy reads the address the proxy appended, and its scheme and host", () => {
    expect(clientOf(request(forwarded, "192.0.2.1"), true)).toEqual({ ip: "203.0.113.7", host: "app.example", https: true, session: null });
    expect(clientOf(request({ host: "Direct.Example" }, "192.0.2.1"), true)).toEqual({
      ip: "192.0.2.1",
      host: "direct.example",
      https: false,
      session: null,
    });
  });

  it("finds the session cookie among others", () => {
    expect(clientOf(request({ host: "a", cookie: "theme=dark; __promptduel_session=abc.def; x=1" }), false).session).toBe("abc.def");
    expect(clientOf(request({ host: "a", cookie: "theme=dark" }), false).session).toBeNull();
  });
});
