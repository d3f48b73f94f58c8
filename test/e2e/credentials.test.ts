import { execFile } from "node:child_process";
import { promisify } from "node:util";

import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

import { type RunningPlatform, launchBrowser, logInThroughPage, startPlatform } from "./platform.js";

// A browser journey on a loaded 2-core machine: each step may take long.
vi.setConfig({ testTimeout: 240_000 });

/**
 * Real-name credentials in Chromium against `npm start`: a verified demo collector gets a credential into
 * the browser, presents only the claim they choose, and both the public verify page and the CLI verifier
 * accept it, then refuse it once the account is erased; a new user verifies through the stand-in trusted
 * issuer without entering an ID number.
 */
let platform: RunningPlatform;
let browser: Browser;
const run = promisify(execFile);

beforeAll(async () => {
  platform = await startPlatform();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

async function cli(origin: string, nonce: string, presentation: string) {
  const result = await run(
    process.execPath,
    ["--import", "tsx", "scripts/verify-credential.ts", "--origin", origin, "--nonce", nonce, presentation],
    { encoding: "utf8" },
  ).then(
    (ok) => ({ code: 0, out: ok.stdout }),
    (failed: { code: number; stdout: string }) => ({ code: failed.code, out: failed.stdout }),
  );
  return { code: result.code, answer: JSON.parse(result.out) as Record<string, unknown> };
}

describe("a real-name credential", () => {
  it("is issued, presented with chosen claims, accepted in the browser and the CLI, and refused after erasure", async () => {
    const context = await browser.newContext({ locale: "zh-CN" });
    context.setDefaultTimeout(60_000);
    const holder = await context.newPage();
    await logInThroughPage(holder, platform, "13800000003", "/me/credential");
    await holder.getByRole("button", { name: "领取实名凭证" }).click();
    await holder.getByTestId("credential-held").waitFor();

    const verifierContext = await browser.newContext({ locale: "zh-CN" });
    verifierContext.setDefaultTimeout(60_000);
    const verifier = await verifierContext.newPage();
    await verifier.goto(`${platform.origin}/credential/verify`);
    const nonce = (await verifier.getByTestId("verify-nonce").textContent())!.trim();

    await holder.getByLabel("挑战码（由验证方提供）").fill(nonce);
    await holder.getByLabel("平台持有人状态").check();
    await holder.getByRole("button", { name: "生成出示" }).click();
    const box = holder.getByLabel("出示内容");
    await box.waitFor();
    const presentation = await box.inputValue();
    await expect.poll(() => holder.getByRole("img", { name: "实名凭证出示二维码" }).count()).toBe(1);

    // The verify page checks it in the browser: the presentation never goes to the server.
    const posted: string[] = [];
    verifier.on("request", (request) => posted.push(`${request.url()} ${request.postData() ?? ""}`));
    await verifier.getByLabel("粘贴出示内容").fill(presentation);
    await verifier.getByRole("button", { name: "验证", exact: true }).click();
    const outcome = verifier.getByTestId("verify-outcome");
    await expect.poll(() => outcome.textContent(), { timeout: 45_000 }).toContain("有效");
    const disclosed = await verifier.getByTestId("disclosed-claims").textContent();
    expect(disclosed).toContain("平台持有人状态");
    expect(disclosed).not.toContain("链上身份承诺值");
    expect(posted.some((line) => line.includes(presentation.slice(0, 40)))).toBe(false);
    const page = (await verifier.content()) + disclosed;
    for (const personal of ["张三", "13800000003", "1101011"]) expect(page).not.toContain(personal);

    const accepted = await cli(platform.origin, nonce, presentation);
    expect(accepted.code).toBe(0);
    expect(accepted.answer.valid).toBe(true);
    const wrongNonce = await cli(platform.origin, "not-the-challenge", presentation);
    expect(wrongNonce.answer.code).toBe("credential.replayed");

    // Erasing the account flips the credential's bit at once.
    await holder.goto(`${platform.origin}/me?tab=account`);
    await holder.getByRole("button", { name: "申请注销" }).click();
    await holder.getByRole("button", { name: "确认注销" }).click();
    // Signed out at once: the page leaves 我的 (home, or the login page its guard sends it to).
    await holder.waitForURL((url) => url.pathname === "/" || url.pathname === "/login");

    await verifier.getByRole("button", { name: "验证", exact: true }).click();
    await expect
      .poll(() => verifier.getByTestId("verify-refusal").getAttribute("data-code"), { timeout: 45_000 })
      .toBe("credential.revoked");
    await expect.poll(() => verifier.getByTestId("verify-refusal").textContent()).toBe("凭证已被撤销");
    const refused = await cli(platform.origin, nonce, presentation);
    expect(refused.code).toBe(1);
    expect(refused.answer.code).toBe("credential.revoked");
    await context.close();
  });
});

describe("verification by a trusted issuer's credential", () => {
  it("verifies a new user through the stand-in issuer without an ID number", async () => {
    const context = await browser.newContext({ locale: "zh-CN" });
    context.setDefaultTimeout(60_000);
    const page = await context.newPage();
    await logInThroughPage(page, platform, "13912340077", "/me/verify");
    const panel = page.getByTestId("credential-kyc");
    await panel.getByRole("button", { name: "获取挑战码" }).click();
    await panel.getByTestId("kyc-nonce").waitFor();
    await panel.getByRole("link", { name: /打开演示凭证机构/ }).click();
    await page.getByRole("button", { name: /签发并出示/ }).click();
    await page.getByRole("link", { name: /返回数藏完成认证/ }).click();
    await page.waitForURL(/\/me\/verify/);
    await page.getByRole("button", { name: "用凭证完成认证" }).click();
    await expect.poll(() => page.getByText("已认证").count(), { timeout: 45_000 }).toBeGreaterThan(0);
    await context.close();
  });
});
