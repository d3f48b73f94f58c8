import { screen } from "@testing-library/react";
import { Route, Routes } from "react-router";
import { describe, expect, it } from "vitest";

import { CheckoutPage } from "../../web/src/features/checkout/CheckoutPage";
import { renderWithApi } from "./render";

/** An order closed as `reason` says, as `orders.get` answers it. */
function closedOrder(reason: string) {
  return {
    orderNo: "SZ20261124ABCDEF123456",
    collectionId: 1,
    title: "千里江山图·局部",
    quantity: 1,
    unitPriceFen: 1990,
    amountFen: 1990,
    editions: [],
    status: "expired",
    createdAt: "2026-11-24T02:00:00.000Z",
    expiresAt: "2026-11-24T02:15:00.000Z",
    paidAt: null,
    refund: null,
    minted: [],
    history: [
      { from: null, to: "created", at: "2026-11-24T02:00:00.000Z", reason: null },
      { from: "created", to: "expired", at: "2026-11-24T02:03:00.000Z", reason },
    ],
  };
}

function renderOrder(reason: string) {
  renderWithApi(
    <Routes>
      <Route path="/checkout/:orderNo" element={<CheckoutPage />} />
    </Routes>,
    {
      "orders.get": closedOrder(reason),
      "auth.me": { id: 7, role: "collector", issuerId: null, phoneMasked: "138****5678", status: "active" },
    },
    "/checkout/SZ20261124ABCDEF123456",
  );
}

describe("a closed order on the checkout page", () => {
  it("says a cancelled order was cancelled, not that it timed out", async () => {
    renderOrder("cancelled by the collector");
    const notice = await screen.findByTestId("order-closed");
    expect(notice.textContent).toBe("订单已取消，库存已释放，不会扣款。");
    expect(notice.textContent).not.toMatch(/超时/);
  });

  it("says an order whose window ended timed out", async () => {
    renderOrder("payment window ended");
    expect((await screen.findByTestId("order-closed")).textContent).toBe("订单已超时关闭，库存已释放。");
  });
});
