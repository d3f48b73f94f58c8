import type { FastifyReply, FastifyRequest } from "fastify";

import type { Platform } from "../platform.js";
import type { Context } from "../trpc/init.js";
import { CSRF_COOKIE, CSRF_HEADER, secureCookies } from "./security.js";

export const SESSION_COOKIE = "sid";

/** The session behind a request, and whether its CSRF token (header) matches its CSRF cookie. */
export async function requestSession(platform: Platform, req: FastifyRequest) {
  const token = req.cookies[SESSION_COOKIE];
  const session = token === undefined ? null : await platform.identity.resolveSession(platform.db, token);
  const csrfHeader = req.headers[CSRF_HEADER];
  const csrfCookie = req.cookies[CSRF_COOKIE];
  const csrfValid = typeof csrfHeader === "string" && csrfCookie !== undefined && csrfHeader === csrfCookie;
  return { session, csrfValid };
}

export type CreateContext = (opts: { req: FastifyRequest; res: FastifyReply }) => Promise<Context>;

/** The tRPC context of a request: its session, CSRF verdict, client, and the session cookie's setters. */
export function contextFactory(platform: Platform): CreateContext {
  const secure = secureCookies(platform);
  return async ({ req, res }) => {
    const { session, csrfValid } = await requestSession(platform, req);
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
  };
}
