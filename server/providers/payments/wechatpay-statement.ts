import { createHash, timingSafeEqual } from "node:crypto";
import { gunzipSync } from "node:zlib";

import { z } from "zod";

import { fetchBillFile } from "./bill-download.js";
import { parseWechatpayTradeBill } from "./wechatpay-bill.js";
import {
  type WechatpayAnswer,
  type WechatpayGateway,
  WechatpayGatewayError,
  failure,
  isOk,
  safeJson,
} from "./wechatpay-gateway.js";
import { type ProviderStatement, PaymentOperationError, PaymentStatementError } from "./types.js";

/**
 * A day's trade bill from WeChat Pay: the tradebill call (signed answer with
 * the file's SHA1), the file downloaded from the gateway (unsigned, so its
 * SHA1 must match), read as provider-neutral rows.
 */

export interface WechatpayBillOptions {
  /** The API's base URL: bill files are only fetched from its origin. */
  gateway: string;
  /** Ask for trade bills gzip-compressed (tar_type=GZIP). */
  gzipBills: boolean;
  /** The largest bill file accepted, in bytes (after decompression). */
  maxBillBytes: number;
  timeoutMs: number;
}

const billSchema = z.looseObject({
  hash_type: z.literal("SHA1"),
  hash_value: z.string().regex(/^[0-9a-fA-F]{40}$/),
  download_url: z.string().min(1),
});

/** Downloads a bill file: signed like any request, but its answer is not (WeChat Pay does not sign files). */
async function download(api: WechatpayGateway, downloadUrl: string, options: WechatpayBillOptions): Promise<Buffer> {
  let url: URL;
  try {
    url = new URL(downloadUrl);
  } catch {
    throw new PaymentStatementError("format", "tradebill: the download_url is not a URL");
  }
  // The request carries our signed Authorization: it goes to the gateway we call, nowhere else.
  if (url.origin !== new URL(options.gateway).origin)
    throw new PaymentStatementError("format", "tradebill: the download_url is not on the gateway");
  const bytes = await fetchBillFile(
    url,
    { method: "GET", headers: api.headers("GET", `${url.pathname}${url.search}`, "", "*/*") },
    { label: "billdownload", timeoutMs: options.timeoutMs, maxBytes: options.maxBillBytes },
  );
  if (!options.gzipBills) return bytes;
  try {
    return gunzipSync(bytes, { maxOutputLength: options.maxBillBytes });
  } catch {
    throw new PaymentStatementError("format", "billdownload: the file is not gzip (or is too large)");
  }
}

export async function wechatpayStatement(
  api: WechatpayGateway,
  day: string,
  options: WechatpayBillOptions,
): Promise<ProviderStatement> {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new PaymentOperationError("invalid-request", "day must be YYYY-MM-DD");
  const query = `bill_date=${day}&bill_type=ALL${options.gzipBills ? "&tar_type=GZIP" : ""}`;
  let answer: WechatpayAnswer;
  try {
    answer = await api.call("tradebill", "GET", `/v3/bill/tradebill?${query}`);
  } catch (error) {
    if (!(error instanceof WechatpayGatewayError)) throw error;
    throw new PaymentStatementError(error.reason === "signature" ? "signature" : "unavailable", error.message);
  }
  if (!isOk(answer)) {
    // A signed "no bill": no successful trade that day, so an empty bill. Not generated yet: not ready.
    if (answer.signed && answer.code === "NO_STATEMENT_EXIST") return { provider: "wechatpay", day, rows: [] };
    if (answer.signed && answer.code === "STATEMENT_CREATING")
      throw new PaymentStatementError("not-ready", "tradebill: the bill is being generated");
    const error = failure("tradebill", answer);
    throw new PaymentStatementError(
      error instanceof PaymentOperationError && error.code === "invalid-request" ? "format" : "unavailable",
      error.message,
    );
  }
  const parsed = billSchema.safeParse(safeJson(answer.body));
  if (!parsed.success) throw new PaymentStatementError("format", "tradebill: unexpected answer body");
  const file = await download(api, parsed.data.download_url, options);
  // The file is unsigned: the SHA1 in the signed answer is what vouches for it.
  const digest = createHash("sha1").update(file).digest();
  if (!timingSafeEqual(digest, Buffer.from(parsed.data.hash_value, "hex")))
    throw new PaymentStatementError("digest", "billdownload: the file does not match its SHA1");
  try {
    return { provider: "wechatpay", day, rows: parseWechatpayTradeBill(file.toString("utf8")).rows };
  } catch (error) {
    throw new PaymentStatementError("format", `billdownload: ${(error as Error).message}`);
  }
}
