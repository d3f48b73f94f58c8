import { PaymentStatementError } from "./types.js";

/**
 * Fetches a provider's bill file (the answer is not signed: the caller checks
 * it) within a time and size limit. No answer, no connection or an error
 * status is `unavailable`; a file over the limit is `format`.
 */
export async function fetchBillFile(
  url: URL,
  init: RequestInit,
  limits: { label: string; timeoutMs: number; maxBytes: number },
): Promise<Buffer> {
  const { label, timeoutMs, maxBytes } = limits;
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) {
      await response.body?.cancel();
      throw new PaymentStatementError("unavailable", `${label}: HTTP ${response.status}`);
    }
    if (Number(response.headers.get("content-length") ?? "0") > maxBytes) {
      await response.body?.cancel();
      throw new PaymentStatementError("format", `${label}: the file is too large`);
    }
    return Buffer.from(await response.arrayBuffer());
  } catch (error) {
    if (error instanceof PaymentStatementError) throw error;
    const name = error instanceof Error ? error.name : "";
    const why = name === "TimeoutError" || name === "AbortError" ? `no answer within ${timeoutMs} ms` : "no connection";
    throw new PaymentStatementError("unavailable", `${label}: ${why}`);
  }
}
