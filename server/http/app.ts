import { randomUUID } from "node:crypto";

import fastifyCookie from "@fastify/cookie";
import fastifyHelmet from "@fastify/helmet";
import { type FastifyTRPCPluginOptions, fastifyTRPCPlugin } from "@trpc/server/adapters/fastify";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";

import type { Platform } from "../platform.js";
import { randomToken } from "../security/crypto.js";
import type { Context } from "../trpc/init.js";
import { type AppRouter, appRouter } from "../trpc/router.js";

export const SESSION_COOKIE = "sid";
export const CSRF_COOKIE = "csrf";
export const CSRF_HEADER = "x-csrf-token";

export interface HttpOptions {
  /** False for no logging; otherwise the level and, for tests, where log lines go. */
  logger?: false | { level?: string; stream?: NodeJS.WritableStream };
}

/**
 * The HTTP host: tRPC at /trpc (batching on), liveness at /healthz,
 * readiness at /readyz, security headers on every answer. Logs carry a
 * request id and never a cookie, a header with a token, or a query string.
 */
export async function buildHttpApp(platform: Platform, options: HttpOptions = {}): Promise<FastifyInstance> {
  const secure = platform.config.env.PUBLIC_ORIGIN.startsWith("https://");
  const app = Fastify({
    logger:
      options.logger === false
        ? false
        : {
            level: options.logger?.level ?? platform.config.env.LOG_LEVEL,
            ...(options.logger?.stream === undefined ? {} : { stream: options.logger.stream }),
            redact: ["req.headers.cookie", "req.headers.authorization", `req.headers["${CSRF_HEADER}"]`],
            serializers: {
              req: (req: FastifyRequest) => ({ method: req.method, path: req.url.split("?")[0], reqId: req.id }),
            },
          },
    genReqId: (req) => {
      const given = req.headers["x-request-id"];
      return typeof given === "string" && /^[\w-]{8,64}$/.test(given) ? given : randomUUID();
    },
    requestIdHeader: false,
    routerOptions: { maxParamLength: 5000 },
    bodyLimit: 1024 * 1024,
  });

  await app.register(fastifyCookie);
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", "data:", "blob:"],
        mediaSrc: ["'self'", "blob:"],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
      },
    },
    referrerPolicy: { policy: "strict-origin-when-cross-origin" },
    crossOriginEmbedderPolicy: false,
  });

  // Double-submit CSRF token: a readable cookie the page echoes in a header on every mutation.
  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
    if (request.cookies[CSRF_COOKIE] === undefined) {
      const token = randomToken(24);
      request.cookies[CSRF_COOKIE] = token;
      reply.setCookie(CSRF_COOKIE, token, { path: "/", sameSite: "strict", secure, httpOnly: false });
    }
  });

  app.get("/healthz", async () => ({ status: "ok" }));

  app.get("/readyz", async (_request, reply) => {
    const [database, chain] = await Promise.all([
      platform.database.ping(),
      platform.chain === null ? Promise.resolve(false) : platform.chain.ping(),
    ]);
    const ready = database && chain;
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "not-ready", database, chain });
  });

  async function createContext({ req, res }: { req: FastifyRequest; res: FastifyReply }): Promise<Context> {
    const token = req.cookies[SESSION_COOKIE];
    const session = token === undefined ? null : await platform.identity.resolveSession(platform.db, token);
    const csrfCookie = req.cookies[CSRF_COOKIE];
    const csrfHeader = req.headers[CSRF_HEADER];
    return {
      platform,
      session,
      ip: req.ip,
      userAgent: String(req.headers["user-agent"] ?? ""),
      csrfValid: typeof csrfHeader === "string" && csrfCookie !== undefined && csrfHeader === csrfCookie,
      cookies: {
        setSession(value, maxAgeSeconds) {
          res.setCookie(SESSION_COOKIE, value, {
            path: "/",
            httpOnly: true,
            sameSite: "lax",
            secure,
            maxAge: maxAgeSeconds,
          });
        },
        clearSession() {
          res.clearCookie(SESSION_COOKIE, { path: "/" });
        },
      },
    };
  }

  await app.register(fastifyTRPCPlugin, {
    prefix: "/trpc",
    trpcOptions: {
      router: appRouter,
      createContext,
      onError({ error, path, req }) {
        if (error.code === "INTERNAL_SERVER_ERROR") {
          req.log.error({ err: error.cause ?? error, path }, "procedure failed");
        }
      },
    } satisfies FastifyTRPCPluginOptions<AppRouter>["trpcOptions"],
  });

  return app;
}
