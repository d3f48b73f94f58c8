import type { FastifyInstance } from "fastify";

/**
 * Replaces an (encapsulated) instance's body parsers with one that keeps
 * every body as sent, whatever content type is claimed: as a Buffer, or as
 * a string (e.g. for signatures verified byte for byte).
 */
export function acceptRawBodies(app: FastifyInstance, parseAs: "buffer" | "string"): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs }, (_request, body, done) => done(null, body));
}
