import { and, eq, isNull } from "drizzle-orm";

import type { Db } from "../../db/client.js";
import { AppError } from "../../errors.js";
import type { SessionUser } from "../identity/service.js";
import type { CatalogDependencies } from "./context.js";
import { type MediaType, sha256Hex, sniffMediaType } from "./media.js";
import { collections, media } from "./tables.js";

/** Issuers' artwork: files checked by content, stored by sha256, shown to whoever may see them. */
export function createMediaLibrary(deps: Pick<CatalogDependencies, "store" | "maxMediaBytes">) {
  return {
    /** Checks the file by content and size, stores it by sha256 and registers it to the issuer. */
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
      await deps.store.put(sha256, bytes);
      if (existing === undefined) {
        await db.insert(media).values({ sha256, mimeType, sizeBytes: bytes.length, issuerId }).onConflictDoNothing();
      }
      return { sha256, mimeType, sizeBytes: bytes.length };
    },

    /** The file if `viewer` may see it: anyone for a published collection's artwork, else its issuer's staff and operators. */
    async readMedia(db: Db, sha256: string, viewer: SessionUser | null) {
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
      const bytes = await deps.store.get(sha256);
      return bytes === null ? null : { bytes, mimeType: file.mimeType };
    },
  };
}
