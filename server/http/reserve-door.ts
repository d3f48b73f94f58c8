import { callTRPCProcedure, getTRPCErrorFromUnknown, getTRPCErrorShape } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";

import type { Context } from "../trpc/init.js";
import { appRouter } from "../trpc/router.js";

/** The procedure this door serves, and the path the storefront's tRPC client posts it to. */
export const RESERVE_PROCEDURE = "drops.reserve";
export const RESERVE_PATH = `/trpc/${RESERVE_PROCEDURE}`;

interface ReserveDoorOptions {
  createContext(opts: { req: FastifyRequest; res: FastifyReply }): Promise<Context>;
}

/**
 * `POST /trpc/drops.reserve`: the one reservation door, used by the storefront, the tests, the chaos suite
 * and the flash-sale benchmark. It calls the procedure through tRPC (`callTRPCProcedure`), so everything
 * that decides — the CSRF guard, the verified-collector middleware, the zod input, the service, the error
 * formatter — is the procedure's; this file only carries bytes. The general adapter at /trpc answers the
 * same call identically (a static route outranks its `/trpc/:path` route, so this one serves it).
 */
export const reserveDoor: FastifyPluginAsync<ReserveDoorOptions> = async (app, { createContext }) => {
  app.post<{ Querystring: { batch?: string } }>(RESERVE_PATH, async (request, reply) => {
    // A batch of this one call (`?batch=1`, as httpBatchLink sends it) carries its input under "0" and gets
    // its answer in a one-element array.
    const batched = request.query.batch !== undefined;
    const body: unknown = request.body ?? undefined;
    const input: unknown =
      batched && typeof body === "object" && body !== null ? (body as Record<string, unknown>)["0"] : body;
    const answer = (envelope: object) => (batched ? [envelope] : envelope);
    let ctx: Context | undefined;
    try {
      ctx = await createContext({ req: request, res: reply });
      const data: unknown = await callTRPCProcedure({
        router: appRouter,
        path: RESERVE_PROCEDURE,
        type: "mutation",
        ctx,
        getRawInput: async () => input,
        signal: undefined,
        batchIndex: 0,
      });
      return reply.send(answer({ result: { data } }));
    } catch (cause) {
      const error = getTRPCErrorFromUnknown(cause);
      if (error.code === "INTERNAL_SERVER_ERROR") {
        request.log.error({ err: error.cause ?? error, path: RESERVE_PROCEDURE }, "procedure failed");
      }
      const shape = getTRPCErrorShape({
        config: appRouter._def._config,
        error,
        type: "mutation",
        path: RESERVE_PROCEDURE,
        input,
        ctx,
      });
      return reply.code(getHTTPStatusCodeFromError(error)).send(answer({ error: shape }));
    }
  });
};
