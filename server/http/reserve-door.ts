import { TRPCError, getTRPCErrorFromUnknown, getTRPCErrorShape } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";

import { AppError } from "../errors.js";
import { reserveFor, reserveInput } from "../modules/drops/router.js";
import { type Context, checkCsrf, checkVerified, trpcErrorOf, userWithRole } from "../trpc/init.js";
import { appRouter } from "../trpc/router.js";

/** The procedure this door serves, and the path the storefront's tRPC client posts it to. */
export const RESERVE_PROCEDURE = "drops.reserve";
export const RESERVE_PATH = `/trpc/${RESERVE_PROCEDURE}`;

interface ReserveDoorOptions {
  createContext(opts: { req: FastifyRequest; res: FastifyReply }): Promise<Context>;
}

/** The answer to a refusal: its status and its tRPC error envelope, serialized. */
type Refused = { status: number; body: string };

/** The JSON header Fastify gives an object it serializes, so a cached answer goes out byte for byte the same. */
const JSON_TYPE = "application/json; charset=utf-8";

/**
 * The service's refusals, answered once and then from memory: a refusal's envelope depends only on its code and
 * parameters (the procedure's path and type are fixed, the formatter reads nothing else), and a crowd receives
 * the same few thousands of times a second (sold out, limit reached). Bounded; a refusal past the bound is
 * answered as the first one was.
 */
const refusals = new Map<string, Refused>();
const REFUSALS_KEPT = 256;

function refusalOf(appError: AppError, answer: (error: TRPCError) => Refused): Refused {
  const key = `${appError.code} ${JSON.stringify(appError.params)}`;
  let refused = refusals.get(key);
  if (refused === undefined) {
    refused = answer(trpcErrorOf(appError));
    if (refusals.size < REFUSALS_KEPT) refusals.set(key, refused);
  }
  return refused;
}

/**
 * `POST /trpc/drops.reserve`: the one reservation door, used by the storefront, the tests, the chaos suite
 * and the flash-sale benchmark. It runs the procedure's decisions in the procedure's order — the CSRF guard,
 * the collector's session, the verification, the zod input, then the procedure's own resolver — through the
 * functions the procedure's middlewares run (server/trpc/init.ts), and answers in tRPC's wire format with
 * tRPC's error formatter. What it leaves out is tRPC's middleware chain itself (a context copied at every
 * step, an error wrapped twice), which cost a flash-sale attempt a fifth of its CPU. The general adapter at
 * /trpc answers the same call identically (a static route outranks its `/trpc/:path` route, so this one
 * serves it); test/server/flash-gate.test.ts compares the two for every refusal.
 */
export const reserveDoor: FastifyPluginAsync<ReserveDoorOptions> = async (app, { createContext }) => {
  app.post<{ Querystring: { batch?: string } }>(RESERVE_PATH, async (request, reply) => {
    // A batch of this one call (`?batch=1`, as httpBatchLink sends it) carries its input under "0" and gets
    // its answer in a one-element array.
    const batched = request.query.batch !== undefined;
    const body: unknown = request.body ?? undefined;
    const raw: unknown =
      batched && typeof body === "object" && body !== null ? (body as Record<string, unknown>)["0"] : body;
    const answer = (envelope: object) => (batched ? [envelope] : envelope);
    let ctx: Context | undefined;
    try {
      ctx = await createContext({ req: request, res: reply });
      checkCsrf(ctx, "mutation");
      const user = userWithRole(ctx, "collector");
      await checkVerified(ctx, user);
      const parsed = reserveInput.safeParse(raw);
      if (!parsed.success) throw new TRPCError({ code: "BAD_REQUEST", cause: parsed.error });
      const data = await reserveFor(ctx.platform, user.id, parsed.data);
      return reply.send(answer({ result: { data } }));
    } catch (cause) {
      const shapeOf = (error: TRPCError) =>
        getTRPCErrorShape({
          config: appRouter._def._config,
          error,
          type: "mutation",
          path: RESERVE_PROCEDURE,
          input: raw,
          ctx,
        });
      if (cause instanceof AppError) {
        const refused = refusalOf(cause, (error) => ({
          status: getHTTPStatusCodeFromError(error),
          body: JSON.stringify({ error: shapeOf(error) }),
        }));
        return reply
          .code(refused.status)
          .type(JSON_TYPE)
          .send(batched ? `[${refused.body}]` : refused.body);
      }
      // A guard's refusal is a TRPCError already; anything else is a fault.
      const error = getTRPCErrorFromUnknown(cause);
      if (error.code === "INTERNAL_SERVER_ERROR") {
        request.log.error({ err: error.cause ?? error, path: RESERVE_PROCEDURE }, "procedure failed");
      }
      return reply.code(getHTTPStatusCodeFromError(error)).send(answer({ error: shapeOf(error) }));
    }
  });
};
