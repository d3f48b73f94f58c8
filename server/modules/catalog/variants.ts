import sharp from "sharp";

import { AppError } from "../../errors.js";
import type { MediaType } from "./media.js";

/**
 * Responsive artwork: AVIF and WebP copies of a still image at the widths the
 * storefront lays it out at (a home tile is ~175 CSS px wide on a 390 px phone
 * and ~265 px on a 1280 px screen; the collection page's artwork fills a
 * phone's width, ~360 px, and ~535 px beside the facts on a wide screen; at
 * DPR 2–3 that is 350–1,080 device pixels). Made once, at upload; the original
 * is kept unchanged for the content hash and the verify page.
 */
export const VARIANT_WIDTHS = [320, 640, 960, 1280] as const;
export const VARIANT_FORMATS = ["avif", "webp"] as const;
export type VariantFormat = (typeof VARIANT_FORMATS)[number];

export const VARIANT_CONTENT_TYPES: Record<VariantFormat, string> = { avif: "image/avif", webp: "image/webp" };

/** A variant's name in the store and in its URL: `640.avif`. */
export const VARIANT_NAME = /^([0-9]{1,4})\.(avif|webp)$/;

/** A decoded image larger than this is refused (a decompression bomb), whatever its file size. */
const MAX_INPUT_PIXELS = 40_000_000;

/** Still images get variants; GIF keeps its animation as the original, video and models are not images. */
const RASTER_TYPES: ReadonlySet<MediaType> = new Set(["image/png", "image/jpeg", "image/webp"]);

/** The standard widths below the image's own width, and the image's width itself when under the largest (no upscaling). */
export function variantWidthsFor(width: number): number[] {
  const widths: number[] = VARIANT_WIDTHS.filter((w) => w < width);
  if (width <= VARIANT_WIDTHS[VARIANT_WIDTHS.length - 1]!) widths.push(width);
  return widths;
}

export function variantName(width: number, format: VariantFormat): string {
  return `${width}.${format}`;
}

export interface ImageVariants {
  width: number;
  height: number;
  widths: number[];
  files: { name: string; bytes: Buffer }[];
}

/**
 * Decodes the image fully (a truncated or corrupt file is refused here, before anything is stored)
 * and encodes every variant in memory. Null for types that get no variants.
 */
export async function makeVariants(bytes: Uint8Array, mimeType: MediaType): Promise<ImageVariants | null> {
  if (!RASTER_TYPES.has(mimeType)) return null;
  const input = () => sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS, failOn: "error" }).rotate();
  let width: number;
  let height: number;
  try {
    // Decoding the whole image (not just its header) finds truncated and corrupt files.
    const { info } = await input().raw().toBuffer({ resolveWithObject: true });
    width = info.width;
    height = info.height;
  } catch {
    throw new AppError("media.unreadableImage");
  }
  const widths = variantWidthsFor(width);
  const files = await Promise.all(
    widths.flatMap((w) =>
      VARIANT_FORMATS.map(async (format) => {
        const resized = input().resize({ width: w, withoutEnlargement: true });
        const encoded =
          format === "avif" ? resized.avif({ quality: 55, effort: 3 }) : resized.webp({ quality: 78, effort: 4 });
        return { name: variantName(w, format), bytes: await encoded.toBuffer() };
      }),
    ),
  );
  return { width, height, widths, files };
}
