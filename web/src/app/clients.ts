import { createTRPCOptionsProxy } from "@trpc/tanstack-react-query";
import { preload } from "react-dom";

import type { AppRouter } from "../../../server/trpc/router";
import { MEDIA_SIZES, type MediaImage, variantSrcSet } from "../components/MediaView";
import { createClient, createQueryClient } from "../lib/trpc";

/** The app's one query cache and tRPC client, shared by the providers and the routes' data prefetch. */
export const queryClient = createQueryClient();
export const trpcClient = createClient();
const trpc = createTRPCOptionsProxy<AppRouter>({ client: trpcClient, queryClient });

/** Starts loading a still image's variant the browser will pick, at high priority, before its page has rendered. */
function preloadArtwork(
  artwork: { mediaUrl: string | null; mediaImage: MediaImage | null },
  variant: "full" | "thumb",
) {
  if (artwork.mediaUrl === null || artwork.mediaImage === null) return;
  preload(`${artwork.mediaUrl}/${Math.max(...artwork.mediaImage.variantWidths)}.avif`, {
    as: "image",
    type: "image/avif",
    imageSrcSet: variantSrcSet(artwork.mediaUrl, artwork.mediaImage.variantWidths, "avif"),
    imageSizes: MEDIA_SIZES[variant],
    fetchPriority: "high",
  });
}

/**
 * Route loaders: the page's data is asked for while its code chunk is still loading (not after it
 * renders), and the largest image above the fold is preloaded as soon as the data names it.
 */
export const prefetch = {
  home() {
    void queryClient.fetchQuery(trpc.catalog.list.queryOptions()).then(
      (list) => list.slice(0, 2).forEach((c) => c.mediaType.startsWith("image/") && preloadArtwork(c, "thumb")),
      () => undefined,
    );
    return null;
  },
  collection(collectionId: number) {
    if (!Number.isInteger(collectionId) || collectionId <= 0) return null;
    void queryClient.fetchQuery(trpc.catalog.get.queryOptions({ collectionId })).then(
      (c) => c.mediaType.startsWith("image/") && preloadArtwork(c, "full"),
      () => undefined,
    );
    return null;
  },
};
