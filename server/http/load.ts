import underPressure from "@fastify/under-pressure";

import type { Platform } from "../platform.js";
import { unencapsulated } from "./plugin.js";
import { refusal } from "./refusal.js";

/** Probes and the scrape are answered whatever the load: an orchestrator must not restart a busy instance. */
const ALWAYS_ANSWERED = ["/healthz", "/readyz", "/metrics"];

/**
 * Under overload, say so before the event loop stalls: while its delay is over
 * SHED_EVENT_LOOP_DELAY_MS, requests are answered 503 `server.busy` with
 * Retry-After (the storefront retries), so queued work cannot pile up. And
 * every answer is counted by route and status class, with its duration.
 */
export const load = unencapsulated<{ platform: Platform }>(async (app, { platform }) => {
  const maxDelay = platform.config.env.SHED_EVENT_LOOP_DELAY_MS ?? 0;
  if (maxDelay > 0) {
    await app.register(underPressure, {
      maxEventLoopDelay: maxDelay,
      // A sample window no shorter than the threshold: a window with no sample at all (the loop was blocked
      // throughout) counts as overloaded, which must mean "blocked longer than the threshold".
      sampleInterval: Math.max(100, maxDelay),
      retryAfter: 2,
      pressureHandler: (request, reply) => {
        if (ALWAYS_ANSWERED.includes(request.url.split("?")[0]!)) return;
        platform.metrics.shedRequests.inc();
        void reply.code(503).header("retry-after", "2").send(refusal("server.busy"));
      },
    });
  }

  app.addHook("onResponse", async (request, reply) => {
    platform.metrics.httpRequests.observe(
      { method: request.method, route: routeLabel(request.routeOptions.url, request.url), status: statusClass(reply) },
      reply.elapsedTime / 1000,
    );
  });
});

function statusClass(reply: { statusCode: number }): string {
  return `${Math.floor(reply.statusCode / 100)}xx`;
}

/** The route pattern (bounded), with tRPC's procedure named (a batch is "batch"); unknown paths are one label. */
function routeLabel(pattern: string | undefined, url: string): string {
  if (pattern === undefined) return "unmatched";
  if (!pattern.startsWith("/trpc")) return pattern;
  const path = url.split("?")[0]!.slice("/trpc/".length);
  if (path.includes(",")) return "/trpc/batch";
  return /^[a-zA-Z]+\.[a-zA-Z]+$/.test(path) ? `/trpc/${path}` : "/trpc/unknown";
}
