import { generateKeyPairSync } from "node:crypto";
import { crc32 as zlibCrc32 } from "node:zlib";

import { sql } from "drizzle-orm";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { buildHttpApp } from "../../server/http/app.js";
import { formatChinaTime } from "../../server/providers/payments/alipay-notification.js";
import {
  type PaymentProvider,
  type ProviderStatement,
  PaymentStatementError,
} from "../../server/providers/payments/types.js";
import {
  createWechatpayPaymentProvider,
  parseWechatpayAuthorization,
} from "../../server/providers/payments/wechatpay.js";
import { parseWechatpayTradeBill } from "../../server/providers/payments/wechatpay-bill.js";
import {
  type TestPlatform,
  callerFor,
  createTestPlatform,
  databasesUnderTest,
  expectAppError,
  expectInputError,
  login,
  promote,
  publishedCollection,
  verifiedCollector,
} from "./helpers.js";
import { createAlipayPaymentProvider } from "../../server/providers/payments/alipay.js";
import { readZip } from "../../server/providers/payments/zip.js";
import { type AlipayGatewayStandIn, startAlipayGateway } from "./stand-ins/alipay-gateway.js";
import { type WechatpayGatewayStandIn, startWechatpayGateway } from "./stand-ins/wechatpay-gateway.js";

/**
 * Daily reconciliation with WeChat Pay's trade bill (交易账单): the bill is
 * asked for with a signed request, its signed answer gives the SHA1 and the
 * download URL, the unsigned file is checked against that SHA1 and read into
 * provider-neutral rows; `payments.reconcile` compares them with our payments.
 */
const merchant = generateKeyPairSync("rsa", { modulusLength: 2048 });
const platformKeys = generateKeyPairSync("rsa", { modulusLength: 2048 });
const pem = (key: typeof merchant.privateKey) => key.export({ type: "pkcs8", format: "pem" }).toString();
const spki = (key: typeof merchant.publicKey) => key.export({ type: "spki", format: "pem" }).toString();
const APP_ID = "wx8888888888888888";
const MCH_ID = "1230000109";
const MCH_SERIAL = "444F4864EA9B34415C2E8C9A0A5C2E1E29B1D8C0";
const PUB_KEY_ID = "PUB_KEY_ID_0112300001092026120200000000000001";
const API_V3_KEY = "0123456789abcdefghijABCDEFGHIJ01";
const ORIGIN = "https://shop.example.test";
const NOTIFY_URL = `${ORIGIN}/pay/notify/wechatpay`;

const gatewayInput = {
  appId: APP_ID,
  mchId: MCH_ID,
  mchSerial: MCH_SERIAL,
  merchantPublicKey: merchant.publicKey,
  platformPrivateKey: platformKeys.privateKey,
  platformPublicKeyId: PUB_KEY_ID,
  apiV3Key: API_V3_KEY,
};

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

