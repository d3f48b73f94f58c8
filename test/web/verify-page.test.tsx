import { createHash } from "node:crypto";

import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router";
import { describe, expect, it } from "vitest";

import { VerifyPage } from "../../web/src/features/verify/VerifyPage";
import { renderWithApi } from "./render";

const artwork = new TextEncoder().encode("the genuine artwork bytes");
const hash = createHash("sha256").update(artwork).digest("hex");
const contract = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const facts = {
  contractAddress: contract,
  tokenId: 7,
  edition: "7 / 100",
  name: "青绿山水·千里",
  owner: "0x1111111111111111111111111111111111111111",
  ownerMasked: "0x1111…1111",
  contentHash: `0x${hash}`,
  acquiredBy: "minted",
  acquiredAt: "2026-11-24T02:00:00.000Z",
  unlocksAt: "2027-05-23T02:00:00.000Z",
  locked: true,
  takenDown: null,
};

function renderVerify(served: Uint8Array) {
  return renderWithApi(
    <Routes>
      <Route path="/verify/:contractAddress?/:tokenId?" element={<VerifyPage />} />
    </Routes>,
    { "verify.token": facts },
    `/verify/${contract}/7`,
    { [`/media/${hash}`]: served },
  );
}

describe("the public verification page", () => {
  it("re-hashes the artwork in the browser and says it matches the hash on chain", async () => {
    const { calls } = renderVerify(artwork);
    expect(await screen.findByTestId("hash-verdict")).toHaveProperty("textContent", "哈希一致");
    expect(screen.getByText(`浏览器计算结果: ${hash}`)).toBeTruthy();
    expect(calls.find((c) => c.procedure === "verify.token")).toBeDefined();
  });

  it("says the hash does not match when the served file was tampered with", async () => {
    renderVerify(new TextEncoder().encode("the genuine artwork bytes, retouched"));
    expect(await screen.findByTestId("hash-verdict")).toHaveProperty("textContent", "哈希不一致");
  });

  it("checks a collector's own copy against the chain, and names a tampered one", async () => {
    const user = userEvent.setup();
    renderVerify(artwork);
    await screen.findByTestId("hash-verdict");
    await user.upload(screen.getByLabelText("用您自己的文件核对"), new File([artwork], "mine.png"));
    expect(await screen.findByText("（您选择的文件：mine.png）")).toBeTruthy();
    expect(screen.getByTestId("hash-verdict").textContent).toBe("哈希一致");
    await user.upload(screen.getByLabelText("用您自己的文件核对"), new File(["edited"], "edited.png"));
    expect(await screen.findByText("（您选择的文件：edited.png）")).toBeTruthy();
    expect(screen.getByTestId("hash-verdict").textContent).toBe("哈希不一致");
  });

  it("says plainly what is wrong with a malformed address or token id, instead of a blank result", async () => {
    renderWithApi(
      <Routes>
        <Route path="/verify/:contractAddress?/:tokenId?" element={<VerifyPage />} />
      </Routes>,
      { "verify.token": facts },
      "/verify/0x5FbDB2315678afecb367f032d93F642f64180aa/abc",
    );
    expect((await screen.findByTestId("verify-malformed")).textContent).toContain(
      "合约地址应为 0x 开头的 40 位十六进制字符",
    );
    expect(screen.queryByTestId("verify-result")).toBeNull();
  });
});

describe("the public verification page of a taken-down token", () => {
  it("says the token existed and was burned, with the reason's category and code and the transaction", async () => {
    const txHash = `0x${"cd".repeat(32)}`;
    renderWithApi(
      <Routes>
        <Route path="/verify/:contractAddress?/:tokenId?" element={<VerifyPage />} />
      </Routes>,
      {
        "verify.token": {
          ...facts,
          takenDown: { scope: "collection", reasonCode: 2, txHash, at: "2026-12-07T02:00:00.000Z" },
        },
      },
      `/verify/${contract}/7`,
    );
    expect((await screen.findByTestId("verify-takedown-facts")).textContent).toBe(
      `该藏品真实存在，已因整个系列被下架而销毁（原因：监管部门要求，原因代码 2），链上交易： ${txHash}`,
    );
    expect(screen.getByTestId("verify-taken-down").textContent).toBe("已下架");
    // The artwork is not fetched or compared any more.
    expect(screen.queryByTestId("hash-verdict")).toBeNull();
  });
});
