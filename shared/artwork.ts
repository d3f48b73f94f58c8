/**
 * How the storefront lays out artwork, shared by the web app (which renders it) and the server (which names
 * the image to fetch first in the page it sends, before any script runs).
 */

/** A still image's size and the widths of the AVIF/WebP copies the server made at upload. */
export interface MediaImage {
  width: number;
  height: number;
  variantWidths: number[];
}

/**
 * How wide the image is laid out (web/src/app/styles.css): a tile is half of a phone's width and ~270 px in the
 * 4-column grid of a wide screen; the full view fills a phone and half of the 1,120 px page beside the facts.
 * The browser picks the variant for this width at its DPR.
 */
export const MEDIA_SIZES = {
  thumb: "(min-width: 1120px) 270px, 50vw",
  full: "(min-width: 1120px) 540px, (min-width: 860px) 50vw, 100vw",
} as const;

export function variantSrcSet(url: string, widths: number[], format: "avif" | "webp"): string {
  return widths.map((w) => `${url}/${w}.${format} ${w}w`).join(", ");
}

/** The home page shows drops on sale first, then upcoming ones, then past ones. */
const SECTION_RANK: Record<string, number> = { on_sale: 0, upcoming: 1 };

/**
 * The home page's tiles at the top of a phone's screen (two per row), by the sale state the catalogue
 * reports: the images fetched first, at high priority and never lazily.
 */
export function firstTiles<T extends { saleState: string }>(list: readonly T[], count = 2): T[] {
  return list
    .map((item, index) => ({ item, index, rank: SECTION_RANK[item.saleState] ?? 2 }))
    .sort((a, b) => a.rank - b.rank || a.index - b.index)
    .slice(0, count)
    .map(({ item }) => item);
}
