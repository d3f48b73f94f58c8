import { existsSync } from "node:fs";
import path from "node:path";

import fastifyStatic from "@fastify/static";

import type { Platform } from "../platform.js";
import { unencapsulated } from "./plugin.js";

/** Paths that belong to the server, never to the web app's client-side routes. */
const API_PATH = /^\/(trpc|api|media|pay|healthz|readyz|metrics)(\/|$)/;

/**
 * The built web app (Vite output), when there is one: its files, and index.html for client-side routes
 * (the root's not-found handler, so it must not be encapsulated).
 */
export const webApp = unencapsulated<{ platform: Platform }>(async (app, { platform }) => {
  const webDir = path.resolve(platform.config.env.WEB_DIST_DIR);
  if (!existsSync(path.join(webDir, "index.html"))) return;
  await app.register(fastifyStatic, { root: webDir, prefix: "/", index: "index.html" });
  app.setNotFoundHandler((request, reply) => {
    const apiPath = API_PATH.test(request.url);
    if (request.method === "GET" && !apiPath && String(request.headers.accept ?? "").includes("text/html")) {
      return reply.type("text/html; charset=utf-8").sendFile("index.html");
    }
    return reply.code(404).send({ error: { appCode: "notFound" } });
  });
});
