import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { eq } from "drizzle-orm";
import type { FastifyInstance } from "fastify";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, buildHttpApp } from "../../server/http/app.js";
import { createLocalMediaStore, sha256Hex } from "../../server/modules/catalog/media.js";
import { collections, media } from "../../server/modules/catalog/tables.js";
import { variantWidthsFor } from "../../server/modules/catalog/variants.js";
import { type TestPlatform, createTestPlatform, databasesUnderTest, login, promote } from "./helpers.js";

const DAY = 86_400_000;

/** A photo-like test image (a gradient with noise-free detail), `width`×`height`, encoded as `format`. */
async function image(width: number, height: number, format: "png" | "jpeg" | "webp" = "png", seed = 0) {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * 3;
      raw[at] = (x * 255) / width;
      raw[at + 1] = (y * 255) / height;
      raw[at + 2] = (x * y + seed) % 256;
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .toFormat(format)
    .toBuffer();
}

function filesIn(folder: string): string[] {
  try {
    return readdirSync(folder, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => entry.name);
  } catch {
    return [];
  }
}

describe.each(databasesUnderTest())("artwork variants made at upload ($name)", (database) => {
  let test: TestPlatform;
  let app: FastifyInstance;
  let folder: string;
  let headers: Record<string, string>;
  let issuerId: number;

  beforeAll(async () => {
    folder = mkdtempSync(path.join(tmpdir(), "shuzang-variants-"));
    test = await createTestPlatform(database, {
      env: { MEDIA_MAX_BYTES: String(8 * 1024 * 1024) },
      overrides: { mediaStore: createLocalMediaStore(folder) },
    });
    app = await buildHttpApp(test.platform, { logger: false });
    const person = await login(test);
    issuerId = (await promote(test.platform, person.user.id, "issuer_staff"))!;
    const csrf = "test-csrf-token-value";
    headers = { cookie: `${SESSION_COOKIE}=${person.token}; ${CSRF_COOKIE}=${csrf}`, [CSRF_HEADER]: csrf };
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await test?.close();
  });

  const upload = (payload: Buffer) =>
    app.inject({
      method: "POST",
      url: "/media",
      headers: { ...headers, "content-type": "application/octet-stream" },
      payload,
    });

  async function publish(sha256: string) {
    const now = test.clock.now().getTime();
    await test.platform.db.insert(collections).values({
      issuerId,
      title: "变体测试",
      description: "d",
      creator: "c",
      story: "s",
      mediaSha256: sha256,
      editionSize: 10,
      priceFen: 100,
      saleStartsAt: new Date(now + DAY),
      saleEndsAt: new Date(now + 2 * DAY),
      perPersonLimit: 1,
      lockDays: 180,
      regiftDays: 730,
      status: "published",
      contractAddress: `0x${sha256.slice(0, 40)}`,
    });
  }

  it("makes AVIF and WebP at the layout's widths, hashes and keeps the original unchanged", async () => {
    const original = await image(1500, 1000, "png");
    const answer = await upload(original);
    expect(answer.statusCode).toBe(200);
    const { sha256 } = answer.json<{ sha256: string }>();
    expect(sha256).toBe(sha256Hex(original));

    const [row] = await test.platform.db.select().from(media).where(eq(media.sha256, sha256));
    expect(row).toMatchObject({ width: 1500, height: 1000, variantWidths: [320, 640, 960, 1280] });

    const stored = await createLocalMediaStore(folder).get(sha256);
    expect(stored!.equals(original)).toBe(true);

    for (const width of [320, 640, 960, 1280]) {
      for (const [format, decoded, type] of [
        ["avif", "heif", "image/avif"],
        ["webp", "webp", "image/webp"],
      ] as const) {
        const served = await app.inject({ url: `/media/${sha256}/${width}.${format}`, headers });
        expect(served.statusCode, `${width}.${format}`).toBe(200);
        expect(served.headers["content-type"]).toBe(type);
        expect(served.headers["x-content-sha256"]).toBeUndefined();
        const meta = await sharp(served.rawPayload).metadata();
        expect(meta.format).toBe(decoded);
        if (format === "avif") expect(meta.compression).toBe("av1");
        expect(meta.width).toBe(width);
        expect(meta.height).toBe(Math.round((width * 1000) / 1500));
        expect(served.rawPayload.length).toBeLessThan(original.length);
      }
    }
    // The original still answers with its hash, untouched.
    const served = await app.inject({ url: `/media/${sha256}`, headers });
    expect(served.headers["x-content-sha256"]).toBe(sha256);
    expect(sha256Hex(served.rawPayload)).toBe(sha256);
  }, 120_000);

  it("never enlarges: a small image gets the standard widths under its own and its own width", async () => {
    expect(variantWidthsFor(500)).toEqual([320, 500]);
    expect(variantWidthsFor(200)).toEqual([200]);
    expect(variantWidthsFor(2400)).toEqual([320, 640, 960, 1280]);
    const original = await image(500, 500, "jpeg");
    const { sha256 } = (await upload(original)).json<{ sha256: string }>();
    const [row] = await test.platform.db.select().from(media).where(eq(media.sha256, sha256));
    expect(row!.variantWidths).toEqual([320, 500]);
    const largest = await app.inject({ url: `/media/${sha256}/500.webp`, headers });
    expect((await sharp(largest.rawPayload).metadata()).width).toBe(500);
    // An icon-sized image gets its one variant too.
    const tiny = await image(8, 8, "png", 5);
    const small = (await upload(tiny)).json<{ sha256: string }>();
    const [tinyRow] = await test.platform.db.select().from(media).where(eq(media.sha256, small.sha256));
    expect(tinyRow!.variantWidths).toEqual([8]);
    const icon = await app.inject({ url: `/media/${small.sha256}/8.avif`, headers });
    expect((await sharp(icon.rawPayload).metadata()).width).toBe(8);
    // A width that was not made is not found, nor is a name outside the scheme.
    for (const name of ["640.webp", "1280.avif", "500.png", "500.avif.bak", "..%2F..%2Fetc"]) {
      expect((await app.inject({ url: `/media/${sha256}/${name}`, headers })).statusCode, name).toBe(404);
    }
  }, 120_000);

  it("serves variants privately until published, then publicly with a year's immutable cache", async () => {
    const original = await image(700, 400, "webp", 7);
    const { sha256 } = (await upload(original)).json<{ sha256: string }>();
    const anonymous = await app.inject({ url: `/media/${sha256}/640.avif` });
    expect(anonymous.statusCode).toBe(404);
    const staff = await app.inject({ url: `/media/${sha256}/640.avif`, headers });
    expect(staff.headers["cache-control"]).toBe("private, max-age=300");

    await publish(sha256);
    for (const url of [`/media/${sha256}/640.avif`, `/media/${sha256}/700.webp`, `/media/${sha256}`]) {
      const answer = await app.inject({ url });
      expect(answer.statusCode, url).toBe(200);
      expect(answer.headers["cache-control"], url).toBe("public, max-age=31536000, immutable");
    }
  }, 120_000);

  it("refuses images it cannot decode with 422 and writes nothing: no file, no variant, no row", async () => {
    const good = await image(400, 300, "png", 3);
    const truncated = good.subarray(0, Math.floor(good.length / 2));
    const garbage = Buffer.concat([good.subarray(0, 16), Buffer.alloc(300, 0x41)]);
    const badJpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(200, 0x00)]);
    // 8,000 × 6,000 = 48 M pixels of one colour: a small file that would take 144 MB to decode.
    const bomb = await sharp({ create: { width: 8000, height: 6000, channels: 3, background: "#7a1f1f" } })
      .png({ compressionLevel: 9 })
      .toBuffer();
    const before = filesIn(folder).length;
    for (const [name, bytes] of Object.entries({ truncated, garbage, badJpeg, bomb })) {
      const answer = await upload(bytes);
      expect(answer.statusCode, name).toBe(422);
      expect(answer.json().error.appCode, name).toBe("media.unreadableImage");
      const sha256 = sha256Hex(bytes);
      expect(await test.platform.db.select().from(media).where(eq(media.sha256, sha256)), name).toEqual([]);
      expect(
        filesIn(folder).filter((file) => file.startsWith(sha256)),
        name,
      ).toEqual([]);
    }
    expect(filesIn(folder).length).toBe(before);
  }, 120_000);

  it("keeps GIF as it is (its animation): no variants, the original is served", async () => {
    const gif = await sharp(await image(64, 64, "png", 9))
      .gif()
      .toBuffer();
    const answer = await upload(gif);
    expect(answer.statusCode).toBe(200);
    const { sha256 } = answer.json<{ sha256: string }>();
    const [row] = await test.platform.db.select().from(media).where(eq(media.sha256, sha256));
    expect(row).toMatchObject({ mimeType: "image/gif", width: null, variantWidths: null });
    expect(filesIn(folder).filter((file) => file.startsWith(sha256))).toEqual([sha256]);
  }, 120_000);

  it("backfills still images stored before variants existed, from the stored original", async () => {
    const original = await image(900, 600, "png", 11);
    const sha256 = sha256Hex(original);
    // As an older version left it: the file and its row, no size, no variants.
    await createLocalMediaStore(folder).put(sha256, original);
    await test.platform.db
      .insert(media)
      .values({ sha256, mimeType: "image/png", sizeBytes: original.length, issuerId });
    expect(await test.platform.catalog.backfillMediaVariants(test.platform.db)).toBe(1);
    const [row] = await test.platform.db.select().from(media).where(eq(media.sha256, sha256));
    expect(row).toMatchObject({ width: 900, height: 600, variantWidths: [320, 640, 900] });
    const served = await app.inject({ url: `/media/${sha256}/900.avif`, headers });
    expect((await sharp(served.rawPayload).metadata()).width).toBe(900);
    // Nothing left to do: a second pass does nothing.
    expect(await test.platform.catalog.backfillMediaVariants(test.platform.db)).toBe(0);
  }, 120_000);
});
