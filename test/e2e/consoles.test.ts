import { mkdirSync } from "node:fs";
import path from "node:path";

import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { encodePng } from "../../server/demo/art.js";
import { type RunningPlatform, launchBrowser, logInThroughPage, screenshotDir, startPlatform } from "./platform.js";

/**
 * Museum staff and operators living in the studio and the console, in real Chromium against `npm start`, at a
 * desktop (1280×800) and a phone (390×844) size: no page scrolls sideways, no raw validator text, and everyone can
 * log out from the header.
 */
let platform: RunningPlatform;
let browser: Browser;
const staffPhone = "13800000002";
const operatorPhone = "13800000001";
const collectorPhone = "13800000003";
const SIZES = [
  { name: "desktop", width: 1280, height: 800 },
  { name: "phone", width: 390, height: 844 },
] as const;
const RAW_VALIDATOR = /无效输入|期望|实际接收|Too small|Too big|Invalid input|expected/;
const title = "晨钟暮鼓（控制台测试）";

async function shot(page: Page, name: string) {
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });
}

/** At both sizes: nothing is wider than the window, and no raw validator text shows. */
async function checkFits(page: Page, name: string) {
  for (const size of SIZES) {
    await page.setViewportSize({ width: size.width, height: size.height });
    await page.waitForTimeout(150);
    const widths = await page.evaluate<{ scroll: number; inner: number }>(
      "({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth })",
    );
    expect(widths.scroll, `${name} at ${size.name}`).toBeLessThanOrEqual(widths.inner);
    expect(await page.locator("main").innerText()).not.toMatch(RAW_VALIDATOR);
    await shot(page, `consoles-${name}-${size.name}`);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

async function loggedIn(phone: string, next: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "zh-CN" });
  const page = await context.newPage();
  await logInThroughPage(page, platform, phone, next);
  return { context, page };
}

async function logOut(page: Page) {
  await page.getByTestId("logout").click();
  await expect.poll(() => page.getByRole("link", { name: "登录" }).count(), { timeout: 10_000 }).toBe(1);
}

beforeAll(async () => {
  mkdirSync(screenshotDir, { recursive: true });
  // The one demo operator logs in in more than one journey, less than a minute apart: a 1 s resend interval
  // lets the second code be sent (the interval itself is tested in test/server/rate-limits.test.ts).
  platform = await startPlatform({ env: { OTP_RESEND_SECONDS: "1" } });
  browser = await launchBrowser();
}, 650_000);

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

describe("museum staff in the studio", () => {
  it("drafts with bad input, reads plain errors, submits, sees the dashboard and logs out", async () => {
    const { context, page } = await loggedIn(staffPhone, "/studio");
    await page.getByRole("heading", { name: "发行方后台" }).waitFor();
    await checkFits(page, "studio-list");
    await expect.poll(() => page.getByTestId("logout").isVisible()).toBe(true);

    await page.getByRole("link", { name: "新建藏品" }).click();
    await page.getByLabel("作品名称").fill(title);
    await page.getByLabel("创作者").fill("长安数字博物馆");
    await page.getByLabel("简介").fill("清晨与傍晚的钟鼓声。");
    await page.getByLabel("作品故事").fill("一段关于钟鼓楼的故事。");
    await page.locator("#draft-media").setInputFiles({
      name: "bell.png",
      mimeType: "image/png",
      buffer: encodePng(64, (x, y) => [200, x * 3, y * 3]),
    });
    await page.getByTestId("media-hashes").waitFor();

    // A lock below the floor: said with the field's label and the limit, next to the field.
    await page.locator("#draft-lockDays").fill("100");
    await page.getByRole("button", { name: "保存草稿" }).click();
    await page.getByText("锁定期不得少于 180 天").waitFor();
    await checkFits(page, "studio-editor-errors");

    // An end before the start: the rule that failed is named.
    await page.locator("#draft-lockDays").fill("180");
    const start = await page.locator("#draft-saleStartsAt").inputValue();
    await page.locator("#draft-saleEndsAt").fill(`${start.slice(0, 10)}T00:00`);
    await page.getByRole("button", { name: "保存草稿" }).click();
    await page.getByText(/结束时间须晚于开售时间/).waitFor();

    await page.locator("#draft-saleEndsAt").fill(`${Number(start.slice(0, 4)) + 1}-01-31T12:00`);
    await page.getByRole("button", { name: "保存草稿" }).click();
    await page.waitForURL(/\/studio\/\d+$/);
    // The saved draft keeps its artwork preview.
    await page.locator("main img").first().waitFor();
    await page.getByRole("button", { name: "提交审核" }).click();
    await expect.poll(() => page.getByTestId("studio-status").innerText()).toMatch(/审核/);
    await checkFits(page, "studio-detail");

    // A published collection's dashboard.
    await page.goto(`${platform.origin}/studio`);
    const published = page.locator("li", { hasText: "已上链发布" }).getByTestId("studio-collection").first();
    await published.click();
    await checkFits(page, "studio-dashboard");

    await page.setViewportSize({ width: 1280, height: 800 });
    await shot(page, "studio-desktop");
    await page.setViewportSize({ width: 390, height: 844 });
    await shot(page, "studio-phone");
    await logOut(page);
    await context.close();
  }, 180_000);
});

