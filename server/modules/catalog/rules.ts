/**
 * The catalog's fixed rules, shared by its router, its service and the
 * server's configuration.
 */

/**
 * The lowest lock any collection may have, in days, whatever the issuer asks
 * or the platform configures. It mirrors the Collection contract's
 * `LOCK_FLOOR_DAYS` constant (contracts/Collection.sol), which the chain
 * enforces; change both together.
 */
export const MIN_LOCK_DAYS = 180;

export type SaleState = "upcoming" | "on_sale" | "ended";

export function saleStateOf(row: { saleStartsAt: Date; saleEndsAt: Date }, now: Date): SaleState {
  if (now < row.saleStartsAt) return "upcoming";
  return now < row.saleEndsAt ? "on_sale" : "ended";
}
