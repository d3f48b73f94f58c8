/**
 * Inline hints for a mainland resident ID number (GB 11643) while it is typed.
 * The server checks again and decides; this only saves the collector a round trip.
 */
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = "10X98765432";

export type IdNumberHint = "ok" | "incomplete" | "format" | "birthDate" | "checksum" | "underage";

export function idNumberHint(raw: string, today: Date, minAge = 18): IdNumberHint {
  const value = raw.trim().toUpperCase();
  if (value.length < 18) return /^\d*$/.test(value) ? "incomplete" : "format";
  if (!/^\d{17}[\dX]$/.test(value)) return "format";
  const year = Number(value.slice(6, 10));
  const month = Number(value.slice(10, 12));
  const day = Number(value.slice(12, 14));
  const birth = new Date(Date.UTC(year, month - 1, day));
  if (
    year < 1900 ||
    birth.getUTCMonth() !== month - 1 ||
    birth.getUTCDate() !== day ||
    birth.getTime() > today.getTime()
  ) {
    return "birthDate";
  }
  const sum = WEIGHTS.reduce((acc, weight, i) => acc + weight * Number(value[i]), 0);
  if (CHECK[sum % 11] !== value[17]) return "checksum";
  const adultFrom = new Date(Date.UTC(year + minAge, month - 1, day));
  if (adultFrom.getTime() > today.getTime()) return "underage";
  return "ok";
}
