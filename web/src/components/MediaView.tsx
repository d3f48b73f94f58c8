import { Suspense, lazy } from "react";

import { Loading } from "./States";

// The 3D viewer is large; only pages showing a GLB model load it.
const ModelViewer = lazy(() => import("./ModelViewer"));

interface MediaViewProps {
  url: string;
  type: string;
  alt: string;
  /** Thumbnails show a still for video and a badge for models. */
  variant?: "full" | "thumb";
  priority?: boolean;
}

export function MediaView({ url, type, alt, variant = "full", priority = false }: MediaViewProps) {
  if (type.startsWith("image/")) {
    return (
      <img
        className={`media media-${variant}`}
        src={url}
        alt={alt}
        loading={priority ? "eager" : "lazy"}
        fetchPriority={priority ? "high" : "auto"}
        decoding="async"
      />
    );
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
