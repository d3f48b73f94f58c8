import { describe, expect, it } from "vitest";

import { type BuyInputs, buyState } from "../../web/src/features/collection/buy-state";

const now = new Date("2026-11-24T12:00:00+08:00");
const base: BuyInputs = {
  now,
  user: { role: "collector" },
  kyc: { state: "verified" },
  collection: {
    saleStartsAt: "2026-11-24T11:00:00+08:00",
    saleEndsAt: "2026-12-24T11:00:00+08:00",
    perPersonLimit: 2,
  },
  stock: { available: 10, reserved: 0 },
  allowance: { remaining: 2 },
};

describe("the buy button", () => {
  it("offers up to what the person may still buy and what is left", () => {
    expect(buyState(base)).toEqual({ kind: "buy", maxQuantity: 2 });
    expect(buyState({ ...base, allowance: { remaining: 1 } })).toEqual({ kind: "buy", maxQuantity: 1 });
    expect(buyState({ ...base, stock: { available: 1, reserved: 3 } })).toEqual({ kind: "buy", maxQuantity: 1 });
  });

  it("sends anonymous visitors to log in and unverified collectors to verify", () => {
    expect(buyState({ ...base, user: null, kyc: undefined })).toEqual({ kind: "login" });
    expect(buyState({ ...base, kyc: { state: "unverified" } })).toEqual({ kind: "verify" });
  });

  it.each([
    ["notCollector", { user: { role: "operator" } }],
    ["underage", { kyc: { state: "unverified", refusedAsUnderage: true } }],
    ["verificationExpired", { kyc: { state: "expired" } }],
    ["notStarted", { collection: { ...base.collection, saleStartsAt: "2026-11-24T13:00:00+08:00" } }],
    ["ended", { collection: { ...base.collection, saleEndsAt: "2026-11-24T11:30:00+08:00" } }],
    ["soldOut", { stock: { available: 0, reserved: 2 } }],
    ["limitReached", { allowance: { remaining: 0 } }],
  ] as const)("is disabled with the reason %s", (reason, change) => {
    expect(buyState({ ...base, ...(change as Partial<BuyInputs>) })).toEqual({ kind: "blocked", reason });
  });

  it("says sold out before asking anyone to log in, since logging in would not help", () => {
    expect(buyState({ ...base, user: null, kyc: undefined, stock: { available: 0, reserved: 0 } })).toEqual({
      kind: "blocked",
      reason: "soldOut",
    });
  });

  describe("when the drop runs as a lottery", () => {
    const lottery = { registrationEndsAt: "2026-11-24T18:00:00+08:00", drawn: false, registered: false, won: false };

    it("offers registration while it is open, then waits for the draw", () => {
      expect(buyState({ ...base, lottery })).toEqual({ kind: "registerLottery" });
      expect(buyState({ ...base, lottery: { ...lottery, registered: true } })).toEqual({
        kind: "blocked",
        reason: "lotteryRegistered",
      });
      expect(buyState({ ...base, lottery: { ...lottery, registrationEndsAt: "2026-11-24T11:00:00+08:00" } })).toEqual({
        kind: "blocked",
        reason: "lotteryPending",
      });
    });

    it("lets only winners buy after the draw", () => {
      const drawn = { ...lottery, drawn: true, registered: true };
      expect(buyState({ ...base, lottery: { ...drawn, won: true } })).toEqual({ kind: "buy", maxQuantity: 2 });
      expect(buyState({ ...base, lottery: { ...drawn, won: false } })).toEqual({
        kind: "blocked",
        reason: "lotteryLost",
      });
    });
  });
});
