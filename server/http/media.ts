import type { FastifyPluginAsync } from "fastify";

import { AppError } from "../errors.js";
import type { Platform } from "../platform.js";
import { unencapsulated } from "./plugin.js";
import { acceptRawBodies } from "./raw-body.js";
import { httpStatusOf, refusal } from "./refusal.js";
import { requestSession } from "./session.js";

/** Artwork upload (POST /media): the raw file as the body, whatever type the client claims; the type is judged by content. */
const upload: FastifyPluginAsync<{ platform: Platform }> = async (uploads, { platform }) => {
  acceptRawBodies(uploads, "buffer");
  uploads.post("/media", { bodyLimit: platform.config.env.MEDIA_MAX_BYTES }, async (request, reply) => {
    const { session, csrfValid } = await requestSession(platform, request);
    if (!csrfValid) return reply.code(403).send(refusal("auth.csrf"));
    const user = session?.user;
    if (user === undefined) return reply.code(401).send(refusal("auth.required"));
    if (user.role !== "issuer_staff" || user.issuerId === null) return reply.code(403).send(refusal("auth.forbidden"));
    const body = request.body;
    if (!Buffer.isBuffer(body) || body.length === 0) return reply.code(415).send(refusal("media.unsupportedType"));
    try {
      return await platform.catalog.registerMedia(platform.db, user.issuerId, body);
    } catch (error) {
      if (error instanceof AppError)
        return reply.code(httpStatusOf(error.code)).send(refusal(error.code, error.params));
      throw error;
    }
  });
};

/** Content-addressed, so a published file never changes: cached for a year; unpublished drafts stay private. */
function cacheControl(published: boolean): string {
  return published ? "public, max-age=31536000, immutable" : "private, max-age=300";
}

/**
 * Artwork: uploads (in a context of their own, without the JSON parser), GET /media/:sha256 (the
 * unchanged original) and GET /media/:sha256/:variant (`640.avif`, `640.webp`: the responsive copies
 * made at upload), served to whoever the catalog lets see them.
 */
export const media = unencapsulated<{ platform: Platform }>(async (app, { platform }) => {
  await app.register(upload, { platform });

  app.get<{ Params: { sha256: string; variant?: string } }>("/media/:sha256/:variant?", async (request, reply) => {
    const { sha256, variant } = request.params;
    if (!/^[0-9a-f]{64}$/.test(sha256)) return reply.code(404).send(refusal("collection.notFound"));
    const { session } = await requestSession(platform, request);
    const file = await platform.catalog.readMedia(platform.db, sha256, session?.user ?? null, variant || undefined);
    if (file === null) return reply.code(404).send(refusal("collection.notFound"));
    // The hash header names the bytes sent: the original's only (a variant is a copy, not the registered work).
    if (!variant) reply.header("x-content-sha256", sha256);
    return reply
      .header("content-type", file.mimeType)
      .header("cache-control", cacheControl(file.published))
      .header("x-content-type-options", "nosniff")
      .send(file.bytes);
  });
});
