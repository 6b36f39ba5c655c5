import { describe, expect, it } from "vitest";
import { crossSiteRefusal } from "./cross-site.server";

const HOST = "app.example:3000";

describe("crossSiteRefusal", () => {
  it.each([
    ["our own page (Sec-Fetch-Site)", "POST", { secFetchSite: "same-origin", origin: "http://app.example:3000" }],
    ["the user's own navigation", "POST", { secFetchSite: "none", origin: undefined }],
    ["an older browser on our page (Origin only)", "POST", { secFetchSite: undefined, origin: "http://app.example:3000" }],
    ["an Origin in other letter case", "POST", { secFetchSite: undefined, origin: "http://APP.example:3000" }],
    ["a non-browser client (no Origin, no Sec-Fetch-Site)", "POST", { secFetchSite: undefined, origin: undefined }],
    ["any GET, even cross-site", "GET", { secFetchSite: "cross-site", origin: "https://evil.example" }],
    ["a cross-site HEAD", "HEAD", { secFetchSite: "cross-site", origin: undefined }],
  ])("lets through %s", (_name, method, headers) => {
    expect(crossSiteRefusal(method, headers, HOST)).toBeNull();
  });

  it.each([
    ["another site", "POST", { secFetchSite: "cross-site", origin: "https://evil.example" }],
    ["another port of the same host", "POST", { secFetchSite: "same-site", origin: "http://app.example:8080" }],
    ["a sibling subdomain", "PUT", { secFetchSite: "same-site", origin: "http://evil.app.example:3000" }],
    ["Sec-Fetch-Site cross-site whatever the Origin claims", "POST", { secFetchSite: "cross-site", origin: "http://app.example:3000" }],
    ["an unknown Sec-Fetch-Site value", "POST", { secFetchSite: "maybe", origin: undefined }],
    ["an older browser on another port", "POST", { secFetchSite: undefined, origin: "http://app.example:8080" }],
    ["an older browser on another host", "DELETE", { secFetchSite: undefined, origin: "https://evil.example" }],
    ["an opaque origin (sandboxed frame, data: URL)", "POST", { secFetchSite: undefined, origin: "null" }],
    ["a malformed Origin", "POST", { secFetchSite: undefined, origin: "::::" }],
    ["a non-http Origin", "POST", { secFetchSite: undefined, origin: "file://app.example:3000" }],
  ])("refuses %s", (_name, method, headers) => {
    expect(crossSiteRefusal(method, headers, HOST)).toMatch(/^Cross-site request refused: /);
  });

  it("refuses an Origin when the server cannot tell which host was asked for", () => {
    expect(crossSiteRefusal("POST", { secFetchSite: undefined, origin: "http://app.example:3000" }, null)).toMatch(/not from this server/);
  });
});
