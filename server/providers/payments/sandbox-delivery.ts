import type { KeyObject } from "node:crypto";

import { buildAlipayNotificationBody, formatChinaTime } from "./alipay-notification.js";
import type { PendingFields, Trade } from "./sandbox-book.js";
import type { SandboxDelivery } from "./sandbox.js";
import type { PaymentEventKind } from "./types.js";

/**
 * How the sandbox delivers its notifications, as Alipay does: RSA2-signed
 * form posts to the trade's notify_url, retried on a schedule until one is
 * answered `success`.
 */
export interface SandboxNotifier {
  /** Posts the notification until answered `success` or the schedule is spent; the same notify_id every time. */
  deliver(trade: Trade, kind: PaymentEventKind, fields: PendingFields): Promise<SandboxDelivery>;
  /** Resolves once every delivery under way is delivered or given up. */
  whenIdle(): Promise<void>;
  /** Stops every delivery under way (they end as not delivered). */
  close(): void;
}

/** One delivery attempt: true when answered 200 `success` in time. */
async function attempt(url: string, body: string, signal: AbortSignal): Promise<boolean> {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
      body,
      redirect: "manual",
      signal,
    });
    const text = await response.text();
    return response.status === 200 && text === "success";
  } catch {
    return false;
  }
}

export function createSandboxNotifier(options: {
  privateKey: KeyObject;
  retryDelaysMs: readonly number[];
  deliveryTimeoutMs: number;
  now: () => Date;
}): SandboxNotifier {
  const { privateKey, retryDelaysMs, deliveryTimeoutMs, now } = options;
  const pending = new Set<Promise<SandboxDelivery>>();
  const waits = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  const stopping = new AbortController();

  function wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          waits.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      waits.add(entry);
    });
  }

  function deliver(trade: Trade, kind: PaymentEventKind, fields: PendingFields) {
    const run = async (): Promise<SandboxDelivery> => {
      let attempts = 0;
      for (let retry = 0; !stopping.signal.aborted; retry++) {
        attempts++;
        const body = buildAlipayNotificationBody({ ...fields, notify_time: formatChinaTime(now()) }, privateKey);
        const signal = AbortSignal.any([AbortSignal.timeout(deliveryTimeoutMs), stopping.signal]);
        if (await attempt(trade.notifyUrl, body, signal))
          return { outTradeNo: trade.outTradeNo, notifyId: fields.notify_id, kind, delivered: true, attempts };
        const delay = retryDelaysMs[retry];
        if (delay === undefined || stopping.signal.aborted) break;
        await wait(delay);
      }
      return { outTradeNo: trade.outTradeNo, notifyId: fields.notify_id, kind, delivered: false, attempts };
    };
    const delivery = run();
    pending.add(delivery);
    void delivery.finally(() => pending.delete(delivery));
    return delivery;
  }

  return {
    deliver,
    async whenIdle(): Promise<void> {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
    close(): void {
      stopping.abort();
      for (const entry of waits) {
        clearTimeout(entry.timer);
        entry.resolve();
      }
      waits.clear();
    },
  };
}