describe("operators in the console", () => {
  it("reviews, finds an account by phone, freezes with confirmation, lists orders, filters audit, reconciles and logs out", async () => {
    const { context, page } = await loggedIn(operatorPhone, "/ops");
    await page.getByRole("tab", { name: "审核" }).waitFor();
    await checkFits(page, "ops-reviews");

    const card = page.getByTestId("collection-review").filter({ hasText: title });
    await card.getByText("作品故事").waitFor();
    await card.getByRole("button", { name: `通过 ${title}` }).click();
    await expect.poll(() => card.count(), { timeout: 15_000 }).toBe(0);

    await page.getByRole("tab", { name: "冻结与限制" }).click();
    await page.getByLabel("手机号").fill(collectorPhone);
    await page.getByRole("button", { name: "查找账户" }).click();
    const account = page.getByTestId("ops-account");
    await account.getByText("138****0003").first().waitFor();
    await account.getByText("已认证").waitFor();
    await checkFits(page, "ops-account");

    // A freeze without a reason: the field's message, not "输入有误".
    await account.getByRole("button", { name: "冻结", exact: true }).click();
    await page.getByTestId("confirm-dialog").getByRole("button", { name: "确认" }).click();
    await account.locator(".field-error").first().waitFor();
    expect(await account.innerText()).not.toMatch(/输入有误/);

    await page.locator("#ops-reason").fill("涉嫌场外交易，核查中");
    await account.getByRole("button", { name: "冻结", exact: true }).click();
    const dialog = page.getByTestId("confirm-dialog");
    expect(await dialog.innerText()).toMatch(/138\*\*\*\*0003/);
    await checkFits(page, "ops-freeze-confirm");
    await dialog.getByRole("button", { name: "确认" }).click();
    await page.getByText(/已冻结 138\*\*\*\*0003/).waitFor({ timeout: 60_000 });
    await account.getByRole("button", { name: "解冻" }).click();
    await page.getByTestId("confirm-dialog").getByRole("button", { name: "确认" }).click();
    await page.getByText(/已解冻 138\*\*\*\*0003/).waitFor({ timeout: 60_000 });

    await page.getByRole("tab", { name: "订单与退款" }).click();
    expect(await page.locator("#ops-order-status").inputValue()).toBe("");
    await checkFits(page, "ops-orders");

    await page.getByRole("tab", { name: "审计日志" }).click();
    await page.getByTestId("audit-rows").waitFor();
    await page.locator("#audit-action").selectOption("account.frozen");
    await expect.poll(() => page.getByTestId("audit-rows").locator("tbody tr").count()).toBe(1);
    await checkFits(page, "ops-audit");

    await page.getByRole("tab", { name: "对账" }).click();
    const tomorrow = new Date(Date.now() + 8 * 3600_000 + 86_400_000).toISOString().slice(0, 10);
    await page.locator("#ops-day").fill(tomorrow);
    await page.getByRole("button", { name: "开始对账" }).click();
    await page.getByText(/该日尚未结束/).waitFor();
    await checkFits(page, "ops-reconcile");

    // Takedown and recovery: the four-eyes request form and the pending list fit a phone too.
    await page.getByRole("tab", { name: "下架与找回" }).click();
    await page.getByText("发起下架或找回（需另一名运营人员批准）").waitFor();
    await page
      .getByText(/暂无待审批的申请|待第二人审批/)
      .first()
      .waitFor();
    await checkFits(page, "ops-compliance");

    await page.getByRole("tab", { name: "审核" }).click();
    await page.setViewportSize({ width: 1280, height: 800 });
    await shot(page, "console-desktop");
    await page.setViewportSize({ width: 390, height: 844 });
    await shot(page, "console-phone");
    await logOut(page);
    await context.close();
  }, 240_000);
});

