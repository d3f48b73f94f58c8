import { randomUUID } from "node:crypto";

import fastifyCookie from "@fastify/cookie";
import { existsSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";

import fastifyStatic from "@fastify/static";
import { type FastifyTRPCPluginOptions, fastifyTRPCPlugin } from "@trpc/server/adapters/fastify";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import helmet, { type HelmetOptions } from "helmet";
import { z } from "zod";

import { AppError, type ErrorCode, errorCatalog } from "../errors.js";
import { createStockFeed } from "../modules/drops/stock-feed.js";
import type { Platform } from "../platform.js";
import { randomToken, sameSecret } from "../security/crypto.js";
import { reserveDoor } from "./reserve-door.js";
import { credentialRoutes } from "./credentials.js";
import type { Context } from "../trpc/init.js";
import { type AppRouter, appRouter } from "../trpc/router.js";

export const SESSION_COOKIE = "sid";
export const CSRF_COOKIE = "csrf";
export const CSRF_HEADER = "x-csrf-token";

const HTTP_STATUS: Record<string, number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PRECONDITION_FAILED: 412,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNPROCESSABLE_CONTENT: 422,
  TOO_MANY_REQUESTS: 429,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL_SERVER_ERROR: 500,
};

function httpStatusOf(code: ErrorCode): number {
  return HTTP_STATUS[errorCatalog[code].kind] ?? 500;
}

/** The same refusal shape plain routes and tRPC share: a code and both languages. */
/**
 * The security headers (CSP, frame, referrer, HSTS, nosniff, …) as helmet's
 * policy writes them. They are the same for every answer, so they are worked
 * out once at start-up and copied onto each reply (building the policy per
 * request was a measurable part of the flash-sale hot path).
 */
export function staticSecurityHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader(name: string, value: unknown) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  let failure: unknown;
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, (error?: unknown) => {
    failure = error;
  });
  if (failure !== undefined) throw failure instanceof Error ? failure : new Error(String(failure));
  return headers;
}

