import { Suspense, lazy } from "react";

import { MEDIA_SIZES, type MediaImage, variantSrcSet } from "../../../shared/artwork";
import { Loading } from "./States";

// The 3D viewer is large; only pages showing a GLB model load it.
const ModelViewer = lazy(() => import("./ModelViewer"));

export { MEDIA_SIZES, type MediaImage, variantSrcSet } from "../../../shared/artwork";

interface MediaViewProps {
  url: string;
  type: string;
  alt: string;
  /** Thumbnails show a still for video and a badge for models. */
  variant?: "full" | "thumb";
  /** The largest image above the fold: fetched first, never lazily. */
  priority?: boolean;
  /** Null or absent: the server has no variants, the original is shown. */
  image?: MediaImage | null;
}

function Picture({ url, alt, variant, priority, image }: Required<Omit<MediaViewProps, "type">>) {
  const loading = priority ? "eager" : "lazy";
  const fetchPriority = priority ? "high" : "auto";
  if (image === null || image.variantWidths.length === 0) {
    return (
      <img
        className={`media media-${variant}`}
        src={url}
        alt={alt}
        loading={loading}
        fetchPriority={fetchPriority}
        decoding="async"
      />
    );
  }
  const sizes = MEDIA_SIZES[variant];
  const largest = Math.max(...image.variantWidths);
  return (
    <picture className={`media-picture media-picture-${variant}`}>
      <source type="image/avif" srcSet={variantSrcSet(url, image.variantWidths, "avif")} sizes={sizes} />
      <source type="image/webp" srcSet={variantSrcSet(url, image.variantWidths, "webp")} sizes={sizes} />
      {/* Browsers without AVIF and WebP get the original. */}
      <img
        className={`media media-${variant}`}
        src={url}
        alt={alt}
        width={largest}
        height={Math.round((image.height * largest) / image.width)}
        loading={loading}
        fetchPriority={fetchPriority}
        decoding={priority ? "sync" : "async"}
      />
    </picture>
  );
}

export function MediaView({ url, type, alt, variant = "full", priority = false, image = null }: MediaViewProps) {
  if (type.startsWith("image/")) {
    return <Picture url={url} alt={alt} variant={variant} priority={priority} image={image} />;
  }
  if (type === "video/mp4") {
    return variant === "thumb" ? (
      <video className={`media media-${variant}`} src={url} muted playsInline preload="metadata" aria-label={alt} />
    ) : (
      <video className={`media media-${variant}`} src={url} controls playsInline preload="metadata" aria-label={alt} />
    );
  }
  if (variant === "thumb") {
    return (
      <div className={`media media-${variant} media-model-badge`} role="img" aria-label={alt}>
        3D
      </div>
    );
  }
  return (
    <Suspense fallback={<Loading />}>
      <ModelViewer url={url} alt={alt} />
    </Suspense>
  );
}
