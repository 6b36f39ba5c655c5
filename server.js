// Production/dev HTTP server: the annotator JSON API (/api/*) is answered directly (ADR 0007), with
// its own security headers, rate limits and cross-site check (app/api/node-http.server.ts);
// everything else goes through Express: security headers, static files, rate limits, the request's
// fit to its route (method, origin, body type and size), then Remix (app/http, ADR 0012).
// Listens on PORT (default 3000; 0 picks a free port).
import http from "node:http";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import express from "express";

const root = path.dirname(fileURLToPath(import.meta.url));
const build = await import(pathToFileURL(path.join(root, "build/index.js")).href);

// Validate the environment, open the database and apply migrations before accepting requests:
// a misconfiguration fails the start with a readable message instead of the first request.
const { port } = build.entry.module.boot();
const { handleApiHttp, isApiPath, createHttpGuards, startupMessage } = build.entry.module;
const guards = createHttpGuards(build);

const app = express();
app.disable("x-powered-by");
app.use(guards.securityHeaders);
app.use("/build", express.static(path.join(root, "public/build"), { immutable: true, maxAge: "1y" }));
app.use(express.static(path.join(root, "public"), { maxAge: "1h" }));
app.use(guards.rateLimits);
app.use(guards.requestShape);
app.all("*", guards.remix);

const server = http.createServer((req, res) => (isApiPath(req.url) ? handleApiHttp(req, res) : app(req, res)));
// Node closes an idle keep-alive socket after 5 s; a client that reuses it at that moment gets ECONNRESET
// (seen from a scripted annotator on a machine at load 30). Idle sockets live longer than the 60 s of common
// proxies and clients instead, and a request's headers must still arrive within the headers timeout.
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.listen(port, () => {
  const address = server.address();
  const actualPort = typeof address === "object" && address ? address.port : port;
  console.log(startupMessage(`http://localhost:${actualPort}`));
});

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2_000).unref();
  });
}