export function refusal(code: ErrorCode, params: Record<string, string | number> = {}) {
  const entry = errorCatalog[code];
  return { error: { appCode: code, messages: { zh: entry.zh, en: entry.en }, params } };
}

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
  const securityHeaders = staticSecurityHeaders({
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
    reply.headers(securityHeaders);
    reply.header("x-request-id", request.id);
    if (request.cookies[CSRF_COOKIE] === undefined) {
      const token = randomToken(24);
      request.cookies[CSRF_COOKIE] = token;
      reply.setCookie(CSRF_COOKIE, token, { path: "/", sameSite: "strict", secure, httpOnly: false });
    }
  });

  app.get("/healthz", async () => ({ status: "ok" }));
  await app.register(credentialRoutes, { platform });

  // Prometheus scrape endpoint: behind the scraper's bearer token when METRICS_TOKEN is set; keep it on the
  // internal network either way.
  const metricsToken = platform.config.env.METRICS_TOKEN;
  app.get("/metrics", async (request, reply) => {
    if (metricsToken !== undefined && !sameSecret(request.headers.authorization ?? "", `Bearer ${metricsToken}`)) {
      return reply.code(401).header("www-authenticate", "Bearer").send(refusal("auth.required"));
    }
    return reply
      .header("content-type", platform.metrics.registry.contentType)
      .send(await platform.metrics.registry.metrics());
  });

  app.get("/readyz", async (_request, reply) => {
    const [database, chain] = await Promise.all([
      platform.database.ping(),
      platform.chain === null ? Promise.resolve(false) : platform.chain.ping(),
    ]);
    const ready = database && chain;
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "not-ready", database, chain });
  });

  /** The session behind a plain (non-tRPC) request, and whether its CSRF token matches. */
  async function requestSession(req: FastifyRequest) {
    const token = req.cookies[SESSION_COOKIE];
    const session = token === undefined ? null : await platform.identity.resolveSession(platform.db, token);
    const csrfHeader = req.headers[CSRF_HEADER];
    const csrfCookie = req.cookies[CSRF_COOKIE];
    const csrfValid = typeof csrfHeader === "string" && csrfCookie !== undefined && csrfHeader === csrfCookie;
    return { session, csrfValid };
  }

  // The same stack with no work: the ceiling the hot path is measured against (`npm run bench:flash-sale`).
  app.get("/api/ping", async () => ({ ok: true }));

  // Live stock by server push (text/event-stream): every page watching a collection shares one read per second.
  const stockFeed = createStockFeed((collectionId) => platform.drops.stock(platform.db, collectionId));
  const openStreams = new Set<ServerResponse>();
  // Streams never end by themselves: end them first, or closing the server would wait for every open page.
  app.addHook("preClose", async () => {
    for (const stream of openStreams) stream.end();
    stockFeed.close();
  });
  app.get<{ Params: { collectionId: string } }>("/api/drops/:collectionId/stock/stream", async (request, reply) => {
    const parsed = z.coerce.number().int().positive().safeParse(request.params.collectionId);
    if (!parsed.success) return reply.code(404).send(refusal("collection.notFound"));
    try {
      await platform.catalog.getPublished(platform.db, parsed.data);
    } catch (error) {
      if (error instanceof AppError) return reply.code(httpStatusOf(error.code)).send(refusal(error.code));
      throw error;
    }
    reply.hijack();
    const stream = reply.raw;
    stream.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    });
    stream.write("retry: 3000\n\n");
    const unwatch = stockFeed.watch(parsed.data, (stock) => stream.write(`data: ${JSON.stringify(stock)}\n\n`));
    const heartbeat = setInterval(() => stream.write(": keep-alive\n\n"), 15_000);
    heartbeat.unref();
    openStreams.add(stream);
    stream.on("close", () => {
      openStreams.delete(stream);
      clearInterval(heartbeat);
      unwatch();
    });
  });

  // Artwork upload: the raw file as the body, whatever type the client claims; the type is judged by content.
  await app.register(async (uploads) => {
    uploads.removeAllContentTypeParsers();
    uploads.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));
    uploads.post("/media", { bodyLimit: platform.config.env.MEDIA_MAX_BYTES }, async (request, reply) => {
      const { session, csrfValid } = await requestSession(request);
      if (!csrfValid) return reply.code(403).send(refusal("auth.csrf"));
      const user = session?.user;
      if (user === undefined) return reply.code(401).send(refusal("auth.required"));
      if (user.role !== "issuer_staff" || user.issuerId === null)
        return reply.code(403).send(refusal("auth.forbidden"));
      const body = request.body;
      if (!Buffer.isBuffer(body) || body.length === 0) return reply.code(415).send(refusal("media.unsupportedType"));
      try {
        return await platform.catalog.registerMedia(platform.db, user.issuerId, body);
      } catch (error) {
        if (error instanceof AppError)
          return reply.code(httpStatusOf(error.code)).send(refusal(error.code, error.params));
        throw error;
      }
    });
  });

  app.get<{ Params: { sha256: string } }>("/media/:sha256", async (request, reply) => {
    const { sha256 } = request.params;
    if (!/^[0-9a-f]{64}$/.test(sha256)) return reply.code(404).send(refusal("collection.notFound"));
    const { session } = await requestSession(request);
    const file = await platform.catalog.readMedia(platform.db, sha256, session?.user ?? null);
    if (file === null) return reply.code(404).send(refusal("collection.notFound"));
    return reply
      .header("content-type", file.mimeType)
      .header("cache-control", "private, max-age=300")
      .header("x-content-sha256", sha256)
      .header("x-content-type-options", "nosniff")
      .send(file.bytes);
  });

  // Payment notifications: the provider's raw body is verified byte for byte, so no parser touches it.
  await app.register(async (notifications) => {
    notifications.removeAllContentTypeParsers();
    notifications.addContentTypeParser("*", { parseAs: "string" }, (_request, body, done) => done(null, body));
    notifications.post<{ Params: { provider: string } }>("/pay/notify/:provider", async (request, reply) => {
      if (request.params.provider !== platform.paymentProvider.name)
        return reply.code(404).send(refusal("order.notFound"));
      const headers = Object.fromEntries(
        Object.entries(request.headers).map(([name, value]) => [
          name.toLowerCase(),
          Array.isArray(value) ? value[0] : value,
        ]),
      );
      const { answer, result } = await platform.payments.handleNotification(
        platform.db,
        headers,
        typeof request.body === "string" ? request.body : "",
      );
      platform.metrics.paymentNotifications.inc({ outcome: result.outcome });
      request.log.info(
        { outcome: result.outcome, reason: "reason" in result ? result.reason : undefined },
        "payment notification",
      );
      return reply.code(answer.status).header("content-type", answer.contentType).send(answer.body);
    });

    const sandbox = platform.sandboxPayments;
    if (sandbox !== null) {
      // The sandbox cashier: what a collector's payment app would show, with a button that pays.
      notifications.get<{ Params: { outTradeNo: string } }>(
        "/pay/sandbox/cashier/:outTradeNo",
        async (request, reply) => {
          const trade = sandbox.trade(request.params.outTradeNo);
          if (trade === undefined) return reply.code(404).send(refusal("order.notFound"));
          const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
          return reply.type("text/html; charset=utf-8").send(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>沙箱收银台</title></head>
<body><h1>沙箱收银台 Sandbox cashier</h1>
<p>订单 ${escape(trade.outTradeNo)}：${escape(trade.subject)}</p>
<p>应付 ¥${(trade.amountFen / 100).toFixed(2)}（${escape(trade.status)}）</p>
<form method="post" action="/pay/sandbox/cashier/${encodeURIComponent(trade.outTradeNo)}/pay"><button type="submit">确认付款 Pay</button></form>
</body></html>`);
        },
      );
      notifications.post<{ Params: { outTradeNo: string } }>(
        "/pay/sandbox/cashier/:outTradeNo/pay",
        async (request, reply) => {
          if (sandbox.trade(request.params.outTradeNo) === undefined)
            return reply.code(404).send(refusal("order.notFound"));
          const delivery = await sandbox.pay(request.params.outTradeNo);
          if (String(request.headers.accept ?? "").includes("text/html")) {
            return reply.type("text/html; charset=utf-8").send(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>沙箱收银台</title></head>
<body><h1>付款成功 Paid</h1><p>请返回商户页面查看订单。Return to the shop to see your order.</p></body></html>`);
          }
          return reply.send({ paid: true, delivered: delivery.delivered, attempts: delivery.attempts });
        },
      );
    }
  });

  // The built web app (Vite output), when there is one: its files, and index.html for client-side routes.
  const webDir = path.resolve(platform.config.env.WEB_DIST_DIR);
  if (existsSync(path.join(webDir, "index.html"))) {
    await app.register(fastifyStatic, { root: webDir, prefix: "/", index: "index.html" });
    app.setNotFoundHandler((request, reply) => {
      const apiPath = /^\/(trpc|api|media|pay|healthz|readyz|metrics)(\/|$)/.test(request.url);
      if (request.method === "GET" && !apiPath && String(request.headers.accept ?? "").includes("text/html")) {
        return reply.type("text/html; charset=utf-8").sendFile("index.html");
      }
      return reply.code(404).send({ error: { appCode: "notFound" } });
    });
  }

  async function createContext({ req, res }: { req: FastifyRequest; res: FastifyReply }): Promise<Context> {
    const { session, csrfValid } = await requestSession(req);
    return {
      platform,
      session,
      ip: req.ip,
      userAgent: String(req.headers["user-agent"] ?? ""),
      csrfValid,
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

  // The flash-sale door: `drops.reserve` itself, answered in tRPC's own wire format, so the storefront's
  // tRPC client calls it like any procedure (unbatched, see web/src/lib/trpc.ts). Its context, middlewares
  // (CSRF, role, verification), input schema and error shape are the procedure's; only the adapter is
  // lighter than the general one, which rebuilds a fetch Request for every call.
  await app.register(reserveDoor, { createContext });

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
