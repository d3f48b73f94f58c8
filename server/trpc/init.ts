import { TRPCError, initTRPC } from "@trpc/server";
import { z } from "zod";

import { AppError, type ErrorCode, errorCatalog, isErrorCode } from "../errors.js";
import {
  type ResolvedSession,
  SINGLE_USE_STEP_UPS,
  type SessionUser,
  type StepUpPurpose,
} from "../modules/identity/service.js";
import type { Platform } from "../platform.js";

/**
 * The one tRPC instance. It exports only the base procedures the routers
 * may use; each narrows the context through named middlewares, so no
 * procedure checks roles by itself.
 */

/** What a procedure may do to the response's cookies (the HTTP layer implements it). */
export interface CookieJar {
  setSession(token: string, maxAgeSeconds: number): void;
  clearSession(): void;
}

/** The inner context: everything a procedure needs, built directly by tests. */
export interface Context {
  platform: Platform;
  session: ResolvedSession | null;
  ip: string;
  userAgent: string;
  /** False when a mutation arrives without a matching CSRF token (checked by the HTTP layer). */
  csrfValid: boolean;
  cookies: CookieJar;
}

const zhLocale = z.locales.zhCN();
const enLocale = z.locales.en();

/** The limits of one issue (a minimum, an expected type…), so a page can say them with the field's own label. */
function paramsOf(issue: z.core.$ZodIssue): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const key of ["minimum", "maximum", "inclusive", "origin", "expected", "format"] as const) {
    const value = (issue as unknown as Record<string, unknown>)[key];
    if (typeof value === "number" || typeof value === "string" || typeof value === "boolean") out[key] = value;
    if (typeof value === "bigint") out[key] = Number(value);
  }
  return out;
}

/** Both languages of one validation issue: our catalogue for our codes, zod's locales for the rest. */
function translateIssue(issue: z.core.$ZodIssue): { code: string; zh: string; en: string } {
  if (isErrorCode(issue.message)) {
    const entry = errorCatalog[issue.message];
    return { code: issue.message, zh: entry.zh, en: entry.en };
  }
  const raw = { ...issue, input: undefined } as unknown as z.core.$ZodRawIssue;
  return {
    code: `input.${issue.code}`,
    zh: String(zhLocale.localeError(raw) ?? issue.message),
    en: String(enLocale.localeError(raw) ?? issue.message),
  };
}

/** Every issue with its full path (a nested `draft.lockDays` too) and its limits. */
function issuesOf(error: z.ZodError) {
  return error.issues.map((issue) => ({
    path: issue.path.map((part) => (typeof part === "symbol" ? String(part) : part)),
    ...translateIssue(issue),
    params: paramsOf(issue),
  }));
}

function messagesOf(code: ErrorCode) {
  const entry = errorCatalog[code];
  return { zh: entry.zh, en: entry.en };
}

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    if (cause instanceof z.ZodError) {
      return {
        ...shape,
        message: "input.invalid",
        data: {
          ...shape.data,
          appCode: "input.invalid",
          messages: messagesOf("input.invalid"),
          fieldErrors: z.flattenError(cause, translateIssue).fieldErrors,
          formErrors: z.flattenError(cause, translateIssue).formErrors,
          issues: issuesOf(cause),
          stack: undefined,
        },
      };
    }
    if (cause instanceof AppError) {
      return {
        ...shape,
        message: cause.code,
        data: {
          ...shape.data,
          appCode: cause.code,
          messages: messagesOf(cause.code),
          params: cause.params,
          stack: undefined,
        },
      };
    }
    if (error.code === "INTERNAL_SERVER_ERROR") {
      return {
        ...shape,
        message: "internal",
        data: { ...shape.data, appCode: "internal", messages: messagesOf("internal"), stack: undefined },
      };
    }
    return { ...shape, data: { ...shape.data, stack: undefined } };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** A service's refusal as the precise tRPC error it is answered with. */
export function trpcErrorOf(appError: AppError): TRPCError {
  return new TRPCError({ code: errorCatalog[appError.code].kind, message: appError.code, cause: appError });
}

/** Turns the services' refusals into precise tRPC errors. */
const appErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof AppError) throw trpcErrorOf(result.error.cause);
  return result;
});

function refuse(code: ErrorCode): never {
  throw trpcErrorOf(new AppError(code));
}

/*
 * The decisions of the base procedures, as plain functions: the middlewares below run them, and so does the
 * reservation door (server/http/reserve-door.ts), which answers `drops.reserve` without tRPC's middleware chain.
 */

