import { randomUUID } from "node:crypto";

import pino from "pino";
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions, LogController } from "fastify";

import type { Platform } from "../platform.js";
import { health } from "./health.js";
import { load } from "./load.js";
import { media } from "./media.js";
import { notifications } from "./notifications.js";
import { sandboxCashier } from "./sandbox-cashier.js";
import { security } from "./security.js";
import { webApp } from "./static.js";
import { stockStream } from "./stock-stream.js";
import { trpc } from "./trpc.js";
import { credentialRoutes } from "./credentials.js";

export { refusal } from "./refusal.js";
export { CSRF_COOKIE, CSRF_HEADER, staticSecurityHeaders } from "./security.js";
export { SESSION_COOKIE } from "./session.js";

export interface HttpOptions {
  /** False for no logging; otherwise the level and, for tests, where log lines go. */
  logger?: false | { level?: string; stream?: NodeJS.WritableStream };
}

/** Fastify's own options: logs carry a request id and never a cookie, a header with a token, or a query string. */
function serverOptions(platform: Platform, options: HttpOptions): FastifyServerOptions {
  return {
    logger:
      options.logger === false
        ? false
        : {
            level: options.logger?.level ?? platform.config.env.LOG_LEVEL,
            // Log lines go to stdout without blocking the request that writes them: while one write is under
            // way, the lines after it wait in memory and leave together (one write per request was a few per
            // cent of a flash sale's CPU). Nothing waits for more lines: a quiet server's line leaves at once.
            stream: options.logger?.stream ?? pino.destination({ dest: 1, sync: false }),
            // A request is logged as its method, path and id, never its headers or query: no cookie, token or
            // CSRF value reaches a line (test/server/http.test.ts looks for them), with no redaction pass to pay.
            serializers: {
              req: (req: FastifyRequest) => ({ method: req.method, path: req.url.split("?")[0], reqId: req.id }),
            },
          },
    // One line per request, when it is answered (below), instead of Fastify's two (received, then answered).
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: (req) => {
      const given = req.headers["x-request-id"];
      return typeof given === "string" && /^[\w-]{8,64}$/.test(given) ? given : randomUUID();
    },
    requestIdHeader: false,
    // Behind a TLS proxy or load balancer, the client's address comes from the proxies named in TRUST_PROXY.
    ...trustProxy(platform.config.env.TRUST_PROXY),
    routerOptions: { maxParamLength: 5000 },
    bodyLimit: 1024 * 1024,
  };
}

/** Fastify's trustProxy for the TRUST_PROXY setting (a hop count trusts that many proxies from the socket). */
function trustProxy(setting: boolean | number | string[] | undefined): Pick<FastifyServerOptions, "trustProxy"> {
  if (setting === undefined) return {};
  if (typeof setting === "number") return { trustProxy: (_address: string, hop: number) => hop < setting };
  return { trustProxy: setting };
}

/**
 * The HTTP host: tRPC at /trpc (batching on), liveness at /healthz,
 * readiness at /readyz, security headers on every answer. One plugin per
 * concern, registered in the order the routes always were: security first
 * (its onRequest hook is on the root before any route or child context
 * exists), then the plain routes, the web app, and tRPC behind its door.
 */
export async function buildHttpApp(platform: Platform, options: HttpOptions = {}): Promise<FastifyInstance> {
  const app = Fastify(serverOptions(platform, options));
  app.addHook("onResponse", async (request, reply) => {
    request.log.info(
      { req: request, res: { statusCode: reply.statusCode }, responseTime: Math.round(reply.elapsedTime * 10) / 10 },
      "request completed",
    );
  });
  await app.register(security, { platform });
  await app.register(load, { platform });
  await app.register(health, { platform });
  await app.register(credentialRoutes, { platform });
  await app.register(stockStream, { platform });
  await app.register(media, { platform });
  await app.register(notifications, { platform });
  await app.register(sandboxCashier, { platform });
  await app.register(webApp, { platform });
  await app.register(trpc, { platform });
  return app;
}
