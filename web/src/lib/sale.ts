/** Where a drop stands for a visitor: the badge on cards and the state of the buy button. */
export type SaleBadge = "upcoming" | "onSale" | "soldOut" | "ended";

export function saleBadge(
  collection: { saleStartsAt: Date | string; saleEndsAt: Date | string },
  stock: { available: number; reserved: number } | undefined,
  now: Date,
): SaleBadge {
  if (now < new Date(collection.saleStartsAt)) return "upcoming";
  if (now >= new Date(collection.saleEndsAt)) return "ended";
  if (stock !== undefined && stock.available === 0 && stock.reserved === 0) return "soldOut";
  return "onSale";
}