/** Mutations need the CSRF token the page got from us (double-submit cookie). */
export function checkCsrf(ctx: Pick<Context, "csrfValid">, type: string): void {
  if (type === "mutation" && !ctx.csrfValid) refuse("auth.csrf");
}

/** The logged-in account behind the request when it holds `role`. */
export function userWithRole(ctx: Pick<Context, "session">, role: SessionUser["role"]): SessionUser {
  const user = ctx.session?.user;
  if (user === undefined) refuse("auth.required");
  if (user.role !== role) refuse("auth.forbidden");
  return user;
}

/** Refuses an account whose real-name verification does not hold now. */
export async function checkVerified(ctx: Pick<Context, "platform">, user: SessionUser): Promise<void> {
  if (!(await ctx.platform.kyc.isVerified(ctx.platform.db, user.id))) refuse("kyc.notVerified");
}

const csrfGuard = t.middleware(({ ctx, type, next }) => {
  checkCsrf(ctx, type);
  return next();
});

const requireSession = t.middleware(({ ctx, next }) => {
  if (ctx.session === null) refuse("auth.required");
  return next({ ctx: { session: ctx.session, user: ctx.session.user } });
});

function requireRole(role: SessionUser["role"]) {
  return t.middleware(({ ctx, next }) => {
    const user = userWithRole(ctx, role);
    return next({ ctx: { session: ctx.session!, user } });
  });
}

const requireVerification = t.middleware(async ({ ctx, next }) => {
  const user = ctx.session?.user;
  if (user === undefined) refuse("auth.required");
  await checkVerified(ctx, user);
  return next();
});

const requireIssuer = t.middleware(({ ctx, next }) => {
  const user = ctx.session?.user;
  if (user === undefined) refuse("auth.required");
  if (user.role !== "issuer_staff" || user.issuerId === null) refuse("auth.forbidden");
  return next({ ctx: { session: ctx.session!, user, issuerId: user.issuerId } });
});

/**
 * A fresh SMS code confirmed by this very session for `purpose` (auth.requestStepUp / auth.confirmStepUp).
 * Used after `.input()`, so a form with mistakes is refused before any code is asked for. A single-use grant
 * (gifts) is spent before the action, so two concurrent actions cannot share it, and given back when the
 * action is refused (an AppError or a validation error: nothing changed), not when it failed midway.
 */
export function requireStepUp(purpose: StepUpPurpose) {
  const middleware = t.middleware(async ({ ctx, next }) => {
    const session = ctx.session;
    if (session === null) refuse("auth.required");
    const { identity, db } = ctx.platform;
    const refuseStepUp = (): never => {
      throw new TRPCError({
        code: errorCatalog["auth.stepUpRequired"].kind,
        message: "auth.stepUpRequired",
        cause: new AppError("auth.stepUpRequired", { purpose }),
      });
    };
    if (!SINGLE_USE_STEP_UPS.has(purpose)) {
      if (!(await identity.hasStepUp(db, session.sessionId, purpose))) refuseStepUp();
      return next();
    }
    const spentAt = await identity.spendStepUp(db, session.sessionId, purpose);
    if (spentAt === null) refuseStepUp();
    const result = await next();
    if (!result.ok && (result.error.cause instanceof AppError || result.error.cause instanceof z.ZodError))
      await identity.restoreStepUp(db, session.sessionId, purpose, spentAt!);
    return result;
  });
  for (const fn of middleware._middlewares) stepUpMiddlewares.set(fn, purpose);
  return middleware;
}

/** The purpose each step-up middleware stands for: how the authorisation matrix reads the router's decisions. */
export const stepUpMiddlewares = new WeakMap<object, StepUpPurpose>();

/** Anyone; mutations still need the CSRF token. */
export const publicProcedure = t.procedure.use(appErrors).use(csrfGuard);
/** Any logged-in account, whatever its role (its own sessions, its own data). */
export const authedProcedure = publicProcedure.use(requireSession);
/** A logged-in collector. */
export const collectorProcedure = publicProcedure.use(requireRole("collector"));
/** A collector whose real-name verification holds (so an adult, checked at verification). */
export const verifiedCollectorProcedure = collectorProcedure.use(requireVerification);
/** Staff of one issuer organisation; `ctx.issuerId` is theirs. */
export const issuerProcedure = publicProcedure.use(requireIssuer);
/** A platform operator. */
export const operatorProcedure = publicProcedure.use(requireRole("operator"));
