import { screen } from "@testing-library/react";
import { Route, Routes } from "react-router";
import { describe, expect, it } from "vitest";

import { VerifyIdentityPage } from "../../web/src/features/kyc/VerifyIdentityPage";
import { renderWithApi } from "./render";

const DAY = 86_400_000;

function renderVerified(expiresInDays: number) {
  const expiresAt = new Date(Date.now() + expiresInDays * DAY);
  renderWithApi(
    <Routes>
      <Route path="/me/verify" element={<VerifyIdentityPage />} />
    </Routes>,
    {
      "kyc.status": {
        state: "verified",
        nameMasked: "王*明",
        idNumberMasked: "1101**********1234",
        level: 1,
        verifiedAt: new Date().toISOString(),
        expiresAt: expiresAt.toISOString(),
        renewableFrom: new Date(expiresAt.getTime() - 30 * DAY).toISOString(),
        onChain: true,
      },
      "auth.me": { id: 7, role: "collector", issuerId: null, phoneMasked: "138****5678", status: "active" },
    },
    "/me/verify",
  );
}

describe("renewing a real-name verification", () => {
  it("right after verification says from when it can be renewed, instead of offering a button the server refuses", async () => {
    renderVerified(365);
    expect((await screen.findByTestId("kyc-renew-later")).textContent).toContain("起续期认证");
    expect(screen.queryByRole("button", { name: "续期认证" })).toBeNull();
  });

  it("offers the renewal in the last 30 days before expiry", async () => {
    renderVerified(10);
    expect(await screen.findByRole("button", { name: "续期认证" })).toBeTruthy();
    expect(screen.queryByTestId("kyc-renew-later")).toBeNull();
  });
});
