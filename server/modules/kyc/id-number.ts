import type { ErrorCode } from "../../errors.js";

/**
 * Mainland resident identity card numbers (GB 11643-1999): six digits of
 * region, eight of birth date (YYYYMMDD), three of sequence, and a check
 * character by ISO 7064 MOD 11-2 (`0`-`9` or `X`).
 */

/** Province-level region codes: the 31 mainland provinces, Taiwan, Hong Kong, Macao and residence permits (83). */
export const PROVINCE_CODES: ReadonlySet<string> = new Set([
  "11", "12", "13", "14", "15",
  "21", "22", "23",
  "31", "32", "33", "34", "35", "36", "37",
  "41", "42", "43", "44", "45", "46",
  "50", "51", "52", "53", "54",
  "61", "62", "63", "64", "65",
  "71", "81", "82", "83",
]); // prettier-ignore

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARACTERS = "10X98765432";

export interface ParsedIdNumber {
  /** Upper-case, trimmed: the form that is encrypted and committed. */
  normalised: string;
  birthDate: { year: number; month: number; day: number };
}

export type IdNumberResult = { ok: true; value: ParsedIdNumber } | { ok: false; code: ErrorCode };

/** The check character of the first 17 digits. */
export function checkCharacter(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * WEIGHTS[i]!;
  return CHECK_CHARACTERS[sum % 11]!;
}

/** A calendar date in China (UTC+8), which decides birthdays and ages. */
export function chinaDate(now: Date): { year: number; month: number; day: number } {
  const shifted = new Date(now.getTime() + 8 * 3600_000);
  return { year: shifted.getUTCFullYear(), month: shifted.getUTCMonth() + 1, day: shifted.getUTCDate() };
}

function isValidDate(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function compareDates(a: { year: number; month: number; day: number }, b: typeof a): number {
  return a.year - b.year || a.month - b.month || a.day - b.day;
}

/** Checks format, region, birth date (real, not in the future) and check character, in that order. */
export function parseIdNumber(input: string, now: Date): IdNumberResult {
  const normalised = input.trim().toUpperCase();
  if (!/^\d{17}[\dX]$/.test(normalised)) return { ok: false, code: "kyc.idNumber.format" };
  if (!PROVINCE_CODES.has(normalised.slice(0, 2))) return { ok: false, code: "kyc.idNumber.province" };
  const year = Number(normalised.slice(6, 10));
  const month = Number(normalised.slice(10, 12));
  const day = Number(normalised.slice(12, 14));
  if (year < 1900 || !isValidDate(year, month, day)) return { ok: false, code: "kyc.idNumber.birthDate" };
  const birthDate = { year, month, day };
  if (compareDates(birthDate, chinaDate(now)) > 0) return { ok: false, code: "kyc.idNumber.futureBirthDate" };
  if (checkCharacter(normalised.slice(0, 17)) !== normalised[17]) return { ok: false, code: "kyc.idNumber.checksum" };
  return { ok: true, value: { normalised, birthDate } };
}

/** Whole years of age on `now` (China time); a person born on 29 February turns a year older on 1 March in common years. */
export function ageOn(birthDate: ParsedIdNumber["birthDate"], now: Date): number {
  const today = chinaDate(now);
  let age = today.year - birthDate.year;
  if (compareDates({ year: today.year, month: birthDate.month, day: birthDate.day }, today) > 0) age--;
  return age;
}

/** `1101**********123X`: region and last four kept. */
export function maskIdNumber(normalised: string): string {
  return `${normalised.slice(0, 4)}${"*".repeat(normalised.length - 8)}${normalised.slice(-4)}`;
}

/** Chinese names: 2–30 Han characters, with an optional middle dot between parts (minority names). */
const NAME_PATTERN = /^[\p{Script=Han}]+(?:·[\p{Script=Han}]+)*$/u;

export function normaliseName(input: string): string {
  return input.trim().replace(/[•・．.]/g, "·");
}

export function isValidName(normalised: string): boolean {
  const length = [...normalised].length;
  return length >= 2 && length <= 30 && NAME_PATTERN.test(normalised);
}

/** `张*`, `欧阳**`: the family name's first character kept. */
export function maskName(normalised: string): string {
  const characters = [...normalised];
  return characters[0] + "*".repeat(characters.length - 1);
}
