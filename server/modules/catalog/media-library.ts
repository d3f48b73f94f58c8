import { and, eq, inArray, isNull } from "drizzle-orm";

import type { Db } from "../../db/client.js";
import { AppError } from "../../errors.js";
import type { SessionUser } from "../identity/service.js";
import type { CatalogDependencies } from "./context.js";
import { type MediaType, sha256Hex, sniffMediaType } from "./media.js";
import { collections, media } from "./tables.js";
import {
  type ImageVariants,
  VARIANT_CONTENT_TYPES,
  VARIANT_NAME,
  type VariantFormat,
  makeVariants,
} from "./variants.js";

/** Issuers' artwork: files checked by content, stored by sha256, shown to whoever may see them. */
export function createMediaLibrary(deps: Pick<CatalogDependencies, "store" | "maxMediaBytes">) {
  /** Variants first, the original last: a file registered in the database always has all of its variants. */
  async function storeFiles(sha256: string, bytes: Uint8Array, variants: ImageVariants | null) {
    for (const file of variants?.files ?? []) await deps.store.put(sha256, file.bytes, file.name);
    await deps.store.put(sha256, bytes);
  }

  const sizeColumns = (variants: ImageVariants | null) => ({
    width: variants?.width ?? null,
    height: variants?.height ?? null,
    variantWidths: variants?.widths ?? null,
  });

  return {
    /**
     * Checks the file by content and size, decodes a still image and makes its AVIF/WebP variants
     * (all in memory: a file that fails is refused with nothing stored), stores the variants and the
     * unchanged original by the original's sha256, and registers it to the issuer.
     */
    async registerMedia(
      db: Db,
      issuerId: number,
      bytes: Uint8Array,
    ): Promise<{ sha256: string; mimeType: MediaType; sizeBytes: number }> {
      if (bytes.length > deps.maxMediaBytes) throw new AppError("media.tooLarge", { maxBytes: deps.maxMediaBytes });
      const mimeType = sniffMediaType(bytes);
      if (mimeType === null) throw new AppError("media.unsupportedType");
      const sha256 = sha256Hex(bytes);
      const [existing] = await db.select().from(media).where(eq(media.sha256, sha256));
      if (existing !== undefined && existing.issuerId !== issuerId) throw new AppError("media.ownedByOtherIssuer");
      const variants = await makeVariants(bytes, mimeType);
      await storeFiles(sha256, bytes, variants);
      if (existing === undefined) {
        await db
          .insert(media)
          .values({ sha256, mimeType, sizeBytes: bytes.length, issuerId, ...sizeColumns(variants) })
          .onConflictDoNothing();
      } else if (existing.variantWidths === null && variants !== null) {
        await db.update(media).set(sizeColumns(variants)).where(eq(media.sha256, sha256));
      }
      return { sha256, mimeType, sizeBytes: bytes.length };
    },

    /**
     * Still images stored before variants existed (or by a seed of an older version): makes their
     * variants from the stored original. Returns how many it completed; an unreadable original is
     * skipped (its collection keeps showing the original).
     */
    async backfillMediaVariants(db: Db): Promise<number> {
      const pending = await db
        .select({ sha256: media.sha256, mimeType: media.mimeType })
        .from(media)
        .where(and(isNull(media.variantWidths), inArray(media.mimeType, ["image/png", "image/jpeg", "image/webp"])));
      let done = 0;
      for (const file of pending) {
        const bytes = await deps.store.get(file.sha256);
        if (bytes === null || sha256Hex(bytes) !== file.sha256) continue;
        const variants = await makeVariants(bytes, file.mimeType).catch(() => null);
        if (variants === null) continue;
        await storeFiles(file.sha256, bytes, variants);
        await db.update(media).set(sizeColumns(variants)).where(eq(media.sha256, file.sha256));
        done++;
      }
      return done;
    },

    /**
     * The file (or one of its variants, `640.avif`) if `viewer` may see it: anyone for a published
     * collection's artwork, else its issuer's staff and operators. `published` tells whether it may be
     * cached publicly.
     */
    async readMedia(db: Db, sha256: string, viewer: SessionUser | null, variant?: string) {
      const [file] = await db.select().from(media).where(eq(media.sha256, sha256));
      if (file === undefined) return null;
      const [published] = await db
        .select({ id: collections.id })
        .from(collections)
        // A taken-down collection's artwork is no longer shown to the public.
        .where(
          and(
            eq(collections.mediaSha256, sha256),
            eq(collections.status, "published"),
            isNull(collections.takenDownAt),
          ),
        )
        .limit(1);
      const allowed =
        published !== undefined ||
        viewer?.role === "operator" ||
        (viewer?.role === "issuer_staff" && viewer.issuerId === file.issuerId);
      if (!allowed) return null;
      let mimeType: string = file.mimeType;
      if (variant !== undefined) {
        const match = VARIANT_NAME.exec(variant);
        if (match === null || !(file.variantWidths ?? []).includes(Number(match[1]))) return null;
        mimeType = VARIANT_CONTENT_TYPES[match[2] as VariantFormat];
      }
      const bytes = await deps.store.get(sha256, variant);
      return bytes === null ? null : { bytes, mimeType, published: published !== undefined };
    },
  };
}
