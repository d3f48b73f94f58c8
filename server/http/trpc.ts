import { type FastifyTRPCPluginOptions, fastifyTRPCPlugin } from "@trpc/server/adapters/fastify";

import type { Platform } from "../platform.js";
import { type AppRouter, appRouter } from "../trpc/router.js";
import { unencapsulated } from "./plugin.js";
import { reserveDoor } from "./reserve-door.js";
import { contextFactory } from "./session.js";

/** tRPC at /trpc (batching on), with the flash-sale reserve door in front of it; both share one context. */
export const trpc = unencapsulated<{ platform: Platform }>(async (app, { platform }) => {
  const createContext = contextFactory(platform);

  // The flash-sale door: `drops.reserve` itself, answered in tRPC's own wire format, so the storefront's
  // tRPC client calls it like any procedure (unbatched, see web/src/lib/trpc.ts). Its context, middlewares
  // (CSRF, role, verification), input schema and error shape are the procedure's; only the adapter is
  // lighter than the general one, which rebuilds a fetch Request for every call.
  await app.register(reserveDoor, { createContext });

  // Every tRPC answer is for its caller (account, KYC status, data export, orders…): never stored by a
  // browser or a proxy, so a shared computer or cache does not keep one person's data for the next.
  app.addHook("onSend", async (request, reply) => {
    if (request.url.startsWith("/trpc/")) reply.header("cache-control", "no-store");
  });

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
});
