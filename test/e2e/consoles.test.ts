import { mkdirSync } from "node:fs";
import path from "node:path";

import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { encodePng } from "../../server/demo/art.js";
import { makeIdNumber } from "../server/helpers.js";
import {
  type RunningPlatform,
  launchBrowser,
  logInThroughPage,
  screenshotDir,
  startPlatform,
  stepUpThroughPage,
} from "./platform.js";

/**
 * Museum staff and operators living in the studio and the console, in real Chromium against `npm start`, at a
 * desktop (1280×800) and a phone (390×844) size: no page scrolls sideways, no raw validator text, and everyone can
 * log out from the header.
 */
let platform: RunningPlatform;
let browser: Browser;
const staffPhone = "13800000002";
const operatorPhone = "13800000001";
/** A second operator, made one at start-up through OPERATOR_PHONES (how the platform makes operators). */
const secondOperatorPhone = "13800000009";
const collectorPhone = "13800000003";
const SIZES = [
  { name: "desktop", width: 1280, height: 800 },
  { name: "phone", width: 390, height: 844 },
] as const;
type Size = (typeof SIZES)[number];
/** The new collector whose paid order the operator journey refunds, one per size (invented names and numbers). */
const REFUND_BUYERS = {
  desktop: {
    phone: "13800000011",
    masked: "138****0011",
    name: "赵六",
    idNumber: makeIdNumber("19920415", "110105", "331"),
  },
  phone: {
    phone: "13800000012",
    masked: "138****0012",
    name: "钱七",
    idNumber: makeIdNumber("19870923", "110105", "442"),
  },
} as const;
const RAW_VALIDATOR = /无效输入|期望|实际接收|Too small|Too big|Invalid input|expected/;
const title = "晨钟暮鼓（控制台测试）";

async function shot(page: Page, name: string) {
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });
}

/** At both sizes: nothing is wider than the window, and no raw validator text shows; then back to the page's size. */
async function checkFits(page: Page, name: string) {
  const journeySize = page.viewportSize() ?? { width: 1280, height: 800 };
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
  await page.setViewportSize(journeySize);
}

/** Nothing wider than the window and no raw validator text, at the size the page is used at. */
async function fitsAsUsed(page: Page, name: string) {
  const widths = await page.evaluate<{ scroll: number; inner: number }>(
    "({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth })",
  );
  expect(widths.scroll, name).toBeLessThanOrEqual(widths.inner);
  expect(await page.locator("main").innerText()).not.toMatch(RAW_VALIDATOR);
  await shot(page, `consoles-${name}`);
}

async function loggedIn(
  phone: string,
  next: string,
  size: { width: number; height: number } = SIZES[0],
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: size.width, height: size.height }, locale: "zh-CN" });
  const page = await context.newPage();
  await logInThroughPage(page, platform, phone, next);
  return { context, page };
}

/**
 * From a collection page: buys one edition, pays it at the sandbox cashier and comes back to the order's page;
 * returns the order number.
 */
async function buyAndPayThroughPage(page: Page): Promise<string> {
  const orderNo = await buyToCashierThroughPage(page);
  await page.getByRole("button", { name: "确认付款" }).click();
  await page.getByText("付款成功").waitFor();
  await page.goto(`${platform.origin}/checkout/${orderNo}`);
  return orderNo;
}

/**
 * From a collection page: buys one edition and opens the trade at the (sandbox) provider, whose cashier is then a
 * page of its own; leaves the page at that cashier and returns the order number.
 */
async function buyToCashierThroughPage(page: Page): Promise<string> {
  await page.getByRole("button", { name: "立即购买" }).click();
  await page.waitForURL("**/checkout/**");
  const orderNo = new URL(page.url()).pathname.split("/").at(-1)!;
  await expect.poll(() => page.getByTestId("order-status").textContent(), { timeout: 30_000 }).toBe("待支付");
  await page.getByRole("button", { name: "去支付" }).click();
  await page.getByRole("link", { name: "打开收银台" }).waitFor();
  await page.goto(`${platform.origin}/pay/sandbox/cashier/${orderNo}`);
  return orderNo;
}

async function logOut(page: Page) {
  await page.getByTestId("logout").click();
  await expect.poll(() => page.getByRole("link", { name: "登录" }).count(), { timeout: 10_000 }).toBe(1);
}

