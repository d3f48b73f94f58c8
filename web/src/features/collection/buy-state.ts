/**
 * What the buy button of a collection page does for this visitor, and when it
 * cannot, the exact reason. The server checks every rule again on reserve.
 */
export type BuyBlock =
  | "notLoggedIn"
  | "notCollector"
  | "notVerified"
  | "verificationExpired"
  | "underage"
  | "notStarted"
  | "ended"
  | "soldOut"
  | "limitReached"
  | "lotteryRegistration"
  | "lotteryRegistered"
  | "lotteryPending"
  | "lotteryLost";

export type BuyState =
  | { kind: "buy"; maxQuantity: number }
  | { kind: "registerLottery" }
  | { kind: "login" }
  | { kind: "verify" }
  | { kind: "blocked"; reason: BuyBlock };

export interface BuyInputs {
  now: Date;
  user: { role: string } | null;
  kyc: { state: "unverified" | "verified" | "expired"; refusedAsUnderage?: boolean } | undefined;
  collection: { saleStartsAt: Date | string; saleEndsAt: Date | string; perPersonLimit: number };
  stock: { available: number; reserved: number } | undefined;
  allowance: { remaining: number } | undefined;
  /** The drop's lottery, when it runs in lottery mode. */
  lottery?: { registrationEndsAt: Date | string; drawn: boolean; registered: boolean; won: boolean } | undefined;
}

export function buyState(input: BuyInputs): BuyState {
  const { now, user, kyc, collection, stock, allowance, lottery } = input;
  if (now >= new Date(collection.saleEndsAt)) return { kind: "blocked", reason: "ended" };
  if (stock !== undefined && stock.available === 0) return { kind: "blocked", reason: "soldOut" };
  if (user === null) return { kind: "login" };
  if (user.role !== "collector") return { kind: "blocked", reason: "notCollector" };
  if (kyc === undefined || kyc.state === "unverified") {
    return kyc?.refusedAsUnderage === true ? { kind: "blocked", reason: "underage" } : { kind: "verify" };
  }
  if (kyc.state === "expired") return { kind: "blocked", reason: "verificationExpired" };
  if (lottery !== undefined) {
    if (!lottery.drawn) {
      if (lottery.registered) return { kind: "blocked", reason: "lotteryRegistered" };
      if (now < new Date(lottery.registrationEndsAt)) return { kind: "registerLottery" };
      return { kind: "blocked", reason: "lotteryPending" };
    }
    if (!lottery.won) return { kind: "blocked", reason: "lotteryLost" };
  }
  if (now < new Date(collection.saleStartsAt)) return { kind: "blocked", reason: "notStarted" };
  if (allowance !== undefined && allowance.remaining === 0) return { kind: "blocked", reason: "limitReached" };
  const remaining = allowance?.remaining ?? collection.perPersonLimit;
  return { kind: "buy", maxQuantity: Math.max(1, Math.min(remaining, stock?.available ?? remaining)) };
}
