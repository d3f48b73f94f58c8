import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { errorCatalog } from "../../server/errors";
import "../../web/src/features/ops/i18n";
import { TokenFreeze } from "../../web/src/features/ops/Accounts";
import { Refusal, renderWithApi } from "./render";

const target = {
  collectionId: 3,
  tokenId: 12,
  title: "千里江山图·局部",
  issuerName: "测试博物馆",
  holderMasked: "138****0003",
  frozen: false,
};

async function fillAndAsk(user: ReturnType<typeof userEvent.setup>, button: "冻结" | "解冻") {
  await user.click(screen.getByText("冻结 / 解冻单个藏品（链上）"));
  await user.type(screen.getByLabelText("藏品系列编号"), "3");
  await user.type(screen.getByLabelText("藏品编号"), "12");
  await user.type(screen.getByLabelText("原因"), "权属争议");
  await user.click(screen.getByRole("button", { name: button }));
}

describe("the per-token freeze in the console", () => {
  it("says what will happen to which collectible and whose before acting, then the result in words", async () => {
    const user = userEvent.setup();
    const { calls } = renderWithApi(<TokenFreeze />, {
      "ops.tokenForFreeze": target,
      "ops.freezeToken": { txHash: `0x${"ab".repeat(32)}` },
    });
    await fillAndAsk(user, "冻结");
    const dialog = await screen.findByTestId("token-confirm-dialog");
    expect(dialog.textContent).toMatch(/确认冻结「千里江山图·局部」#12？持有人 138\*\*\*\*0003 将不能转赠这件藏品/);
    expect(dialog.textContent).toMatch(/原因：权属争议/);
    expect(dialog.textContent).toMatch(/这件藏品目前未冻结/);
    // Nothing is sent to the chain before the confirmation.
    expect(calls.some((c) => c.procedure === "ops.freezeToken")).toBe(false);

    await user.click(screen.getByRole("button", { name: "确认" }));
    await waitFor(() =>
      expect(screen.getByRole("status").textContent).toMatch(/已冻结「千里江山图·局部」#12（持有人 138\*\*\*\*0003）/),
    );
    expect(calls.filter((c) => c.procedure === "ops.freezeToken").map((c) => c.input)).toEqual([
      { collectionId: 3, tokenId: 12, frozen: true, reason: "权属争议" },
    ]);
  });

  it("does nothing when the confirmation is cancelled", async () => {
    const user = userEvent.setup();
    const { calls } = renderWithApi(<TokenFreeze />, { "ops.tokenForFreeze": { ...target, frozen: true } });
    await fillAndAsk(user, "解冻");
    const dialog = await screen.findByTestId("token-confirm-dialog");
    expect(dialog.textContent).toMatch(/确认解冻「千里江山图·局部」#12？持有人 138\*\*\*\*0003 可以重新转赠/);
    await user.click(screen.getByRole("button", { name: "取消" }));
    expect(screen.queryByTestId("token-confirm-dialog")).toBeNull();
    expect(calls.some((c) => c.procedure === "ops.freezeToken")).toBe(false);
  });

  it("says so in words when there is no such collectible, and asks nothing", async () => {
    const user = userEvent.setup();
    renderWithApi(<TokenFreeze />, { "ops.tokenForFreeze": new Refusal("ops.tokenNotFound") });
    await fillAndAsk(user, "冻结");
    expect((await screen.findByRole("alert")).textContent).toBe(errorCatalog["ops.tokenNotFound"].zh);
    expect(screen.queryByTestId("token-confirm-dialog")).toBeNull();
  });
});
