import { z } from "zod";

import { safe } from "../../../shared/validation.js";

import { authedProcedure, publicProcedure, router } from "../../trpc/init.js";
import { CODE_PATTERN, PHONE_PATTERN, STEP_UP_PURPOSES } from "./service.js";

const phone = safe.pattern(PHONE_PATTERN, "auth.phone.invalid", "13900000000");
const code = safe.pattern(CODE_PATTERN, "auth.code.invalid", "123456");
const purpose = z.enum(STEP_UP_PURPOSES);

export const authRouter = router({
  /** Sends a 6-digit login code by SMS. */
  requestCode: publicProcedure
    .input(z.object({ phone }))
    .output(z.object({ resendAfterSeconds: z.number(), ttlSeconds: z.number() }))
    .mutation(({ ctx, input }) =>
      ctx.platform.identity.requestCode(ctx.platform.db, { phone: input.phone, ip: ctx.ip }),
    ),

  /** Logs in with the code (creating the account on first login) and sets a fresh session cookie. */
  login: publicProcedure.input(z.object({ phone, code })).mutation(async ({ ctx, input }) => {
    const { platform } = ctx;
    if (ctx.session !== null) await platform.identity.logout(platform.db, ctx.session.sessionId);
    const { token, user } = await platform.identity.login(platform.db, {
      phone: input.phone,
      code: input.code,
      ip: ctx.ip,
      userAgent: ctx.userAgent,
    });
    ctx.cookies.setSession(token, platform.config.env.SESSION_TTL_DAYS * 86_400);
    return { id: user.id, role: user.role, issuerId: user.issuerId, phoneMasked: user.phoneMasked };
  }),

  /**
   * Sends a step-up code to the account's own number: the data export, a gift and a real-name submission
   * need one confirmed by this session (login's SMS limits apply; a login code is no step-up code).
   */
  requestStepUp: authedProcedure
    .input(z.object({ purpose }))
    .output(z.object({ resendAfterSeconds: z.number(), ttlSeconds: z.number() }))
    .mutation(({ ctx, input }) =>
      ctx.platform.identity.requestStepUp(ctx.platform.db, {
        session: ctx.session,
        purpose: input.purpose,
        ip: ctx.ip,
      }),
    ),

  /** Confirms the step-up code: this session may do `purpose` until `validUntil` (a gift: once). */
  confirmStepUp: authedProcedure.input(z.object({ purpose, code })).mutation(({ ctx, input }) =>
    ctx.platform.identity.confirmStepUp(ctx.platform.db, {
      session: ctx.session,
      purpose: input.purpose,
      code: input.code,
      ip: ctx.ip,
    }),
  ),

  logout: authedProcedure.mutation(async ({ ctx }) => {
    await ctx.platform.identity.logout(ctx.platform.db, ctx.session.sessionId);
    ctx.cookies.clearSession();
    return { ok: true as const };
  }),

  /** The logged-in account, or null. */
  me: publicProcedure.query(({ ctx }) => {
    const user = ctx.session?.user;
    if (user === undefined) return null;
    return { id: user.id, role: user.role, issuerId: user.issuerId, phoneMasked: user.phoneMasked };
  }),

  sessions: authedProcedure.query(async ({ ctx }) => {
    const list = await ctx.platform.identity.listSessions(ctx.platform.db, ctx.user.id);
    return list.map((s) => ({ ...s, current: s.id === ctx.session.sessionId }));
  }),

  revokeSession: authedProcedure
    .input(z.object({ sessionId: safe.pattern(/^[0-9a-f]{64}$/, "auth.session.notFound", "0".repeat(64)) }))
    .mutation(async ({ ctx, input }) => {
      await ctx.platform.identity.revokeSession(ctx.platform.db, ctx.user.id, input.sessionId);
      if (input.sessionId === ctx.session.sessionId) ctx.cookies.clearSession();
      return { ok: true as const };
    }),
});
