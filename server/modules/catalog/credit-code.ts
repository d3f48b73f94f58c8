/**
 * Unified social credit codes of organisations (GB 32100-2015): 18
 * characters from a 31-character alphabet (digits and capitals without
 * I, O, S, V, Z); the last is a check character over the first 17 with
 * weights 3^i mod 31.
 */
const ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

export function creditCodeCheckCharacter(first17: string): string | null {
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const value = ALPHABET.indexOf(first17[i] ?? "");
    if (value < 0) return null;
    sum += value * WEIGHTS[i]!;
  }
  return ALPHABET[(31 - (sum % 31)) % 31]!;
}

export type CreditCodeResult =
  { ok: true; normalised: string } | { ok: false; code: "issuer.creditCode.format" | "issuer.creditCode.checksum" };

export function parseCreditCode(input: string): CreditCodeResult {
  const normalised = input.trim().toUpperCase();
  if (!/^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/.test(normalised)) {
    return { ok: false, code: "issuer.creditCode.format" };
  }
  if (creditCodeCheckCharacter(normalised.slice(0, 17)) !== normalised[17]) {
    return { ok: false, code: "issuer.creditCode.checksum" };
  }
  return { ok: true, normalised };
}
