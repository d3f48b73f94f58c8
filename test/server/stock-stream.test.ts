import { request as httpRequest } from "node:http";

import type { FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { buildHttpApp } from "../../server/http/app.js";
import type { Stock } from "../../server/modules/drops/service.js";
import { createStockFeed } from "../../server/modules/drops/stock-feed.js";
import {
  type TestPlatform,
  createTestPlatform,
  databasesUnderTest,
  freePort,
  publishedCollection,
  verifiedCollector,
} from "./helpers.js";

const [pglite] = databasesUnderTest();

/** An EventSource reduced to what the test needs: the parsed `data:` events of one stream. */
function listen(url: string) {
  const events: Stock[] = [];
  const waiters: (() => void)[] = [];
  let status = 0;
  let contentType = "";
  const req = httpRequest(url, (res) => {
    status = res.statusCode ?? 0;
    contentType = String(res.headers["content-type"] ?? "");
    let buffer = "";
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => {
      buffer += chunk;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block.split("\n").find((line) => line.startsWith("data: "));
        if (data !== undefined) events.push(JSON.parse(data.slice(6)) as Stock);
      }
      waiters.splice(0).forEach((wake) => wake());
    });
  });
  req.end();
  return {
    events,
    get status() {
      return status;
    },
    get contentType() {
      return contentType;
    },
    async until(count: number, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (events.length < count) {
        if (Date.now() > deadline) throw new Error(`only ${events.length} of ${count} events arrived`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
      return events;
    },
    close: () => req.destroy(),
  };
}

describe("live stock by server push", () => {
  let test: TestPlatform;
  let app: FastifyInstance;
  let origin: string;

  beforeEach(async () => {
    test = await createTestPlatform(pglite!);
    app = await buildHttpApp(test.platform, { logger: false });
    const port = await freePort();
    await app.listen({ host: "127.0.0.1", port });
    origin = `http://127.0.0.1:${port}`;
  });
  afterEach(async () => {
    await app.close();
    await test.close();
  });

  it("sends a collection's stock at once and again when a reservation changes it", async () => {
    const collection = await publishedCollection(test, { editionSize: 10, perPersonLimit: 2 });
    const page = listen(`${origin}/api/drops/${collection.id}/stock/stream`);
    const [first] = await page.until(1);
    expect(page.status).toBe(200);
    expect(page.contentType).toContain("text/event-stream");
    expect(first).toEqual({ editionSize: 10, available: 10, reserved: 0, sold: 0 });
    const { caller } = await verifiedCollector(test);
    await caller.drops.reserve({ collectionId: collection.id, quantity: 2, idempotencyKey: "stream-test-1" });
    const events = await page.until(2);
    expect(events[1]).toEqual({ editionSize: 10, available: 8, reserved: 2, sold: 0 });
    page.close();
  });

  it("refuses a collection that is not on the storefront with the usual error", async () => {
    const unknown = await app.inject(`/api/drops/999999/stock/stream`);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.appCode).toBe("collection.notFound");
    expect((await app.inject(`/api/drops/abc/stock/stream`)).statusCode).toBe(404);
  });

  it("closes open streams when the server shuts down instead of waiting for the pages", async () => {
    const collection = await publishedCollection(test);
    const page = listen(`${origin}/api/drops/${collection.id}/stock/stream`);
    await page.until(1);
    await app.close(); // would hang on the open stream if it were not ended
    page.close();
  });
});

describe("stock feed", () => {
  it("reads a watched collection once per interval however many pages watch, and only tells them of changes", async () => {
    let reads = 0;
    let available = 5;
    const feed = createStockFeed(async () => {
      reads++;
      return { editionSize: 5, available, reserved: 5 - available, sold: 0 };
    }, 50);
    const seen: number[][] = Array.from({ length: 20 }, () => []);
    const stops = seen.map((list) => feed.watch(1, (stock) => list.push(stock.available)));
    await new Promise((resolve) => setTimeout(resolve, 30));
    available = 4;
    await new Promise((resolve) => setTimeout(resolve, 260));
    // ~6 ticks in 290 ms, however many pages: one read each, not one per page.
    expect(reads).toBeGreaterThanOrEqual(3);
    expect(reads).toBeLessThanOrEqual(8);
    for (const list of seen) expect(list).toEqual([5, 4]);
    expect(feed.watchers()).toBe(20);
    stops.forEach((stop) => stop());
    expect(feed.watchers()).toBe(0);
    const after = reads;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(reads).toBe(after); // nobody watches: nothing is read
    feed.close();
  });
});