describe("WeChat Pay's trade bill through the live provider", () => {
  let gateway: WechatpayGatewayStandIn;
  const providerWith = (overrides: Partial<Parameters<typeof createWechatpayPaymentProvider>[0]> = {}) =>
    createWechatpayPaymentProvider({
      appId: APP_ID,
      mchId: MCH_ID,
      mchSerial: MCH_SERIAL,
      privateKey: pem(merchant.privateKey),
      apiV3Key: API_V3_KEY,
      platformPublicKey: spki(platformKeys.publicKey),
      platformPublicKeyId: PUB_KEY_ID,
      refundNotifyUrl: NOTIFY_URL,
      gateway: gateway.url,
      timeoutMs: 2_000,
      ...overrides,
    });
  let provider: PaymentProvider;
  // 2026-12-01 in China: 10:00, 11:30 and 23:59:59; the next day at 00:00:01.
  const at = (iso: string) => new Date(iso);
  const DAY = "2026-12-01";

  beforeAll(async () => {
    gateway = await startWechatpayGateway(gatewayInput);
    provider = providerWith();
    const open = (outTradeNo: string, amountFen: number, subject = `数字藏品订单 ${outTradeNo}`) =>
      provider.createIntent({
        outTradeNo,
        amountFen,
        subject,
        expiresAt: new Date(Date.now() + 10 * 60_000),
        notifyUrl: NOTIFY_URL,
      });
    await open("SZ20261201AAAAAAAAAAA1", 1990, "藏品,限量版"); // a comma in 商品名称
    await open("SZ20261201AAAAAAAAAAA2", 500);
    await open("SZ20261201AAAAAAAAAAA3", 12345);
    await open("SZ20261201AAAAAAAAAAA4", 800); // never paid
    await open("SZ20261201AAAAAAAAAAA5", 700); // paid the next day
    gateway.pay("SZ20261201AAAAAAAAAAA1", at("2026-12-01T02:00:00Z"));
    gateway.pay("SZ20261201AAAAAAAAAAA2", at("2026-12-01T03:30:00Z"));
    gateway.pay("SZ20261201AAAAAAAAAAA3", at("2026-11-30T16:00:00Z"));
    gateway.pay("SZ20261201AAAAAAAAAAA5", at("2026-12-01T16:00:01Z"));
    // A partial refund of the 123.45 yuan trade, completed that day.
    expect(
      await provider.refund({
        outTradeNo: "SZ20261201AAAAAAAAAAA3",
        refundNo: "RF20261201AAAAAAAAAAA3",
        refundFen: 2345,
        totalFen: 12345,
      }),
    ).toEqual({ accepted: true });
    gateway.refundNotification("SZ20261201AAAAAAAAAAA3", "RF20261201AAAAAAAAAAA3", at("2026-12-01T15:59:59Z"));
  });
  afterAll(() => gateway?.close());

  const tradeNo = (outTradeNo: string) => gateway.trades.get(outTradeNo)!.transactionId;

  it("reads the day's payments and refunds, yuan to fen, from a file that matches its signed SHA1", async () => {
    const expected: ProviderStatement = {
      provider: "wechatpay",
      day: DAY,
      rows: [
        {
          outTradeNo: "SZ20261201AAAAAAAAAAA3",
          tradeNo: tradeNo("SZ20261201AAAAAAAAAAA3"),
          kind: "trade",
          amountFen: 12345,
          refundFen: 0,
          at: at("2026-11-30T16:00:00Z"),
        },
        {
          outTradeNo: "SZ20261201AAAAAAAAAAA1",
          tradeNo: tradeNo("SZ20261201AAAAAAAAAAA1"),
          kind: "trade",
          amountFen: 1990,
          refundFen: 0,
          at: at("2026-12-01T02:00:00Z"),
        },
        {
          outTradeNo: "SZ20261201AAAAAAAAAAA2",
          tradeNo: tradeNo("SZ20261201AAAAAAAAAAA2"),
          kind: "trade",
          amountFen: 500,
          refundFen: 0,
          at: at("2026-12-01T03:30:00Z"),
        },
        {
          outTradeNo: "SZ20261201AAAAAAAAAAA3",
          tradeNo: tradeNo("SZ20261201AAAAAAAAAAA3"),
          kind: "refund",
          amountFen: 12345,
          refundFen: 2345,
          at: at("2026-12-01T15:59:59Z"),
          refundNo: "RF20261201AAAAAAAAAAA3",
        },
      ],
    };
    const before = gateway.requests.length;
    expect(await provider.statement!(DAY)).toEqual(expected);
    // Two signed requests: the bill (gzip asked for), then its file at the path and query of download_url.
    const [bill, file] = gateway.requests.slice(before);
    expect(bill).toMatchObject({
      method: "GET",
      path: `/v3/bill/tradebill?bill_date=${DAY}&bill_type=ALL&tar_type=GZIP`,
    });
    expect(file!.path).toMatch(/^\/v3\/billdownload\/file\?token=[0-9a-f]+$/);
    expect([bill!.verified, file!.verified]).toEqual([true, true]);
    expect(parseWechatpayAuthorization(file!.headers.authorization)).toMatchObject({ mchid: MCH_ID });

    // Uncompressed, the same rows.
    expect(await providerWith({ gzipBills: false }).statement!(DAY)).toEqual(expected);
    // The next day: the trade paid a second after midnight, China time.
    expect((await provider.statement!("2026-12-02")).rows.map((row) => row.outTradeNo)).toEqual([
      "SZ20261201AAAAAAAAAAA5",
    ]);
  });

  it("reads a day without any trade as an empty bill, and one being generated as not ready", async () => {
    expect(await provider.statement!("2026-11-01")).toEqual({ provider: "wechatpay", day: "2026-11-01", rows: [] });
    gateway.failNext(400, "STATEMENT_CREATING", "账单生成中");
    const error = await rejection(provider.statement!(DAY));
    expect(error).toBeInstanceOf(PaymentStatementError);
    expect((error as PaymentStatementError).reason).toBe("not-ready");
  });

  it("refuses a bill file that does not match the SHA1 of the signed answer", async () => {
    for (const gzipBills of [true, false]) {
      gateway.tamperNextBill();
      const error = await rejection(providerWith({ gzipBills }).statement!(DAY));
      expect(error).toBeInstanceOf(PaymentStatementError);
      expect((error as PaymentStatementError).reason).toBe("digest");
    }
    // The file alone is still read (the stand-in's alteration keeps it well-formed): only the digest caught it.
    expect(await provider.statement!(DAY)).toMatchObject({ rows: { length: 4 } });
  });

  it("refuses a tradebill answer that is unsigned, forged, altered after signing or stale", async () => {
    for (const how of ["unsigned", "forge", "tamper", "stale"] as const) {
      gateway.misbehaveNext(how);
      const error = await rejection(provider.statement!(DAY));
      expect(error, how).toBeInstanceOf(PaymentStatementError);
      expect((error as PaymentStatementError).reason, how).toBe("signature");
    }
    // Signed by another key: the same.
    const stranger = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const error = await rejection(providerWith({ platformPublicKey: spki(stranger.publicKey) }).statement!(DAY));
    expect((error as PaymentStatementError).reason).toBe("signature");
  });

  it("does not send its signed request to a download_url off the gateway, nor take a malformed day", async () => {
    gateway.redirectNextBill("https://files.example.test");
    const before = gateway.requests.length;
    const error = await rejection(provider.statement!(DAY));
    expect(gateway.requests.length).toBe(before + 1);
    expect((error as PaymentStatementError).reason).toBe("format");
    expect(error.message).toMatch(/not on the gateway/);
    await expect(provider.statement!("2026/12/01")).rejects.toThrow(/YYYY-MM-DD/);
  });

  it("refuses a bill whose summary disagrees with its lines, or that is not a trade bill", async () => {
    const text = gateway.tradeBill(DAY)!;
    expect(parseWechatpayTradeBill(text).summary).toEqual({
      count: 4,
      settledFen: 1990 + 500 + 12345,
      refundFen: 2345,
      orderFen: 1990 + 500 + 12345 * 2,
    });
    const lines = text.split("\r\n");
    const withoutLine = [...lines.slice(0, 1), ...lines.slice(2)].join("\r\n");
    expect(() => parseWechatpayTradeBill(withoutLine)).toThrow(/总交易单数/);
    expect(() => parseWechatpayTradeBill(text.replace("`23.45,", "`23.44,"))).toThrow(/退款总金额/);
    expect(() => parseWechatpayTradeBill(text.replace("`19.90,", "`19.9x,"))).toThrow(/amount/);
    expect(() => parseWechatpayTradeBill(lines.slice(0, 3).join("\r\n"))).toThrow(/summary/);
    expect(() => parseWechatpayTradeBill("<html>maintenance</html>")).toThrow(/column/);
  });
});

