import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import path from "node:path";

import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { sql } from "drizzle-orm";

import { openDatabase } from "../../server/db/client.js";
import { encodePng } from "../../server/demo/art.js";
import { makeIdNumber } from "../server/helpers.js";
import { recordFigures } from "../server/reliability-report.js";
import {
  type RunningPlatform,
  launchBrowser,
  logInThroughPage,
  screenshotDir,
  startPlatform,
  stepUpThroughPage,
} from "./platform.js";

/**
 * A collector's whole journey in real Chromium against `npm start`: log in,
 * verify, buy through the sandbox cashier, see the minted certificate; then
 * gift it, refused while locked and accepted once the chain's clock has
 * passed the unlock date.
 */
let platform: RunningPlatform;
let browser: Browser;
/** The collector's browser session, kept across both journeys (a second login would wait out the SMS resend interval). */
let collector: BrowserContext;
const collectorPhone = "13912340021";
const collectorIdNumber = makeIdNumber("19950612", "110105", "219");

/** The demo seed's invented ID numbers, computed the same way. */
function demoIdNumber(birthDate: string, sequence: string) {
  return makeIdNumber(birthDate, "110101", sequence);
}
let certificatePath = "";

async function shot(page: Page, name: string) {
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`) });
}

beforeAll(async () => {
  mkdirSync(screenshotDir, { recursive: true });
  platform = await startPlatform();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

describe("a collector buys a collectible", () => {
  it("logs in, verifies their identity, pays at the sandbox cashier and sees the minted certificate", async () => {
    collector = await browser.newContext({ viewport: { width: 430, height: 932 }, locale: "zh-CN" });
    const context = collector;
    const page = await context.newPage();

    await page.goto(platform.origin);
    await expect.poll(() => page.getByTestId("collection-tile").count(), { timeout: 30_000 }).toBe(3);
    await shot(page, "home");

    await page.getByTestId("collection-tile").filter({ hasText: "青绿山水" }).click();
    await page.getByRole("link", { name: "登录后购买" }).waitFor();
    await shot(page, "collection");
    const collectionPath = new URL(page.url()).pathname;

    await logInThroughPage(page, platform, collectorPhone, collectionPath);
    await page.getByRole("link", { name: "完成实名认证后购买" }).click();

    // Inline validation before anything is sent: a wrong check character is named.
    const valid = collectorIdNumber;
    const wrongCheck = valid.slice(0, 17) + (valid[17] === "1" ? "2" : "1");
    await page.getByLabel("真实姓名", { exact: true }).fill("王五");
    await page.getByLabel("身份证号", { exact: true }).fill(wrongCheck);
    await expect.poll(() => page.getByText("校验位不正确，请核对号码").isVisible(), { timeout: 15_000 }).toBe(true);
    await page.getByLabel("身份证号", { exact: true }).fill(valid);
    await page.getByText("格式正确").waitFor();
    await page.getByLabel(/我同意平台/).check();
    await page.getByRole("button", { name: "提交认证" }).click();
    // Binding an identity needs a fresh code (step-up); the form is sent again once it is confirmed.
    await stepUpThroughPage(page, platform, collectorPhone);
    await page.waitForURL(`**${collectionPath}`);

    await page.getByRole("button", { name: "立即购买" }).click();
    await page.waitForURL("**/checkout/**");
    await expect.poll(() => page.getByTestId("order-status").textContent(), { timeout: 30_000 }).toBe("待支付");
    await page.getByRole("button", { name: "去支付" }).click();
    const [cashier] = await Promise.all([
      context.waitForEvent("page"),
      page.getByRole("link", { name: "打开收银台" }).click(),
    ]);
    await cashier.getByRole("button", { name: /确认付款/ }).click();
    await cashier.getByText("付款成功").waitFor();
    await cashier.close();

    const tokenLink = page.getByTestId("minted-token").first();
    await tokenLink.waitFor({ timeout: 60_000 });
    await tokenLink.click();
    await page.getByTestId("certificate").waitFor();
    expect(await page.getByTestId("cert-edition").textContent()).toMatch(/^\d+ \/ 1000$/);
    await shot(page, "certificate");
    certificatePath = new URL(page.url()).pathname;
    await page.close();
  });
});

describe("gifting under the lock", () => {
  it("refuses before the unlock date and gifts once the chain's clock has passed it", async () => {
    expect(certificatePath).not.toBe("");
    const page = await collector.newPage();
    await page.goto(`${platform.origin}${certificatePath}`);
    await page.getByTestId("certificate").waitFor();
    expect(await page.getByTestId("gift-locked").textContent()).toMatch(/锁定期内不可转赠，.+起可转赠/);
    await expect(page.getByLabel("受赠人手机号 / 收藏者编号").count()).resolves.toBe(0);

    // 181 days later on the chain, which enforces the 180-day lock.
    await platform.rpc("evm_increaseTime", [181 * 86_400]);
    await platform.rpc("evm_mine");
    await page.reload();
    await page.getByLabel("受赠人手机号 / 收藏者编号").fill("13800000004");
    await page.getByRole("button", { name: "查找" }).click();
    expect(await page.getByTestId("gift-confirm").textContent()).toContain("李*");
    await page.getByRole("button", { name: "确认转赠" }).click();
    // Each gift needs its own fresh code (step-up).
    await shot(page, "gift-step-up");
    await stepUpThroughPage(page, platform, collectorPhone);
    await page.getByTestId("gift-sent").or(page.locator(".form-error")).waitFor({ timeout: 30_000 });
    expect(
      await page.locator(".form-error").count(),
      await page.locator(".form-error").allTextContents().then(String),
    ).toBe(0);
    await shot(page, "gift-sent");

    // The data export carries the full ID number: it too asks for a fresh code, then downloads.
    await page.goto(`${platform.origin}/me?tab=account`);
    await page.getByRole("button", { name: "导出我的数据" }).click();
    const [download] = await Promise.all([
      page.waitForEvent("download", { timeout: 60_000 }),
      stepUpThroughPage(page, platform, collectorPhone),
    ]);
    const exported = JSON.parse(await readFile((await download.path())!, "utf8")) as {
      identity: { idNumber: string } | null;
    };
    expect(exported.identity?.idNumber).toBe(collectorIdNumber);
    await collector.close();
  });
});

describe("artwork on a phone", () => {
  it("fetches AVIF variants sized for a 390 px DPR 3 screen, never the originals, on the home and collection pages", async () => {
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 3,
      isMobile: true,
      locale: "zh-CN",
    });
    try {
      const page = await phone.newPage();
      const artwork: string[] = [];
      page.on("request", (request) => {
        const { pathname } = new URL(request.url());
        if (pathname.startsWith("/media/")) artwork.push(pathname);
      });
      await page.goto(platform.origin);
      await expect.poll(() => page.getByTestId("collection-tile").count(), { timeout: 30_000 }).toBe(3);
      // The first row is above the fold: both its tiles load (eagerly) as variants.
      await expect.poll(() => artwork.length, { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
      await page.getByTestId("collection-tile").first().click();
      await page.locator("article picture img").waitFor();
      await expect
        .poll(
          () =>
            page.locator("article picture img").evaluate((img) => (img as unknown as { complete: boolean }).complete),
          {
            timeout: 30_000,
          },
        )
        .toBe(true);
      const shown = await page
        .locator("article picture img")
        .evaluate((img) => (img as unknown as { currentSrc: string }).currentSrc);
      expect(new URL(shown).pathname).toMatch(/^\/media\/[0-9a-f]{64}\/\d+\.avif$/);
      // The demo artwork is 512 px wide: its largest variant is 512 (195 CSS px × 3 asks for more than 320).
      expect(artwork.length).toBeGreaterThan(0);
      for (const path of artwork) expect(path).toMatch(/^\/media\/[0-9a-f]{64}\/512\.avif$/);
    } finally {
      await phone.close();
    }
  });
});

describe("npm run smoke", () => {
  it("passes against the running platform: health, demo collections, login, purchase, mint, chain verification", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "scripts/smoke.ts"], {
      env: { ...process.env, SMOKE_ORIGIN: platform.origin, DATA_DIR: platform.dataDir },
    });
    expect(stdout).toContain("storefront lists 3 collections");
    expect(stdout).toMatch(/minted token #\d+/);
    expect(stdout).toContain("smoke: all checks passed");
  });
});

describe("from draft to sale", () => {
  it("an issuer drafts a collection, an operator approves it, the issuer publishes it and a collector buys it", async () => {
    const artwork = path.join(platform.dataDir, "e2e-artwork.png");
    writeFileSync(
      artwork,
      encodePng(64, (x, y) => [x * 4, y * 4, 128]),
    );
    const title = "端到端测试藏品";

    const issuer = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "zh-CN" });
    const studio = await issuer.newPage();
    await logInThroughPage(studio, platform, "13800000002", "/studio");
    await studio.getByRole("link", { name: "新建藏品" }).click();
    await studio.getByLabel("作品名称").fill(title);
    await studio.getByLabel("创作者").fill("测试创作者");
    await studio.getByLabel("简介").fill("端到端测试的作品简介。");
    await studio.getByLabel("作品故事").fill("它由测试在浏览器里上传、审核、发布并售出。");
    await studio.getByLabel("作品文件").setInputFiles(artwork);
    await studio.getByText("两者一致，将记录上链").waitFor();
    await studio.getByLabel("发行数量").fill("50");
    await studio.getByLabel("价格（元）").fill("9.90");
    // A sale may not start in the past: it opens two minutes from now (the buyer below waits for it).
    const opensAt = Date.now() + 120_000;
    const inTwoMinutes = new Date(opensAt + 8 * 3600_000).toISOString().slice(0, 16);
    await studio.getByLabel("开售时间").fill(inTwoMinutes);
    await studio.getByRole("button", { name: "保存草稿" }).click();
    await studio.waitForURL(/\/studio\/\d+$/);
    await studio.getByRole("button", { name: "提交审核" }).click();
    await expect.poll(() => studio.getByTestId("studio-status").textContent(), { timeout: 30_000 }).toBe("审核中");

    const operator = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "zh-CN" });
    const ops = await operator.newPage();
    await logInThroughPage(ops, platform, "13800000001", "/ops");
    const review = ops.getByTestId("collection-review").filter({ hasText: title });
    await review.getByRole("button", { name: `通过 ${title}` }).click();
    await review.waitFor({ state: "detached" });
    await operator.close();

    await studio.reload();
    await studio.getByRole("button", { name: "上链发布" }).click();
    await expect.poll(() => studio.getByTestId("studio-status").textContent(), { timeout: 30_000 }).toBe("已上链发布");
    await studio.getByTestId("sales-panel").waitFor();

    const buyer = await browser.newContext({ viewport: { width: 430, height: 932 }, locale: "zh-CN" });
    const page = await buyer.newPage();
    await logInThroughPage(page, platform, "13800000004", "/");
    await page.getByTestId("collection-tile").filter({ hasText: title }).click();
    await page.waitForTimeout(Math.max(0, opensAt - Date.now()));
    await expect
      .poll(
        async () => {
          if (await page.getByRole("button", { name: "立即购买" }).isVisible()) return true;
          await page.reload();
          await page.waitForTimeout(2_000);
          return false;
        },
        { timeout: 60_000 },
      )
      .toBe(true);
    await page.getByRole("button", { name: "立即购买" }).click();
    await page.waitForURL("**/checkout/**");
    await page.getByRole("button", { name: "去支付" }).click();
    const [cashier] = await Promise.all([
      buyer.waitForEvent("page"),
      page.getByRole("link", { name: "打开收银台" }).click(),
    ]);
    await cashier.getByRole("button", { name: /确认付款/ }).click();
    await cashier.getByText("付款成功").waitFor();
    await page.getByTestId("minted-token").first().waitFor({ timeout: 60_000 });
    await buyer.close();

    await studio.reload();
    await expect.poll(() => studio.getByTestId("sales-panel").textContent(), { timeout: 20_000 }).toContain("¥9.90");
    await shot(studio, "studio-sales");
    await issuer.close();
  }, 360_000);
});

describe("after the whole run", () => {
  it("left no name, ID number or phone number in plaintext in the server's output or any database table", async () => {
    await platform.stop();
    const secrets = [
      "王五",
      collectorIdNumber,
      collectorPhone,
      "张三",
      "李四",
      demoIdNumber("19900307", "123"),
      demoIdNumber("19881122", "456"),
    ];
    // The start-up banner prints the demo accounts' invented names and numbers on purpose; everything after it is scanned.
    const output = platform.output();
    const afterBanner = output.slice(output.indexOf("Ready:"));
    const logHits = [collectorPhone, "王五", collectorIdNumber].filter((s) => afterBanner.includes(s));

    const database = await openDatabase({ pgliteDataDir: path.join(platform.dataDir, "pglite") });
    const tableHits: string[] = [];
    let scannedRows = 0;
    try {
      const tables = (await database.db.execute(
        sql`select tablename from pg_tables where schemaname = 'public'`,
      )) as unknown as { rows: { tablename: string }[] };
      for (const { tablename } of tables.rows) {
        const rows = (await database.db.execute(sql.raw(`select t::text as row from "${tablename}" t`))) as unknown as {
          rows: { row: string }[];
        };
        scannedRows += rows.rows.length;
        for (const { row } of rows.rows) {
          for (const secret of secrets) if (row.includes(secret)) tableHits.push(`${tablename}: ${secret}`);
        }
      }
    } finally {
      await database.close();
    }
    recordFigures("pii_leak_scan", {
      searched_for: secrets.length,
      log_bytes_scanned: afterBanner.length,
      tables_rows_scanned: scannedRows,
      log_hits: logHits.length,
      table_hits: tableHits.length,
    });
    expect(logHits).toEqual([]);
    expect(tableHits).toEqual([]);
    expect(scannedRows).toBeGreaterThan(100);
  });
});
