import type { Stock } from "./service.js";

/**
 * Live stock for the collection pages (server push). However many pages
 * watch a collection, its stock is read once per interval, and listeners are
 * told only when it changed; a collection nobody watches is not read at all.
 */
export interface StockFeed {
  /** Calls `listener` with the current stock at once, then on every change; returns the unsubscribe. */
  watch(collectionId: number, listener: (stock: Stock) => void): () => void;
  /** How many pages watch, over all collections (for metrics and tests). */
  watchers(): number;
  close(): void;
}

interface Watched {
  listeners: Set<(stock: Stock) => void>;
  last: Stock | undefined;
  timer: NodeJS.Timeout;
  reading: boolean;
}

export function createStockFeed(read: (collectionId: number) => Promise<Stock>, intervalMs = 1000): StockFeed {
  const watched = new Map<number, Watched>();

  const same = (a: Stock, b: Stock) =>
    a.available === b.available && a.reserved === b.reserved && a.sold === b.sold && a.editionSize === b.editionSize;

  async function refresh(collectionId: number, entry: Watched) {
    if (entry.reading) return;
    entry.reading = true;
    try {
      const stock = await read(collectionId);
      if (entry.last !== undefined && same(entry.last, stock)) return;
      entry.last = stock;
      for (const listener of entry.listeners) listener(stock);
    } catch {
      // A failed read (database restarting) is retried at the next tick; pages keep their last figures.
    } finally {
      entry.reading = false;
    }
  }

  return {
    watch(collectionId, listener) {
      let entry = watched.get(collectionId);
      if (entry === undefined) {
        const created: Watched = { listeners: new Set(), last: undefined, reading: false, timer: undefined! };
        created.timer = setInterval(() => void refresh(collectionId, created), intervalMs);
        created.timer.unref();
        watched.set(collectionId, created);
        entry = created;
        void refresh(collectionId, created);
      } else if (entry.last !== undefined) {
        listener(entry.last);
      }
      entry.listeners.add(listener);
      const mine = entry;
      return () => {
        mine.listeners.delete(listener);
        if (mine.listeners.size === 0 && watched.get(collectionId) === mine) {
          clearInterval(mine.timer);
          watched.delete(collectionId);
        }
      };
    },
    watchers() {
      let n = 0;
      for (const entry of watched.values()) n += entry.listeners.size;
      return n;
    },
    close() {
      for (const entry of watched.values()) clearInterval(entry.timer);
      watched.clear();
    },
  };
}