describe("a new museum's staff journey, start to airdrop", () => {
  // The journey at 1280×800; every page it visits is also checked and photographed at 390×844 (checkFits).
  it("applies, is approved, drafts with artwork, is rejected, fixes, publishes, airdrops and reads the dashboard", async () => {
    const applicantPhone = "13800000077";
    const museum = "江南丝绸博物馆（测试）";
    const work = "缂丝团扇（旅程测试）";
    const staff = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "zh-CN" });
    const studio = await staff.newPage();
    await logInThroughPage(studio, platform, applicantPhone, "/studio");
    await studio.getByLabel("机构全称").fill(museum);
    await studio.getByLabel("统一社会信用代码").fill("91440300708461136T");
    await checkFits(studio, "journey-apply");
    await studio.getByRole("button", { name: "提交申请" }).click();
    await studio
      .getByText(/正在审核中|申请已提交/)
      .first()
      .waitFor();

    const { context: opsContext, page: ops } = await loggedIn(operatorPhone, "/ops");
    const application = ops.getByTestId("issuer-application").filter({ hasText: museum });
    await application.getByRole("button", { name: `通过 ${museum}` }).click();
    await expect.poll(() => application.count(), { timeout: 15_000 }).toBe(0);

    // Approved: the applicant, now the museum's staff, drafts with real artwork.
    // The role is read at every request, so the same session now opens the studio as staff (no new login,
    // which a second code within the resend interval would refuse anyway).
    await studio.goto(`${platform.origin}/studio`);
    await studio.getByRole("link", { name: "新建藏品" }).click();
    await studio.getByLabel("作品名称").fill(work);
    await studio.getByLabel("创作者").fill("江南丝绸博物馆");
    await studio.getByLabel("简介").fill("短");
    await studio.getByLabel("作品故事").fill("一把缂丝团扇的故事。");
    await studio.locator("#draft-media").setInputFiles({
      name: "fan.png",
      mimeType: "image/png",
      buffer: encodePng(64, (x, y) => [x * 2, 120, y * 3]),
    });
    await studio.getByTestId("media-hashes").waitFor();
    await studio.locator("#draft-lockDays").fill("10");
    await studio.getByRole("button", { name: "保存草稿" }).click();
    await studio.getByText("锁定期不得少于 180 天").waitFor();
    // A start in the past is named next to its field before anything is sent.
    await studio.locator("#draft-lockDays").fill("180");
    const start = await studio.locator("#draft-saleStartsAt").inputValue();
    await studio.locator("#draft-saleStartsAt").fill(`${Number(start.slice(0, 4)) - 1}${start.slice(4)}`);
    await studio.getByRole("button", { name: "保存草稿" }).click();
    await studio.getByText("开售时间不能早于现在，请选择一个将来的开售时间").waitFor();
    await checkFits(studio, "journey-draft-errors");
    await studio.locator("#draft-saleStartsAt").fill(start);
    await studio.getByRole("button", { name: "保存草稿" }).click();
    await studio.waitForURL(/\/studio\/\d+$/);
    await studio.getByRole("button", { name: "提交审核" }).click();
    await expect.poll(() => studio.getByTestId("studio-status").innerText()).toBe("审核中");
    await checkFits(studio, "journey-submitted");

    // The operator rejects with a reason; the staff read it, fix the draft and submit again.
    await ops.reload();
    const review = ops.getByTestId("collection-review").filter({ hasText: work });
    await review.getByLabel("审核意见（驳回时必填）").fill("简介过短，请补充作品的年代与工艺");
    await review.getByRole("button", { name: `驳回 ${work}` }).click();
    await expect.poll(() => review.count(), { timeout: 15_000 }).toBe(0);
    await studio.reload();
    await studio.getByText("驳回原因：简介过短，请补充作品的年代与工艺").waitFor();
    await checkFits(studio, "journey-rejected");
    await studio.getByLabel("简介").fill("清代缂丝团扇的数字复刻，通经断纬，正反如一。");
    await studio.getByRole("button", { name: "保存草稿" }).click();
    await expect.poll(() => studio.getByTestId("studio-status").innerText(), { timeout: 15_000 }).toBe("草稿");
    await studio.getByRole("button", { name: "提交审核" }).click();
    await expect.poll(() => studio.getByTestId("studio-status").innerText()).toBe("审核中");

    await ops.reload();
    await ops
      .getByTestId("collection-review")
      .filter({ hasText: work })
      .getByRole("button", { name: `通过 ${work}` })
      .click();
    await expect
      .poll(() => ops.getByTestId("collection-review").filter({ hasText: work }).count(), { timeout: 15_000 })
      .toBe(0);
    await checkFits(ops, "journey-ops-reviews");
    await logOut(ops);
    await opsContext.close();

    // Published on chain, then one edition airdropped to a verified collector.
    await studio.reload();
    await studio.getByRole("button", { name: "上链发布" }).click();
    await expect.poll(() => studio.getByTestId("studio-status").innerText(), { timeout: 90_000 }).toBe("已上链发布");
    await studio.locator("#airdrop-list").fill(collectorPhone);
    await studio.getByRole("button", { name: "检查名单" }).click();
    await studio.getByText("1 人均可接收").waitFor({ timeout: 30_000 });
    await studio.getByRole("button", { name: "确认空投" }).click();
    await studio.getByText(/空投进度/).waitFor({ timeout: 30_000 });

    // The dashboard counts the airdrop apart from sales.
    await expect
      .poll(
        async () => {
          await studio.reload();
          await studio.getByTestId("sales-panel").waitFor();
          return [
            await studio.getByTestId("airdropped-editions").innerText(),
            await studio.getByTestId("sold-editions").innerText(),
          ];
        },
        { timeout: 90_000, interval: 3_000 },
      )
      .toEqual(["1", "0"]);
    await checkFits(studio, "journey-dashboard");
    await logOut(studio);
    await staff.close();
  }, 600_000);
});

