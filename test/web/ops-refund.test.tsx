import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { errorCatalog } from "../../server/errors";
import "../../web/src/features/ops/i18n";
import { Orders } from "../../web/src/features/ops/Orders";
import { InTurn, Refusal, renderWithApi } from "./render";

const paid = {
  orderNo: "SZ20261207A1B2C3D4E5F6",
  collectionId: 1,
  title: "青绿山水·千里",
  issuerName: "长安数字博物馆（演示）",
  quantity: 1,
  amountFen: 1990,
  status: "paid",
  buyerMasked: "138****0011",
  createdAt: "2026-12-07T02:00:00.000Z",
};

describe("refunding an order in the console", () => {
  it("says whose order, what and how much before acting, then the result in words and the order's new state", async () => {
    const user = userEvent.setup();
    const { calls } = renderWithApi(<Orders />, {
      "ops.orders": new InTurn([paid], [paid], [{ ...paid, status: "refunded" }]),
      "payments.refund": { refundNo: "RF20261207A1B2C3D4E5F6" },
    });
    const row = await screen.findByTestId("ops-order");
    expect(row.textContent).toContain("青绿山水·千里 × 1");
    expect(row.textContent).toContain("138****0011");
    await user.type(screen.getByLabelText("退款原因"), "买家申请撤销购买");
    await user.click(screen.getByRole("button", { name: `退款 ${paid.orderNo}` }));
    const dialog = await screen.findByTestId("refund-confirm-dialog");
    expect(dialog.textContent).toContain(
      `确认为 138****0011 的订单 ${paid.orderNo}（青绿山水·千里 × 1）全额退款 ¥19.90？款项原路退回，该订单不再交付藏品。原因：买家申请撤销购买`,
    );
    // Nothing is refunded before the confirmation.
    expect(calls.some((c) => c.procedure === "payments.refund")).toBe(false);

    await user.click(screen.getByRole("button", { name: "确认" }));
    await waitFor(() =>
      expect(screen.getByTestId("refund-done").textContent).toBe(
        `已为 138****0011 的订单 ${paid.orderNo} 发起全额退款 ¥19.90（退款单 RF20261207A1B2C3D4E5F6），款项原路退回，该订单不再交付藏品`,
      ),
    );
    expect(calls.filter((c) => c.procedure === "payments.refund").map((c) => c.input)).toEqual([
      { orderNo: paid.orderNo, reason: "买家申请撤销购买" },
    ]);
    // Read again until the provider's answer has moved the order on: no second refund button meanwhile.
    await waitFor(() => expect(screen.getByTestId("ops-order-status").textContent).toBe("已退款"), { timeout: 5_000 });
    expect(screen.queryByRole("button", { name: `退款 ${paid.orderNo}` })).toBeNull();
  });

  it("does nothing when the confirmation is cancelled", async () => {
    const user = userEvent.setup();
    const { calls } = renderWithApi(<Orders />, { "ops.orders": [paid] });
    await user.click(await screen.findByRole("button", { name: `退款 ${paid.orderNo}` }));
    await screen.findByTestId("refund-confirm-dialog");
    await user.click(screen.getByRole("button", { name: "取消" }));
    expect(screen.queryByTestId("refund-confirm-dialog")).toBeNull();
    expect(calls.some((c) => c.procedure === "payments.refund")).toBe(false);
  });

  it("says in words when the order is already past refunding, and reports no refund", async () => {
    const user = userEvent.setup();
    renderWithApi(<Orders />, {
      "ops.orders": [paid],
      "payments.refund": new Refusal("order.wrongState", { status: "minting" }),
    });
    await user.click(await screen.findByRole("button", { name: `退款 ${paid.orderNo}` }));
    expect((await screen.findByTestId("refund-confirm-dialog")).textContent).toMatch(/原因：—/);
    await user.click(screen.getByRole("button", { name: "确认" }));
    expect((await screen.findByRole("alert")).textContent).toBe(errorCatalog["order.wrongState"].zh);
    expect(screen.queryByTestId("refund-done")).toBeNull();
  });
});
