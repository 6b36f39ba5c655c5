import type { ServerBuild } from "@remix-run/node";
import { describe, expect, it } from "vitest";
import { createRoutePolicy } from "./route-policy.server";

const noop = () => null;
const Component = () => null;

// A build with the shapes Remix routes take: root layout, root index, a layout with its own index,
// a page with an action, a loader-only resource route, an action-only resource route.
const routes = {
  root: { id: "root", path: "", module: { default: Component, loader: noop } },
  "routes/_index": { id: "routes/_index", parentId: "root", index: true, module: { default: Component, loader: noop } },
  "routes/join": { id: "routes/join", parentId: "root", path: "join", module: { default: Component, loader: noop, action: noop } },
  "routes/studies.$id": {
    id: "routes/studies.$id",
    parentId: "root",
    path: "studies/:id",
    module: { default: Component, loader: noop, action: noop },
  },
  "routes/studies.$id._index": {
    id: "routes/studies.$id._index",
    parentId: "routes/studies.$id",
    index: true,
    module: { default: Component, loader: noop },
  },
  "routes/studies.$id.upload": {
    id: "routes/studies.$id.upload",
    parentId: "routes/studies.$id",
    path: "upload",
    module: { default: Component, action: noop, handle: { maxBodyBytes: 1_000_000 } },
  },
  "routes/export": { id: "routes/export", parentId: "root", path: "export", module: { loader: noop } },
  "routes/hook": { id: "routes/hook", parentId: "root", path: "hook", module: { action: noop } },
} as unknown as ServerBuild["routes"];

const policyFor = createRoutePolicy(routes);

describe("createRoutePolicy", () => {
  it.each([
    ["/", "", "root", ["GET", "HEAD"]],
    ["/_root.data", "", "root", ["GET", "HEAD"]],
    ["/", "?index", "routes/_index", ["GET", "HEAD"]],
    ["/join", "", "routes/join", ["GET", "HEAD", "POST"]],
    ["/join.data", "", "routes/join", ["GET", "HEAD", "POST"]],
    ["/join/", "", "routes/join", ["GET", "HEAD", "POST"]],
    // The layout's action answers a post to its path; its index only with ?index (as Remix decides).
    ["/studies/7", "", "routes/studies.$id", ["GET", "HEAD", "POST"]],
    ["/studies/7", "?index", "routes/studies.$id._index", ["GET", "HEAD"]],
    ["/studies/7", "?index=1", "routes/studies.$id", ["GET", "HEAD", "POST"]],
    // A component renders on GET even without a loader.
    ["/studies/7/upload", "", "routes/studies.$id.upload", ["GET", "HEAD", "POST"]],
    ["/export", "", "routes/export", ["GET", "HEAD"]],
    ["/hook", "", "routes/hook", ["POST"]],
  ])("%s%s is answered by %s with %j", (pathname, search, routeId, allow) => {
    expect(policyFor(pathname, search)).toMatchObject({ routeId, allow });
  });

  it("takes a route's body cap from its handle, 64 KB otherwise", () => {
    expect(policyFor("/studies/7/upload", "")?.maxBodyBytes).toBe(1_000_000);
    expect(policyFor("/join", "")?.maxBodyBytes).toBe(64 * 1024);
  });

  it("matches nothing outside the routes", () => {
    expect(policyFor("/nope", "")).toBeNull();
    expect(policyFor("/studies/7/upload/extra", "")).toBeNull();
  });
});
