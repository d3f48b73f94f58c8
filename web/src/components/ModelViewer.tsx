import "@google/model-viewer";
import { createElement } from "react";

/** A GLB model the collector can turn and zoom (Google's <model-viewer> web component). */
export default function ModelViewer({ url, alt }: { url: string; alt: string }) {
  return createElement("model-viewer", {
    src: url,
    alt,
    "camera-controls": true,
    "touch-action": "pan-y",
    "shadow-intensity": "1",
    class: "media media-full media-model",
  });
}