describe("the sandbox cashier on a phone", () => {
  it("fits 390×844 with the amount, the item, pay and the way back; a paid order's page says so", async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: "zh-CN" });
    const page = await context.newPage();
    await logInThroughPage(page, platform, "13800000004", "/");
    await page.getByTestId("collection-tile").filter({ hasText: "青绿山水" }).first().click();
    await page.getByRole("button", { name: "立即购买" }).click();
    await page.waitForURL("**/checkout/**");
    const orderNo = new URL(page.url()).pathname.split("/").at(-1)!;
    // Choosing to pay opens the trade at the (sandbox) provider; its cashier is then a page of its own.
    await expect.poll(() => page.getByTestId("order-status").textContent(), { timeout: 30_000 }).toBe("待支付");
    await page.getByRole("button", { name: "去支付" }).click();
    await page.getByRole("link", { name: "打开收银台" }).waitFor();
    await page.goto(`${platform.origin}/pay/sandbox/cashier/${orderNo}`);
    for (const name of ["cashier", "cashier-paid", "cashier-already-paid"]) {
      if (name === "cashier") {
        await page.getByTestId("amount").waitFor();
        expect(await page.locator("main").innerText()).toContain(orderNo);
        await page.getByRole("link", { name: "取消，返回订单" }).waitFor();
      }
      const widths = await page.evaluate<{ scroll: number; inner: number }>(
        "({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth })",
      );
      expect(widths.scroll, name).toBeLessThanOrEqual(widths.inner);
      await shot(page, `consoles-${name}-phone`);
      if (name === "cashier") {
        await page.getByRole("button", { name: "确认付款" }).click();
        await page.getByText("付款成功").waitFor();
      } else if (name === "cashier-paid") {
        await page.goto(`${platform.origin}/pay/sandbox/cashier/${orderNo}`);
        await page.getByRole("heading", { name: "这笔订单已付款" }).waitFor();
      }
    }
    await page.getByRole("link", { name: "返回订单" }).click();
    await page.waitForURL(`**/checkout/${orderNo}`);
    await context.close();
  }, 180_000);
});
