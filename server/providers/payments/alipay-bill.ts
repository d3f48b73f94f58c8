import { neutralStatement, parseAlipayStatement } from "./alipay-statement.js";
import { fetchBillFile } from "./bill-download.js";
import { type ProviderStatement, PaymentOperationError, PaymentStatementError } from "./types.js";
import { readZip } from "./zip.js";

/** An answer of Alipay's gateway as the SDK gives it (snake_case fields). */
export type AlipayResult = Record<string, unknown> & { code: string; msg: string; sub_code?: string; sub_msg?: string };

/** A signed call to Alipay's gateway (the provider's, through the official SDK). */
export type AlipayCall = (method: string, bizContent: Record<string, unknown>) => Promise<AlipayResult>;

export interface AlipayBillLimits {
  /** Where bill files may be downloaded from: origins, or host suffixes (".alipay.com", HTTPS only). */
  origins: readonly string[];
  timeoutMs: number;
  /** The largest bill archive (and detail file) accepted, in bytes. */
  maxBytes: number;
}

const billHostAllowed = (url: URL, origins: readonly string[]) =>
  origins.some((allowed) =>
    allowed.startsWith(".") ? url.protocol === "https:" && url.hostname.endsWith(allowed) : url.origin === allowed,
  );

/** Downloads the bill archive (a ZIP) and returns the GBK-decoded text of its detail file (业务明细). */
async function downloadBill(downloadUrl: string, limits: AlipayBillLimits): Promise<string> {
  let url: URL;
  try {
    url = new URL(downloadUrl);
  } catch {
    throw new PaymentStatementError("format", "bill: the bill_download_url is not a URL");
  }
  if (!billHostAllowed(url, limits.origins))
    throw new PaymentStatementError("format", "bill: the bill_download_url is not Alipay's");
  const bytes = await fetchBillFile(
    url,
    { redirect: "error" },
    { label: "bill download", timeoutMs: limits.timeoutMs, maxBytes: limits.maxBytes },
  );
  let entries;
  try {
    entries = readZip(bytes, { maxEntryBytes: limits.maxBytes });
  } catch (error) {
    throw new PaymentStatementError("format", `bill download: ${(error as Error).message}`);
  }
  // The archive holds the detail file and its summary (…_业务明细(汇总).csv); the detail is what we read.
  const details = entries.filter((entry) => /_业务明细\.csv$/.test(entry.name));
  if (details.length !== 1)
    throw new PaymentStatementError("format", `bill download: ${details.length} detail files in the archive`);
  return new TextDecoder("gbk").decode(details[0]!.data);
}

/**
 * A day's trade bill from Alipay: the download URL asked of the gateway
 * (alipay.data.dataservice.bill.downloadurl.query), the archive fetched from
 * Alipay's hosts, its detail file read as provider-neutral rows.
 */
export async function alipayStatement(
  call: AlipayCall,
  day: string,
  limits: AlipayBillLimits,
): Promise<ProviderStatement> {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new PaymentOperationError("invalid-request", "day must be YYYY-MM-DD");
  let result: AlipayResult;
  try {
    result = await call("alipay.data.dataservice.bill.downloadurl.query", { bill_type: "trade", bill_date: day });
  } catch (error) {
    // The SDK throws on a response whose signature does not verify, as on a network failure or timeout.
    const message = error instanceof Error ? error.message : "";
    const signature = message.includes("验签"); // "验签失败…": the SDK's words for a bad response signature
    throw new PaymentStatementError(signature ? "signature" : "unavailable", "bill: the gateway's answer is refused");
  }
  if (result.code !== "10000") {
    // Alipay produces a day's bill the next morning; until then (and for a day it has none) it does not exist.
    if (result.sub_code === "isp.bill_not_exist")
      throw new PaymentStatementError("not-ready", "bill: Alipay has no bill for that day (yet)");
    throw new PaymentStatementError("unavailable", `bill: ${result.code} ${result.sub_code ?? result.msg}`);
  }
  if (typeof result.bill_download_url !== "string")
    throw new PaymentStatementError("format", "bill: no bill_download_url in the answer");
  const csv = await downloadBill(result.bill_download_url, limits);
  try {
    return neutralStatement("alipay", day, parseAlipayStatement(csv));
  } catch (error) {
    throw new PaymentStatementError("format", `bill: ${(error as Error).message}`);
  }
}
