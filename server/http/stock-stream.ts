import type { ServerResponse } from "node:http";

import { safe } from "../../shared/validation.js";
import { AppError } from "../errors.js";
import { createStockFeed } from "../modules/drops/stock-feed.js";
import type { Platform } from "../platform.js";
import { unencapsulated } from "./plugin.js";
import { httpStatusOf, refusal } from "./refusal.js";

/**
 * Live stock by server push (text/event-stream) at /api/drops/:collectionId/stock/stream: every page
 * watching a collection shares one read per second.
 */
export const stockStream = unencapsulated<{ platform: Platform }>(async (app, { platform }) => {
  const stockFeed = createStockFeed((collectionId) => platform.drops.stock(platform.db, collectionId));
  const openStreams = new Set<ServerResponse>();
  // Streams never end by themselves: end them first, or closing the server would wait for every open page.
  app.addHook("preClose", async () => {
    for (const stream of openStreams) stream.end();
    stockFeed.close();
  });
  app.get<{ Params: { collectionId: string } }>("/api/drops/:collectionId/stock/stream", async (request, reply) => {
    const parsed = safe.id().safeParse(Number(request.params.collectionId));
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
});
