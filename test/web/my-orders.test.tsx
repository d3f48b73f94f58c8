import { screen } from "@testing-library/react";
import { Route, Routes } from "react-router";
import { describe, expect, it } from "vitest";

import { MyPage } from "../../web/src/features/collectibles/MyPage";
import { renderWithApi } from "./render";

describe("我的 → 订单", () => {
  it("names what each order bought, with its quantity, beside the order number", async () => {
    renderWithApi(
      <Routes>
        <Route path="/me" element={<MyPage />} />
      </Routes>,
      {
        "orders.mine": [
          {
            orderNo: "SZ20261124ABCDEF123456",
            collectionId: 1,
            title: "千里江山图·局部",
            quantity: 2,
            unitPriceFen: 1990,
            amountFen: 3980,
            editions: [],
            status: "minted",
            createdAt: "2026-11-24T02:00:00.000Z",
            expiresAt: "2026-11-24T02:15:00.000Z",
            paidAt: "2026-11-24T02:01:00.000Z",
            refund: null,
          },
        ],
        "kyc.status": { state: "verified" },
        "auth.me": { id: 7, role: "collector", issuerId: null, phoneMasked: "138****5678", status: "active" },
      },
      "/me?tab=orders",
    );
    const link = await screen.findByRole("link", { name: "千里江山图·局部 × 2" });
    expect(link.getAttribute("href")).toBe("/checkout/SZ20261124ABCDEF123456");
    expect(screen.getByText("SZ20261124ABCDEF123456")).toBeTruthy();
  });
});