describe("Alipay's trade bill through the live provider", () => {
  const alipayKeys = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const ALIPAY_APP_ID = "2021000000000001";
  const DAY = "2026-12-01";
  let gateway: AlipayGatewayStandIn;
  const providerWith = (overrides: Partial<Parameters<typeof createAlipayPaymentProvider>[0]> = {}) =>
    createAlipayPaymentProvider({
      appId: ALIPAY_APP_ID,
      privateKey: pem(merchant.privateKey),
      alipayPublicKey: spki(alipayKeys.publicKey),
      gateway: gateway.url,
      billDownloadOrigins: [new URL(gateway.url).origin],
      timeoutMs: 2_000,
      ...overrides,
    });
  let provider: PaymentProvider;

  beforeAll(async () => {
    gateway = await startAlipayGateway({
      appId: ALIPAY_APP_ID,
      merchantPublicKey: merchant.publicKey,
      alipayPrivateKey: alipayKeys.privateKey,
      notifyRetryMs: 60_000,
    });
    provider = providerWith();
    const open = (outTradeNo: string, amountFen: number, subject: string) =>
      provider.createIntent({
        outTradeNo,
        amountFen,
        subject,
        expiresAt: new Date(Date.now() + 10 * 60_000),
        notifyUrl: "http://127.0.0.1:9/pay/notify/alipay", // nobody listens: notifications are not the point here
      });
    await open("SZ20261201BBBBBBBBBBB1", 1990, "藏品,限量版");
    await open("SZ20261201BBBBBBBBBBB2", 12345, "数字藏品 “龙”");
    await open("SZ20261201BBBBBBBBBBB3", 500, "never paid");
    gateway.pay("SZ20261201BBBBBBBBBBB1", new Date("2026-12-01T02:00:00Z"));
    gateway.pay("SZ20261201BBBBBBBBBBB2", new Date("2026-11-30T16:00:00Z"));
    expect(
      await provider.refund({
        outTradeNo: "SZ20261201BBBBBBBBBBB2",
        refundNo: "RF20261201BBBBBBBBBBB2",
        refundFen: 2345,
        totalFen: 12345,
      }),
    ).toEqual({ accepted: true });
    gateway.trades.get("SZ20261201BBBBBBBBBBB2")!.refundedAt = new Date("2026-12-01T15:59:59Z");
  });
  afterAll(() => gateway?.close());

  it("reads the detail CSV (GBK) out of the downloaded ZIP into the day's payments and refunds", async () => {
    const tradeNo = (outTradeNo: string) => gateway.trades.get(outTradeNo)!.tradeNo;
    expect(await provider.statement!(DAY)).toEqual({
      provider: "alipay",
      day: DAY,
      rows: [
        {
          outTradeNo: "SZ20261201BBBBBBBBBBB2",
          tradeNo: tradeNo("SZ20261201BBBBBBBBBBB2"),
          kind: "trade",
          amountFen: 12345,
          refundFen: 0,
          at: new Date("2026-11-30T16:00:00Z"),
        },
        {
          outTradeNo: "SZ20261201BBBBBBBBBBB1",
          tradeNo: tradeNo("SZ20261201BBBBBBBBBBB1"),
          kind: "trade",
          amountFen: 1990,
          refundFen: 0,
          at: new Date("2026-12-01T02:00:00Z"),
        },
        {
          outTradeNo: "SZ20261201BBBBBBBBBBB2",
          tradeNo: tradeNo("SZ20261201BBBBBBBBBBB2"),
          kind: "refund",
          amountFen: 12345,
          refundFen: 2345,
          at: new Date("2026-12-01T15:59:59Z"),
          refundNo: "RF20261201BBBBBBBBBBB2",
        },
      ],
    });
    const request = gateway.requests.at(-1)!;
    expect(request.method).toBe("alipay.data.dataservice.bill.downloadurl.query");
    expect(JSON.parse(request.params.biz_content!)).toEqual({ bill_type: "trade", bill_date: DAY });
  });

  it("refuses a forged answer, a corrupt archive, and a download URL that is not Alipay's", async () => {
    gateway.forgeNextResponse();
    let error = await rejection(provider.statement!(DAY));
    expect(error).toBeInstanceOf(PaymentStatementError);
    expect((error as PaymentStatementError).reason).toBe("signature");

    gateway.corruptNextBill();
    error = await rejection(provider.statement!(DAY));
    expect((error as PaymentStatementError).reason).toBe("format");
    expect(error.message).toMatch(/ZIP entry/);

    // By default only Alipay's HTTPS hosts are trusted with a bill (the stand-in's is plain HTTP on 127.0.0.1).
    error = await rejection(providerWith({ billDownloadOrigins: undefined }).statement!(DAY));
    expect((error as PaymentStatementError).reason).toBe("format");
    expect(error.message).toMatch(/not Alipay's/);
  });

  it("reports a day Alipay has no bill for as not ready", async () => {
    const error = await rejection(provider.statement!("2026-11-01"));
    expect((error as PaymentStatementError).reason).toBe("not-ready");
  });

  it("reads stored and deflated ZIP entries and refuses what is not a ZIP", () => {
    expect(() => readZip(Buffer.from("PK not really"))).toThrow(/Not a ZIP/);
    // A stored entry with a UTF-8 name, written by hand: local header, data, central directory, end record.
    const name = Buffer.from("账单.csv", "utf8");
    const data = Buffer.from("a,b\n", "utf8");
    const crc = zlibCrc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(0x800, 6);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(0x800, 8);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(1, 8);
    end.writeUInt16LE(1, 10);
    end.writeUInt32LE(46 + name.length, 12);
    end.writeUInt32LE(30 + name.length + data.length, 16);
    const zip = Buffer.concat([local, name, data, central, name, end]);
    expect(readZip(zip)).toEqual([{ name: "账单.csv", data }]);
    const bad = Buffer.from(zip);
    bad[30 + name.length] = 0x41; // "A,b": the CRC-32 no longer matches
    expect(() => readZip(bad)).toThrow(/CRC-32/);
  });
});

describe("payments.reconcile with PAYMENT_PROVIDER=wechatpay (pglite)", () => {
  let gateway: WechatpayGatewayStandIn;
  let test: TestPlatform;
  let app: FastifyInstance;

  beforeAll(async () => {
    gateway = await startWechatpayGateway(gatewayInput);
    test = await createTestPlatform(databasesUnderTest()[0]!, {
      env: {
        PUBLIC_ORIGIN: ORIGIN,
        PAYMENT_PROVIDER: "wechatpay",
        WECHATPAY_APP_ID: APP_ID,
        WECHATPAY_MCH_ID: MCH_ID,
        WECHATPAY_MCH_SERIAL: MCH_SERIAL,
        WECHATPAY_PRIVATE_KEY: pem(merchant.privateKey),
        WECHATPAY_API_V3_KEY: API_V3_KEY,
        WECHATPAY_PLATFORM_PUBLIC_KEY: spki(platformKeys.publicKey),
        WECHATPAY_PLATFORM_PUBLIC_KEY_ID: PUB_KEY_ID,
        WECHATPAY_GATEWAY: gateway.url,
      },
    });
    app = await buildHttpApp(test.platform, { logger: false });
  });
  afterAll(async () => {
    await app?.close();
    await test?.close();
    await gateway?.close();
  });

  async function paidOrder(buyer: Awaited<ReturnType<typeof verifiedCollector>>, collectionId: number, key: string) {
    const order = await buyer.caller.drops.reserve({ collectionId, quantity: 1, idempotencyKey: key });
    await buyer.caller.payments.createIntent({ orderNo: order.orderNo });
    gateway.pay(order.orderNo, test.clock.now());
    const answer = await app.inject({
      method: "POST",
      url: "/pay/notify/wechatpay",
      ...(({ headers, body }) => ({ headers, payload: body }))(
        gateway.paymentNotification(order.orderNo, test.clock.now()),
      ),
    });
    expect(answer.statusCode).toBe(200);
    return order.orderNo;
  }

  it("finds a payment missing at WeChat Pay, one missing here, and an amount that differs", async () => {
    const collection = await publishedCollection(test, { priceFen: 1990, perPersonLimit: 3, editionSize: 10 });
    const buyer = await verifiedCollector(test);
    const first = await paidOrder(buyer, collection.id, "statements-1");
    const second = await paidOrder(buyer, collection.id, "statements-2");
    const third = await paidOrder(buyer, collection.id, "statements-3");
    const operator = await login(test);
    await promote(test.platform, operator.user.id, "operator");
    const { caller: ops } = await callerFor(test.platform, { token: operator.token });
    const day = formatChinaTime(test.clock.now()).slice(0, 10);
    const paidAt = test.clock.now();
    test.clock.advance(86_400_000);

    expect(await ops.payments.reconcile({ day })).toEqual({ day, trades: 3, payments: 3, refunds: 0, mismatches: [] });

    // WeChat Pay has no record of the first; it took another amount for the second; we never saw a fourth.
    gateway.trades.delete(first);
    gateway.trades.get(second)!.totalFen = 1900;
    const stranger = "SZ20261124FFFFFFFFFFFF";
    gateway.trades.set(stranger, {
      ...gateway.trades.get(third)!,
      outTradeNo: stranger,
      transactionId: "4200000000202612099999999999",
      refunds: new Map(),
    });
    const report = await ops.payments.reconcile({ day });
    expect(report).toMatchObject({ day, trades: 3, payments: 3 });
    expect(report.mismatches).toEqual(
      expect.arrayContaining([
        { outTradeNo: first, problem: "missing-there", ourFen: 1990 },
        { outTradeNo: second, problem: "amount-differs", ourFen: 1990, theirFen: 1900 },
        { outTradeNo: stranger, problem: "missing-here", theirFen: 1990 },
      ]),
    );
    expect(report.mismatches).toHaveLength(3);
    const audit = (await test.platform.db.execute(
      sql`select details from audit_log where action = 'payments.reconciled' order by seq desc limit 1`,
    )) as unknown as { rows: { details: Record<string, unknown> }[] };
    expect(audit.rows[0]?.details).toMatchObject({ provider: "wechatpay", trades: 3, payments: 3, mismatches: 3 });

    // A bill that cannot be believed is a clear refusal, not a report.
    gateway.tamperNextBill();
    const digest = await expectAppError(
      ops.payments.reconcile({ day }),
      "payments.statementFailed",
      "SERVICE_UNAVAILABLE",
    );
    expect(JSON.stringify(digest)).not.toMatch(/SZ\d{8}/);
    gateway.misbehaveNext("forge");
    await expectAppError(ops.payments.reconcile({ day }), "payments.statementFailed", "SERVICE_UNAVAILABLE");
    gateway.failNext(400, "STATEMENT_CREATING", "账单生成中");
    await expectAppError(ops.payments.reconcile({ day }), "payments.statementNotReady", "PRECONDITION_FAILED");
    await expectAppError(buyer.caller.payments.reconcile({ day }), "auth.forbidden", "FORBIDDEN");
    test.clock.set(paidAt);
  });

  it("refuses a malformed or impossible day before asking WeChat Pay", async () => {
    const operator = await login(test);
    await promote(test.platform, operator.user.id, "operator");
    const { caller: ops } = await callerFor(test.platform, { token: operator.token });
    const before = gateway.requests.length;
    for (const day of ["20261201", "2026-12-1", "2026-02-30", "2026-13-01", "2026-12-01T00:00"])
      await expectInputError(ops.payments.reconcile({ day }), "payments.dayInvalid");
    expect(gateway.requests.length).toBe(before);
  });

  it("refuses a provider without statements as before", async () => {
    const provider = test.platform.paymentProvider as { statement?: unknown };
    const statement = provider.statement;
    delete provider.statement;
    try {
      const operator = await login(test);
      await promote(test.platform, operator.user.id, "operator");
      const { caller: ops } = await callerFor(test.platform, { token: operator.token });
      await expectAppError(ops.payments.reconcile({ day: "2026-12-01" }), "payments.statementUnavailable");
    } finally {
      provider.statement = statement;
    }
  });
});
