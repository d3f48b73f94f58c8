import { screen } from "@testing-library/react";
import { Route, Routes } from "react-router";
import { describe, expect, it } from "vitest";

import type { OrderRefundFacts } from "../../web/src/components/OrderRefund";
import { CheckoutPage } from "../../web/src/features/checkout/CheckoutPage";
import { MyPage } from "../../web/src/features/collectibles/MyPage";
import { i18n } from "../../web/src/i18n";
import { renderWithApi } from "./render";

/**
 * A buyer's refunded order, in words, on 我的 → 订单 and on the order page: a minted order taken down by a
 * regulator's order stays 已完成 and says it was refunded (state, amount, the takedown's category); an
 * operator's refund says it is under way.
 */

const ME = { id: 7, role: "collector", issuerId: null, phoneMasked: "138****5678", status: "active" };

function order(orderNo: string, refund: OrderRefundFacts | null, status = "minted") {
  return {
    orderNo,
    collectionId: 1,
    title: "千里江山图·局部",
    quantity: 1,
    unitPriceFen: 1990,
    amountFen: 1990,
    editions: [3],
    status,
    createdAt: "2026-11-24T02:00:00.000Z",
    expiresAt: "2026-11-24T02:15:00.000Z",
    paidAt: "2026-11-24T02:01:00.000Z",
    refund,
  };
}

const TAKEN_DOWN = order("SZ20261124ABCDEF123456", {
  status: "refunded",
  amountFen: 1990,
  refundedFen: 1990,
  kind: "takedown",
  reasonCode: 2,
});
const BY_OPERATOR = order(
  "SZ20261124ABCDEF654321",
  { status: "requested", amountFen: 1990, refundedFen: 0, kind: "operator", reasonCode: null },
  "paid",
);
const PLAIN = order("SZ20261124ABCDEF000000", null);

function renderOrders() {
  renderWithApi(
    <Routes>
      <Route path="/me" element={<MyPage />} />
    </Routes>,
    { "orders.mine": [TAKEN_DOWN, BY_OPERATOR, PLAIN], "kyc.status": { state: "verified" }, "auth.me": ME },
    "/me?tab=orders",
  );
}

function renderOrderPage(answer: ReturnType<typeof order>) {
  renderWithApi(
    <Routes>
      <Route path="/checkout/:orderNo" element={<CheckoutPage />} />
    </Routes>,
    {
      "orders.get": { ...answer, minted: [], history: [] },
      "catalog.get": { title: "千里江山图·局部" },
      "auth.me": ME,
    },
    `/checkout/${answer.orderNo}`,
  );
}

const texts = () => screen.getAllByTestId("order-refund").map((line) => line.textContent);

describe("a refunded order, in words", () => {
  it("lists each refund's state, amount and why on 我的 → 订单, only beside the orders that have one", async () => {
    renderOrders();
    await screen.findByText("SZ20261124ABCDEF000000");
    expect(texts()).toEqual([
      "已下架，已退款 ¥19.90 · 下架原因：监管部门要求",
      "退款处理中 ¥19.90 · 退款原因：平台处理",
    ]);
    // The taken-down order was delivered: it stays 已完成 beside its refund.
    expect(screen.getAllByText("已完成")).toHaveLength(2);
  });

  it("says the same in English", async () => {
    await i18n.changeLanguage("en");
    renderOrders();
    await screen.findByText("SZ20261124ABCDEF000000");
    expect(texts()).toEqual([
      "Taken down, refunded ¥19.90 · Takedown reason: regulator's order",
      "Refund in progress ¥19.90 · Refund reason: by the platform",
    ]);
  });

  it("tells a taken-down order's refund on its order page, in both languages", async () => {
    renderOrderPage({ ...TAKEN_DOWN, refund: { ...TAKEN_DOWN.refund!, status: "requested", refundedFen: 0 } });
    const line = await screen.findByTestId("order-refund");
    expect(line.textContent).toBe("已下架，退款处理中 ¥19.90 · 下架原因：监管部门要求");
    expect(line.getAttribute("data-refund-status")).toBe("requested");
    expect(screen.getByTestId("order-status").textContent).toBe("已完成");
    await i18n.changeLanguage("en");
    expect((await screen.findByTestId("order-refund")).textContent).toBe(
      "Taken down, refund in progress ¥19.90 · Takedown reason: regulator's order",
    );
  });

  it("shows an operator's refund of a paid order instead of the minting spinner", async () => {
    renderOrderPage(BY_OPERATOR);
    expect((await screen.findByTestId("order-refund")).textContent).toBe("退款处理中 ¥19.90 · 退款原因：平台处理");
    expect(screen.queryByText(/正在上链铸造/)).toBeNull();
  });

  it("tells a partial refund as what was refunded of what is due", async () => {
    renderOrderPage({ ...BY_OPERATOR, refund: { ...BY_OPERATOR.refund!, status: "partial", refundedFen: 1 } });
    expect((await screen.findByTestId("order-refund")).textContent).toBe(
      "已部分退款 ¥0.01（应退 ¥19.90，平台正在处理） · 退款原因：平台处理",
    );
    await i18n.changeLanguage("en");
    expect((await screen.findByTestId("order-refund")).textContent).toBe(
      "Partly refunded ¥0.01 (of ¥19.90; the platform is on it) · Refund reason: by the platform",
    );
  });

  it("says nothing of a refund on an order without one", async () => {
    renderOrderPage(PLAIN);
    expect((await screen.findByTestId("order-status")).textContent).toBe("已完成");
    expect(screen.queryByTestId("order-refund")).toBeNull();
  });
});
