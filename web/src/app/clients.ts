import type { inferRouterOutputs } from "@trpc/server";
import { createTRPCOptionsProxy } from "@trpc/tanstack-react-query";
import { preload } from "react-dom";

import type { AppRouter } from "../../../server/trpc/router";
import { MEDIA_SIZES, type MediaImage, firstTiles, variantSrcSet } from "../../../shared/artwork";
import { createClient, createQueryClient } from "../lib/trpc";

/** The app's one query cache and tRPC client, shared by the providers and the routes' data prefetch. */
export const queryClient = createQueryClient();
export const trpcClient = createClient();
const trpc = createTRPCOptionsProxy<AppRouter>({ client: trpcClient, queryClient });

type Outputs = inferRouterOutputs<AppRouter>;

/** What the server put in the page for its first render (server/http/static.ts): catalogue answers, the login check. */
interface InitialData {
  "catalog.list"?: Outputs["catalog"]["list"];
  "catalog.get"?: { input: { collectionId: number }; data: Outputs["catalog"]["get"] };
  /** The certificate page's login check: the visitor's account, or null. */
  "auth.me"?: Outputs["auth"]["me"];
}

/**
 * Seeds the query cache with the page's embedded answers, so its first render needs no request. True when the
 * server filled in the page's head (its data, and its code named for preloading).
 */
export function seedInitialData(doc: Document = document): boolean {
  const element = doc.getElementById("initial-data");
  if (element === null) return false;
  element.remove();
  let initial: InitialData;
  try {
    initial = JSON.parse(element.textContent ?? "{}") as InitialData;
  } catch {
    return false;
  }
  if (initial["catalog.list"] !== undefined) {
    queryClient.setQueryData(trpc.catalog.list.queryKey(), initial["catalog.list"]);
  }
  const get = initial["catalog.get"];
  if (get !== undefined) queryClient.setQueryData(trpc.catalog.get.queryKey(get.input), get.data);
  if (initial["auth.me"] !== undefined) queryClient.setQueryData(trpc.auth.me.queryKey(), initial["auth.me"]);
  return true;
}
export const pageHeadGiven = seedInitialData();

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
      (list) => firstTiles(list).forEach((c) => c.mediaType.startsWith("image/") && preloadArtwork(c, "thumb")),
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
  /**
   * The certificate waits on the login check (RequireRole) and then on its own facts: both are asked for here,
   * side by side, with the artwork's public data, instead of one after the other once the page has rendered.
   */
  certificate(collectionId: number, tokenId: number) {
    prefetch.collection(collectionId);
    if (!Number.isInteger(tokenId) || tokenId < 0) return null;
    void queryClient.prefetchQuery(trpc.auth.me.queryOptions(undefined, { staleTime: 60_000 }));
    void queryClient.prefetchQuery(trpc.collectibles.certificate.queryOptions({ collectionId, tokenId }));
    return null;
  },
};