beforeAll(async () => {
  mkdirSync(screenshotDir, { recursive: true });
  // The one demo operator logs in in more than one journey, less than a minute apart: a 1 s resend interval
  // lets the second code be sent (the interval itself is tested in test/server/rate-limits.test.ts).
  platform = await startPlatform({ env: { OTP_RESEND_SECONDS: "1", OPERATOR_PHONES: secondOperatorPhone } });
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

/** A tRPC query answered to the cookies of `context` (the platform's own HTTP door, read apart from the pages). */
async function query<T>(context: BrowserContext, procedure: string, input?: unknown): Promise<T> {
  const search = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`;
  const response = await context.request.get(`${platform.origin}/trpc/${procedure}${search}`);
  expect(response.status(), procedure).toBe(200);
  return ((await response.json()) as { result: { data: T } }).result.data;
}

type OrderSeen = { orderNo: string; status: string };

/**
 * A new collector, in the browser: logs in, verifies their identity, buys one edition of 青绿山水 and pays at the
 * sandbox cashier. Answers the collector's browser and the paid order's number.
 */
async function newCollectorPays(
  buyer: (typeof REFUND_BUYERS)[keyof typeof REFUND_BUYERS],
  size: Size,
): Promise<{ context: BrowserContext; page: Page; orderNo: string }> {
  const context = await browser.newContext({ viewport: { width: size.width, height: size.height }, locale: "zh-CN" });
  const page = await context.newPage();
  await page.goto(platform.origin);
  await page.getByTestId("collection-tile").filter({ hasText: "青绿山水" }).first().click();
  await page.waitForURL(/\/c\/\d+$/);
  const collectionPath = new URL(page.url()).pathname;
  await logInThroughPage(page, platform, buyer.phone, collectionPath);
  await page.getByRole("link", { name: "完成实名认证后购买" }).click();
  await page.getByLabel("真实姓名", { exact: true }).fill(buyer.name);
  await page.getByLabel("身份证号", { exact: true }).fill(buyer.idNumber);
  await page.getByText("格式正确").waitFor();
  await page.getByLabel(/我同意平台/).check();
  await page.getByRole("button", { name: "提交认证" }).click();
  await stepUpThroughPage(page, platform, buyer.phone);
  await page.waitForURL(`**${collectionPath}`);
  const orderNo = await buyAndPayThroughPage(page);
  await expect.poll(() => page.getByTestId("order-status").textContent(), { timeout: 30_000 }).toBe("已支付");
  return { context, page, orderNo };
}

// The whole operator journey at each size: at 390×844 every step is performed on the phone, not only photographed.
describe.each(SIZES)("operators in the console at $name size", (size) => {
  const buyer = REFUND_BUYERS[size.name];
  const at = size.name === "desktop" ? "" : "-on-phone";

  it("reviews, refunds a paid order, finds an account, freezes with confirmation, filters audit, reconciles and logs out", async () => {
    // A paid order not yet delivered: delivery waits until the buyer's identity is bound in the on-chain registry,
    // so the chain holds its transactions (no automatic blocks) while the new collector verifies, pays and the
    // operator refunds. Nothing is written to the database by the test.
    await platform.rpc("evm_setAutomine", [false]);
    let chainHeld = true;
    const resumeChain = async () => {
      if (!chainHeld) return;
      chainHeld = false;
      await platform.rpc("evm_setAutomine", [true]);
      await platform.rpc("evm_mine");
    };
    try {
      const collector = await newCollectorPays(buyer, size);
      const { context, page } = await loggedIn(operatorPhone, "/ops", size);
      await page.getByRole("tab", { name: "审核" }).waitFor();
      if (size.name === "desktop") {
        await checkFits(page, "ops-reviews");
        const card = page.getByTestId("collection-review").filter({ hasText: title });
        await card.getByText("作品故事").waitFor();
        await card.getByRole("button", { name: `通过 ${title}` }).click();
        await expect.poll(() => card.count(), { timeout: 15_000 }).toBe(0);
      } else {
        await fitsAsUsed(page, "ops-reviews-used-on-phone");
      }

      // Orders of every state: the paid order with its item, issuer, masked buyer, amount and state.
      await page.getByRole("tab", { name: "订单与退款" }).click();
      expect(await page.locator("#ops-order-status").inputValue()).toBe("");
      const row = page.getByTestId("ops-order").filter({ hasText: collector.orderNo });
      await row.waitFor({ timeout: 15_000 });
      const rowText = await row.innerText();
      for (const fact of ["青绿山水·千里 × 1", "长安数字博物馆（演示）", buyer.masked, "¥19.90", "已支付"])
        expect(rowText).toContain(fact);
      await checkFits(page, `ops-orders${at}`);

      // The confirmation says whose order, what and how much; the result is said in words.
      await page.getByLabel("退款原因").fill("买家申请撤销购买");
      await page.getByRole("button", { name: `退款 ${collector.orderNo}` }).click();
      const confirm = page.getByTestId("refund-confirm-dialog");
      expect(await confirm.innerText()).toContain(
        `确认为 ${buyer.masked} 的订单 ${collector.orderNo}（青绿山水·千里 × 1）全额退款 ¥19.90？款项原路退回，该订单不再交付藏品。原因：买家申请撤销购买`,
      );
      await checkFits(page, `ops-refund-confirm${at}`);
      await confirm.getByRole("button", { name: "确认" }).click();
      expect(await page.getByTestId("refund-done").innerText()).toMatch(
        new RegExp(
          `^已为 ${buyer.masked.replace(/\*/g, "\\*")} 的订单 ${collector.orderNo} 发起全额退款 ¥19\\.90（退款单 RF${collector.orderNo.slice(2)}），款项原路退回`,
        ),
      );
      // The provider's answer moves the order to 已退款, in the list and on the buyer's own order page.
      await expect.poll(() => row.getByTestId("ops-order-status").innerText(), { timeout: 30_000 }).toBe("已退款");
      expect(await row.getByRole("button", { name: `退款 ${collector.orderNo}` }).count()).toBe(0);
      await fitsAsUsed(page, `ops-refunded${at}-${size.name}`);
      await collector.page.reload();
      await expect
        .poll(() => collector.page.getByTestId("order-status").textContent(), { timeout: 30_000 })
        .toBe("已退款");
      await resumeChain();

      // Apart from the pages: the API says the same to the operator and to the buyer, and once the buyer's
      // identity is bound on chain (the chain mines again), the refunded order is still never delivered.
      const [opsRow] = await query<OrderSeen[]>(context, "ops.orders", { orderNo: collector.orderNo });
      expect(opsRow).toMatchObject({ orderNo: collector.orderNo, status: "refunded" });
      await expect
        .poll(async () => (await query<{ onChain?: boolean }>(collector.context, "kyc.status")).onChain, {
          timeout: 60_000,
        })
        .toBe(true);
      await collector.page.waitForTimeout(3_000); // three mint rounds (MINT_INTERVAL_MS 1 s)
      const mine = await query<OrderSeen[]>(collector.context, "orders.mine");
      expect(mine.find((o) => o.orderNo === collector.orderNo)?.status).toBe("refunded");
      expect(await query<unknown[]>(collector.context, "collectibles.mine")).toEqual([]);
      await collector.context.close();

      await page.getByRole("tab", { name: "冻结与限制" }).click();
      await page.getByLabel("手机号").fill(collectorPhone);
      await page.getByRole("button", { name: "查找账户" }).click();
      const account = page.getByTestId("ops-account");
      await account.getByText("138****0003").first().waitFor();
      await account.getByText("已认证").waitFor();
      await checkFits(page, `ops-account${at}`);

      // A freeze without a reason: the field's message, not "输入有误".
      await page.locator("#ops-reason").fill("");
      await account.getByRole("button", { name: "冻结", exact: true }).click();
      await page.getByTestId("confirm-dialog").getByRole("button", { name: "确认" }).click();
      await account.locator(".field-error").first().waitFor();
      expect(await account.innerText()).not.toMatch(/输入有误/);

      await page.locator("#ops-reason").fill("涉嫌场外交易，核查中");
      await account.getByRole("button", { name: "冻结", exact: true }).click();
      const dialog = page.getByTestId("confirm-dialog");
      expect(await dialog.innerText()).toMatch(/138\*\*\*\*0003/);
      await checkFits(page, `ops-freeze-confirm${at}`);
      await dialog.getByRole("button", { name: "确认" }).click();
      await page.getByText(/已冻结 138\*\*\*\*0003/).waitFor({ timeout: 60_000 });
      await account.getByRole("button", { name: "解冻" }).click();
      await page.getByTestId("confirm-dialog").getByRole("button", { name: "确认" }).click();
      await page.getByText(/已解冻 138\*\*\*\*0003/).waitFor({ timeout: 60_000 });
      await fitsAsUsed(page, `ops-unfrozen${at}-${size.name}`);

      // The audit log, filtered: this run's freeze is the newest of its kind, and the refund is there by order.
      await page.getByRole("tab", { name: "审计日志" }).click();
      await page.getByTestId("audit-rows").waitFor();
      const rows = page.getByTestId("audit-rows").locator("tbody tr");
      await page.locator("#audit-action").selectOption("account.frozen");
      await expect.poll(() => rows.count()).toBe(size.name === "desktop" ? 1 : 2);
      await page.locator("#audit-action").selectOption("refund.requested");
      await expect.poll(() => rows.filter({ hasText: collector.orderNo }).count()).toBe(1);
      expect(await rows.filter({ hasText: collector.orderNo }).innerText()).toMatch(/发起退款/);
      await checkFits(page, `ops-audit${at}`);

      await page.getByRole("tab", { name: "对账" }).click();
      const tomorrow = new Date(Date.now() + 8 * 3600_000 + 86_400_000).toISOString().slice(0, 10);
      await page.locator("#ops-day").fill(tomorrow);
      await page.getByRole("button", { name: "开始对账" }).click();
      await page.getByText(/该日尚未结束/).waitFor();
      await checkFits(page, `ops-reconcile${at}`);

      // Takedown and recovery: the four-eyes request form and the pending list fit a phone too.
      await page.getByRole("tab", { name: "下架与找回" }).click();
      await page.getByText("发起下架或找回（需另一名运营人员批准）").waitFor();
      await page
        .getByText(/暂无待审批的申请|待第二人审批/)
        .first()
        .waitFor();
      await checkFits(page, `ops-compliance${at}`);

      await page.getByRole("tab", { name: "审核" }).click();
      if (size.name === "desktop") {
        await shot(page, "console-desktop");
        await page.setViewportSize({ width: 390, height: 844 });
        await shot(page, "console-phone");
      }
      await logOut(page);
      await fitsAsUsed(page, `ops-logged-out${at}-${size.name}`);
      await context.close();
    } finally {
      await resumeChain();
    }
  }, 300_000);
});

/** The new museum of the staff journey, one per size (invented names, numbers and valid credit codes). */
const NEW_MUSEUMS = {
  desktop: {
    applicantPhone: "13800000077",
    museum: "江南丝绸博物馆（测试）",
    creditCode: "91440300708461136T",
    work: "缂丝团扇（旅程测试）",
  },
  phone: {
    applicantPhone: "13800000078",
    museum: "苏州刺绣博物馆（测试）",
    creditCode: "91320500MA1N2P3Q4P",
    work: "苏绣团扇（旅程测试）",
  },
} as const;

describe.each(SIZES)("a new museum's staff journey, start to airdrop, at $name size", (size) => {
  // The journey at its size, the operator's part too; every page it visits is also checked and photographed at
  // the other size (checkFits).
  it("applies, is approved, drafts with artwork, is rejected, fixes, publishes, airdrops and reads the dashboard", async () => {
    const { applicantPhone, museum, creditCode, work } = NEW_MUSEUMS[size.name];
    const at = size.name === "desktop" ? "" : "-on-phone";
    const staff = await browser.newContext({ viewport: { width: size.width, height: size.height }, locale: "zh-CN" });
    const studio = await staff.newPage();
    await logInThroughPage(studio, platform, applicantPhone, "/studio");
    await studio.getByLabel("机构全称").fill(museum);
    await studio.getByLabel("统一社会信用代码").fill(creditCode);
    await checkFits(studio, `journey-apply${at}`);
    await studio.getByRole("button", { name: "提交申请" }).click();
    await studio
      .getByText(/正在审核中|申请已提交/)
      .first()
      .waitFor();

    const { context: opsContext, page: ops } = await loggedIn(operatorPhone, "/ops");
    await ops.setViewportSize({ width: size.width, height: size.height });
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
      // Artwork of its own per museum (the platform refuses an artwork another issuer registered).
      buffer: encodePng(64, (x, y) => [x * 2, size.name === "desktop" ? 120 : 60, y * 3]),
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
    await checkFits(studio, `journey-draft-errors${at}`);
    await studio.locator("#draft-saleStartsAt").fill(start);
    await studio.getByRole("button", { name: "保存草稿" }).click();
    await studio.waitForURL(/\/studio\/\d+$/);
    await studio.getByRole("button", { name: "提交审核" }).click();
    await expect.poll(() => studio.getByTestId("studio-status").innerText()).toBe("审核中");
    await checkFits(studio, `journey-submitted${at}`);

    // The operator rejects with a reason; the staff read it, fix the draft and submit again.
    await ops.reload();
    const review = ops.getByTestId("collection-review").filter({ hasText: work });
    await review.getByLabel("审核意见（驳回时必填）").fill("简介过短，请补充作品的年代与工艺");
    await review.getByRole("button", { name: `驳回 ${work}` }).click();
    await expect.poll(() => review.count(), { timeout: 15_000 }).toBe(0);
    await studio.reload();
    await studio.getByText("驳回原因：简介过短，请补充作品的年代与工艺").waitFor();
    await checkFits(studio, `journey-rejected${at}`);
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
    await checkFits(ops, `journey-ops-reviews${at}`);
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
    await checkFits(studio, `journey-dashboard${at}`);
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
    const orderNo = await buyToCashierThroughPage(page);
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

describe("the storefront's countdown on a phone", () => {
  it("keeps 距开售 and the time left each on one line in an upcoming tile at 390×844, and the artwork square", async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: "zh-CN" });
    const page = await context.newPage();
    await page.goto(platform.origin);
    const tile = page.getByTestId("collection-tile").filter({ hasText: "海水江崖纹" });
    const countdown = tile.locator(".countdown");
    await countdown.waitFor();
    // Each part's text, laid out: how many lines its boxes sit on, and its height against one line.
    type Layout = { text: string; lines: number; height: number; lineHeight: number };
    const layout = (part: string) =>
      page.evaluate<Layout>(`(() => {
        const tile = [...document.querySelectorAll('[data-testid="collection-tile"]')]
          .find((t) => t.textContent.includes("海水江崖纹"));
        const element = tile.querySelector(".countdown ${part}");
        const range = document.createRange();
        range.selectNodeContents(element);
        const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
        const style = getComputedStyle(element);
        const lineHeight = style.lineHeight === "normal" ? parseFloat(style.fontSize) * 1.2 : parseFloat(style.lineHeight);
        return { text: element.textContent, lines: tops.size, height: element.getBoundingClientRect().height, lineHeight };
      })()`);
    const label = await layout(".countdown-label");
    const digits = await layout(".countdown-digits");
    expect(label.text).toBe("距开售");
    expect(digits.text).toMatch(/\d{2}:\d{2}:\d{2}/);
    for (const part of [label, digits]) {
      expect(part.lines, part.text).toBe(1);
      expect(part.height, part.text).toBeLessThan(part.lineHeight * 1.5);
    }
    const widths = await page.evaluate<{ scroll: number; inner: number }>(
      "({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth })",
    );
    expect(widths.scroll).toBeLessThanOrEqual(widths.inner);
    // Every tile's artwork is square at its column's width, whatever the artwork's own shape.
    await page.waitForLoadState("load");
    const artwork = await page.evaluate<{ width: number; height: number }[]>(
      `[...document.querySelectorAll('[data-testid="collection-tile"] .media')].map((m) => {
        const r = m.getBoundingClientRect();
        return { width: Math.round(r.width), height: Math.round(r.height) };
      })`,
    );
    expect(artwork.length).toBeGreaterThan(1);
    for (const box of artwork) expect(Math.abs(box.height - box.width), JSON.stringify(box)).toBeLessThanOrEqual(1);
    await shot(page, "consoles-home-countdown-phone");
    await context.close();
  }, 60_000);
});

describe("a takedown by four eyes", () => {
  it("one operator requests it, cannot approve it, a second approves; the storefront, certificate and verify page say so", async () => {
    // A collector holds a minted edition of the collection first (bought and paid in the browser).
    const holder = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: "zh-CN" });
    const page = await holder.newPage();
    await logInThroughPage(page, platform, "13800000004", "/");
    await page.getByTestId("collection-tile").filter({ hasText: "玉璧" }).first().click();
    await page.waitForURL(/\/c\/\d+$/);
    const collectionPath = new URL(page.url()).pathname;
    const collectionId = collectionPath.split("/").at(-1)!;
    const orderNo = await buyAndPayThroughPage(page);
    await page.getByTestId("minted-token").first().waitFor({ timeout: 90_000 });
    await page.getByTestId("minted-token").first().click();
    await page.getByTestId("certificate").waitFor();
    const certificatePath = new URL(page.url()).pathname;
    const verifyPath = (await page.getByRole("link", { name: "公开验证页" }).getAttribute("href"))!;
    expect(verifyPath).toMatch(/^\/verify\/0x[0-9a-fA-F]{40}\/\d+$/);

    // Operator A asks for the takedown, with a category and a reason, after a confirmation.
    const reason = "监管部门通知：作品权属存疑，暂停发行";
    const { context: contextA, page: a } = await loggedIn(operatorPhone, "/ops?tab=compliance");
    await a.getByText("发起下架或找回（需另一名运营人员批准）").waitFor();
    await a.locator("#compliance-collection").fill(collectionId);
    await a.locator("#compliance-code").selectOption("2");
    await a.locator("#compliance-reason").fill(reason);
    await a.getByTestId("request-takedown").click();
    expect(await a.getByTestId("compliance-confirm-text").innerText()).toMatch(
      new RegExp(`^将下架系列 #${collectionId}：链上整体销毁`),
    );
    await a.getByTestId("compliance-confirm").click();
    await a.getByText(/已提交申请 #\d+，等待另一名运营人员批准/).waitFor();
    const request = a.getByTestId("compliance-request").filter({ hasText: reason });
    await request.waitFor();
    const requestText = (await request.innerText()).replace(/\s+/g, " ");
    expect(requestText).toMatch(/下架整个系列 · 玉璧·谷纹 监管部门要求 · 监管部门通知/);
    expect(requestText).toMatch(/申请人 138\*\*\*\*0001/);

    // A may not approve their own request: refused in words, and nothing changes.
    await request.getByRole("button", { name: "批准" }).click();
    await a.getByText("不能批准或驳回本人发起的操作，须由另一名运营人员处理").waitFor();
    await checkFits(a, "takedown-own-request-refused");
    await a.reload();
    await request.waitFor();
    await logOut(a);
    await contextA.close();

    // Operator B approves it; it is sent to the chain.
    const { context: contextB, page: b } = await loggedIn(secondOperatorPhone, "/ops?tab=compliance");
    const pendingForB = b.getByTestId("compliance-request").filter({ hasText: reason });
    await pendingForB.getByRole("button", { name: "批准" }).click();
    await expect.poll(() => pendingForB.count(), { timeout: 15_000 }).toBe(0);
    await expect
      .poll(
        async () => {
          await b.reload();
          await b.getByRole("heading", { name: "最近的合规操作" }).waitFor();
          return b
            .locator("section[aria-labelledby=compliance-recent] li")
            .filter({ hasText: "玉璧·谷纹" })
            .first()
            .innerText()
            .then((text) => text.replace(/\s+/g, " "));
        },
        { timeout: 90_000, interval: 3_000 },
      )
      .toMatch(/下架整个系列 · 玉璧·谷纹 · 已完成 · 0x/);
    await checkFits(b, "takedown-approved");
    // The paying buyer's refund is requested with the takedown (docs/compliance.md): the audit log names the order.
    await b.getByRole("tab", { name: "审计日志" }).click();
    await b.getByTestId("audit-rows").waitFor();
    await b.locator("#audit-action").selectOption("refund.requested");
    const refundRow = b.getByTestId("audit-rows").locator("tbody tr").filter({ hasText: orderNo });
    await expect.poll(() => refundRow.count(), { timeout: 15_000 }).toBe(1);
    expect((await refundRow.innerText()).replace(/\s+/g, " ")).toMatch(/发起退款.*takedown/);
    await logOut(b);
    await contextB.close();

    // The storefront: 已下架, and no artwork on the collection page.
    await page.goto(`${platform.origin}${collectionPath}`);
    await page.getByTestId("taken-down").waitFor();
    expect(await page.locator("main").innerText()).toContain("已下架");
    expect(await page.locator("main img, main picture, main video, main model-viewer").count()).toBe(0);
    await checkFits(page, "takedown-collection");

    // The certificate and the public verification page: the token existed and was burned by the takedown.
    await page.goto(`${platform.origin}${certificatePath}`);
    await page.getByTestId("taken-down").waitFor();
    expect(await page.getByTestId("certificate").innerText()).toMatch(/已下架 原因：监管部门要求（原因代码 2）/);
    await page.goto(`${platform.origin}${verifyPath}`);
    await page.getByTestId("verify-taken-down").waitFor({ timeout: 30_000 });
    expect(await page.getByTestId("verify-takedown-facts").innerText()).toMatch(
      /^该藏品真实存在，已因整个系列被下架而销毁（原因：监管部门要求，原因代码 2），链上交易：\s*0x[0-9a-f]{64}$/,
    );
    await checkFits(page, "takedown-verify");

    await holder.close();
  }, 400_000);
});
