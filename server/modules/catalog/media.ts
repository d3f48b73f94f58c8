import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";

import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";

import type { MEDIA_TYPES } from "./tables.js";

export type MediaType = (typeof MEDIA_TYPES)[number];

/** Recognises the accepted formats by their first bytes; the file name and declared type are never trusted. */
export function sniffMediaType(bytes: Uint8Array): MediaType | null {
  const ascii = (start: number, end: number) => Buffer.from(bytes.subarray(start, end)).toString("latin1");
  if (
    bytes.length >= 8 &&
    Buffer.from(bytes.subarray(0, 8)).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
  ) {
    return "image/png";
  }
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "image/jpeg";
  if (bytes.length >= 6 && (ascii(0, 6) === "GIF87a" || ascii(0, 6) === "GIF89a")) return "image/gif";
  if (bytes.length >= 12 && ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return "image/webp";
  if (bytes.length >= 12 && ascii(4, 8) === "ftyp") return "video/mp4";
  // glTF binary: magic "glTF", then version 2 (little-endian uint32).
  if (
    bytes.length >= 12 &&
    ascii(0, 4) === "glTF" &&
    bytes[4] === 2 &&
    bytes[5] === 0 &&
    bytes[6] === 0 &&
    bytes[7] === 0
  ) {
    return "model/gltf-binary";
  }
  return null;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Where artwork files live, by their sha256; a variant (`640.avif`) lives beside its original as
 * `<sha256>.<variant>`. Local folder by default; an S3-compatible store implements the same.
 */
export interface MediaStore {
  put(sha256: string, bytes: Uint8Array, variant?: string): Promise<void>;
  get(sha256: string, variant?: string): Promise<Buffer | null>;
}

/** The object name of an original or of one of its variants; anything else is refused. */
export function mediaKey(sha256: string, variant?: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error("not a sha256");
  if (variant === undefined) return sha256;
  if (!/^[0-9]{1,4}\.(avif|webp)$/.test(variant)) throw new Error("not a variant name");
  return `${sha256}.${variant}`;
}

export function createLocalMediaStore(folder: string): MediaStore {
  const fileOf = (sha256: string, variant?: string) => path.join(folder, sha256.slice(0, 2), mediaKey(sha256, variant));
  return {
    async put(sha256, bytes, variant) {
      const file = fileOf(sha256, variant);
      await mkdir(path.dirname(file), { recursive: true });
      // Write then rename: a reader never sees half a file.
      const temporary = `${file}.${process.pid}.tmp`;
      await writeFile(temporary, bytes);
      await rename(temporary, file);
    },
    async get(sha256, variant) {
      try {
        return await readFile(fileOf(sha256, variant));
      } catch {
        return null;
      }
    },
  };
}

export interface S3MediaStoreOptions {
  endpoint?: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
}

/** An S3-compatible bucket, objects keyed by sha256 (content-addressed, so a re-put is harmless). */
export function createS3MediaStore(options: S3MediaStoreOptions): MediaStore & { client: S3Client } {
  const client = new S3Client({
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
  });
  return {
    client,
    async put(sha256, bytes, variant) {
      await client.send(new PutObjectCommand({ Bucket: options.bucket, Key: mediaKey(sha256, variant), Body: bytes }));
    },
    async get(sha256, variant) {
      try {
        const answer = await client.send(
          new GetObjectCommand({ Bucket: options.bucket, Key: mediaKey(sha256, variant) }),
        );
        if (answer.Body === undefined) return null;
        return Buffer.from(await answer.Body.transformToByteArray());
      } catch (error) {
        // A missing object reads as absent, like a missing local file; other failures surface.
        if (error instanceof NoSuchKey || (error as { name?: string }).name === "NotFound") return null;
        throw error;
      }
    },
  };
}
