import type { IncomingMessage, ServerResponse } from "node:http";

import fastifyCookie from "@fastify/cookie";
import helmet, { type HelmetOptions } from "helmet";

import type { Platform } from "../platform.js";
import { randomToken } from "../security/crypto.js";
import { unencapsulated } from "./plugin.js";

export const CSRF_COOKIE = "csrf";
export const CSRF_HEADER = "x-csrf-token";

/** Cookies are `Secure` when the public origin is HTTPS. */
export function secureCookies(platform: Platform): boolean {
  return platform.config.env.PUBLIC_ORIGIN.startsWith("https://");
}

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

/** The platform's policy: same-origin everything, no framing, inline styles only. */
const SECURITY_POLICY: HelmetOptions = {
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
};

/**
 * Cookies, the security headers and the request id on every answer, and the
 * double-submit CSRF token: a readable cookie the page echoes in a header on
 * every mutation (checked by tRPC's CSRF middleware and the plain routes).
 * Registered first, on the root instance, so its hook runs for every route.
 */
export const security = unencapsulated<{ platform: Platform }>(async (app, { platform }) => {
  const secure = secureCookies(platform);
  await app.register(fastifyCookie);
  const securityHeaders = staticSecurityHeaders(SECURITY_POLICY);

  app.addHook("onRequest", async (request, reply) => {
    reply.headers(securityHeaders);
    reply.header("x-request-id", request.id);
    if (request.cookies[CSRF_COOKIE] === undefined) {
      const token = randomToken(24);
      request.cookies[CSRF_COOKIE] = token;
      reply.setCookie(CSRF_COOKIE, token, { path: "/", sameSite: "strict", secure, httpOnly: false });
    }
  });
});
