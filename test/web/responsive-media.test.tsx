import { screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

import { MEDIA_SIZES } from "../../web/src/components/MediaView";
import { HomePage } from "../../web/src/features/home/HomePage";
import { renderWithApi } from "./render";

const sha = (digit: string) => digit.repeat(64);

function collection(id: number, image: { width: number; height: number; variantWidths: number[] } | null) {
  return {
    id,
    title: `藏品${id}`,
    description: "d",
    creator: "c",
    story: "s",
    issuerName: "博物馆",
    mediaUrl: `/media/${sha(String(id))}`,
    mediaSha256: sha(String(id)),
    mediaType: "image/png",
    mediaImage: image,
    editionSize: 100,
    priceFen: 1990,
    saleStartsAt: "2026-11-20T00:00:00.000Z",
    saleEndsAt: "2026-12-30T00:00:00.000Z",
    saleState: "on_sale",
    perPersonLimit: 1,
    lockDays: 180,
    regiftDays: 730,
    contractAddress: null,
  };
}

describe("responsive artwork on the home page", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("offers AVIF then WebP variants with the layout's sizes, reserves the box, and fetches only the first row eagerly", async () => {
    const image = { width: 1500, height: 1000, variantWidths: [320, 640, 960, 1280] };
    const { container } = renderWithApi(<HomePage />, {
      "catalog.list": [collection(1, image), collection(2, image), collection(3, image), collection(4, null)],
      "drops.stock": { editionSize: 100, available: 50, reserved: 0, sold: 50 },
    });
    await waitFor(() => expect(screen.getAllByTestId("collection-tile")).toHaveLength(4));

    const pictures = [...container.querySelectorAll("picture")];
    expect(pictures).toHaveLength(3);
    pictures.forEach((picture, i) => {
      const url = `/media/${sha(String(i + 1))}`;
      const [avif, webp] = [...picture.querySelectorAll("source")];
      expect(avif!.getAttribute("type")).toBe("image/avif");
      expect(avif!.getAttribute("srcset")).toBe(
        `${url}/320.avif 320w, ${url}/640.avif 640w, ${url}/960.avif 960w, ${url}/1280.avif 1280w`,
      );
      expect(webp!.getAttribute("type")).toBe("image/webp");
      expect(webp!.getAttribute("srcset")).toContain(`${url}/640.webp 640w`);
      for (const source of [avif!, webp!]) expect(source.getAttribute("sizes")).toBe(MEDIA_SIZES.thumb);
      const img = picture.querySelector("img")!;
      // Width and height give the box its ratio before any byte arrives: nothing moves when it loads.
      expect([img.getAttribute("width"), img.getAttribute("height")]).toEqual(["1280", "853"]);
      expect(img.getAttribute("loading")).toBe(i < 2 ? "eager" : "lazy");
      expect(img.getAttribute("fetchpriority")).toBe(i < 2 ? "high" : "auto");
    });
    // Artwork without variants (stored before them, or a GIF) shows the original.
    const plain = screen.getByAltText("藏品4");
    expect(plain.closest("picture")).toBeNull();
    expect(plain.getAttribute("src")).toBe(`/media/${sha("4")}`);
    expect(plain.getAttribute("loading")).toBe("lazy");
  });
});
