import { existsSync } from "node:fs";
import path from "node:path";

import fastifyStatic from "@fastify/static";

import type { Platform } from "../platform.js";
import { unencapsulated } from "./plugin.js";

/** Paths that belong to the server, never to the web app's client-side routes. */
const API_PATH = /^\/(trpc|api|media|pay|healthz|readyz|metrics)(\/|$)/;

/** Vite names its build output by content hash under /assets/: such a file never changes. */
const HASHED_ASSET = /[/\\]assets[/\\][^/\\]+-[A-Za-z0-9_-]{8}\.[a-z0-9.]+$/;

/**
 * The built web app (Vite output), when there is one: its files, and index.html for client-side routes
 * (the root's not-found handler, so it must not be encapsulated). Text files are sent as the brotli or
 * gzip copies the build wrote beside them (`preCompressed`), by the browser's Accept-Encoding; hashed
 * assets are cached for a year, index.html is revalidated on every load.
 */
export const webApp = unencapsulated<{ platform: Platform }>(async (app, { platform }) => {
  const webDir = path.resolve(platform.config.env.WEB_DIST_DIR);
  if (!existsSync(path.join(webDir, "index.html"))) return;
  await app.register(fastifyStatic, {
    root: webDir,
    prefix: "/",
    index: "index.html",
    preCompressed: true,
    cacheControl: false,
    setHeaders(res, file) {
      res.setHeader("cache-control", HASHED_ASSET.test(file) ? "public, max-age=31536000, immutable" : "no-cache");
    },
  });
  app.setNotFoundHandler((request, reply) => {
    const apiPath = API_PATH.test(request.url);
    if (request.method === "GET" && !apiPath && String(request.headers.accept ?? "").includes("text/html")) {
      return reply.type("text/html; charset=utf-8").header("cache-control", "no-cache").sendFile("index.html");
    }
    return reply.code(404).send({ error: { appCode: "notFound" } });
  });
});
