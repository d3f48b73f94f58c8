/** ¥ with two decimals from integer fen; no floating-point money anywhere. */
export function formatFen(fen: number): string {
  const yuan = Math.trunc(fen / 100);
  const cents = String(Math.abs(fen % 100)).padStart(2, "0");
  return `¥${yuan.toLocaleString("en-US")}.${cents}`;
}

export function formatDateTime(value: Date | string, locale: string): string {
  return new Intl.DateTimeFormat(locale, {
    dateStyle: "medium",
    timeStyle: "short",
    timeZone: "Asia/Shanghai",
  }).format(new Date(value));
}

export function formatDate(value: Date | string, locale: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: "long", timeZone: "Asia/Shanghai" }).format(new Date(value));
}

export interface Remaining {
  days: number;
  hours: number;
  minutes: number;
  seconds: number;
  done: boolean;
}

/** Whole days, hours, minutes and seconds until `target`, never negative. */
export function remainingUntil(target: Date, now: Date): Remaining {
  const ms = Math.max(0, target.getTime() - now.getTime());
  const total = Math.floor(ms / 1000);
  return {
    days: Math.floor(total / 86_400),
    hours: Math.floor((total % 86_400) / 3600),
    minutes: Math.floor((total % 3600) / 60),
    seconds: total % 60,
    done: ms === 0,
  };
}

export function shortHash(hex: string, keep = 6): string {
  return hex.length <= keep * 2 + 2 ? hex : `${hex.slice(0, keep + 2)}…${hex.slice(-keep)}`;
}

/** A fresh idempotency key for one purchase attempt (retries reuse it). */
export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}
