import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { brotliCompress, constants, gzip } from "node:zlib";

import fastifyStatic from "@fastify/static";
import type { FastifyReply, FastifyRequest } from "fastify";

import { MEDIA_SIZES, type MediaImage, firstTiles, variantSrcSet } from "../../shared/artwork.js";
import type { Platform } from "../platform.js";
import { type Context, createCallerFactory } from "../trpc/init.js";
import { appRouter } from "../trpc/router.js";
import { unencapsulated } from "./plugin.js";
import { requestSession } from "./session.js";

/** Paths that belong to the server, never to the web app's client-side routes. */
const API_PATH = /^\/(trpc|api|media|pay|healthz|readyz|metrics)(\/|$)/;

/** Vite names its build output by content hash under /assets/: such a file never changes. */
const HASHED_ASSET = /[/\\]assets[/\\][^/\\]+-[A-Za-z0-9_-]{8}\.[a-z0-9.]+$/;

const createCaller = createCallerFactory(appRouter);
const brotli = promisify(brotliCompress);
const gzipped = promisify(gzip);

interface ManifestChunk {
  file: string;
  isEntry?: boolean;
  imports?: string[];
}

interface Artwork {
  mediaUrl: string | null;
  mediaType: string;
  mediaImage: MediaImage | null;
}

/** What one storefront page needs before its script runs: its code, its data and its largest image. */
interface PageHead {
  /** The page's chunk in Vite's manifest (web/src/app/router.tsx loads it lazily). */
  chunk: string;
  /** Public answers the page would otherwise ask for after its script ran, keyed as web/src/app/clients.ts reads them. */
  data: Record<string, unknown>;
  /** The artwork above the fold, fetched at high priority from the first bytes of the page. */
  images: { artwork: Artwork; variant: keyof typeof MEDIA_SIZES }[];
  /** The page carries the visitor's own account (the login check): never stored by a browser or proxy. */
  personal: boolean;
}

const escapeAttr = (value: string) =>
  value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** JSON inside a <script type="application/json">: no `<`, so no `</script>` or `<!--` can end or bend it. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, "\\u003c");

/**
 * The storefront's first pages, answered with what they need named in the HTML (no server rendering): the
 * anonymous catalogue reads the page's loader makes (embedded as JSON and seeded into the query cache), a
 * preload of the artwork variant the phone will pick, and module preloads of the page's chunk. On a phone the
 * largest paint then waits for the app's script only, not for the script, then the data, then the image.
 * Public data, and on the certificate page the visitor's own login check (that page is then never stored); the
 * certificate's facts are fetched with the session (they wait on a chain read).
 */
async function pageHead(platform: Platform, request: FastifyRequest, url: string): Promise<PageHead | null> {
  const context: Context = {
    platform,
    session: null,
    ip: request.ip,
    userAgent: String(request.headers["user-agent"] ?? ""),
    csrfValid: false,
    cookies: { setSession: () => undefined, clearSession: () => undefined },
  };
  const catalog = createCaller(context).catalog;
  const pathname = url.split("?")[0]!;
  if (pathname === "/" || pathname === "/index.html") {
    const list = await catalog.list();
    return {
      chunk: "src/features/home/HomePage.tsx",
      data: { "catalog.list": list },
      // The first tile only: the largest paint. Its neighbour would share the phone's bandwidth with the app's
      // script; its <img> asks for it at high priority soon enough.
      images: firstTiles(list, 1).map((artwork) => ({ artwork, variant: "thumb" })),
      personal: false,
    };
  }
  const match = /^\/(?:c|me\/t)\/(\d{1,9})(?:\/\d{1,9})?\/?$/.exec(pathname);
  if (match === null) return null;
  const collectionId = Number(match[1]);
  const collection = await catalog.get({ collectionId }).catch(() => null);
  const data: Record<string, unknown> =
    collection === null ? {} : { "catalog.get": { input: { collectionId }, data: collection } };
  const onCertificate = pathname.startsWith("/me/t/");
  if (onCertificate) {
    // The certificate is for its holder: the page's login check (who is asking, or nobody) comes with it, so the
    // artwork shows, or the visitor is sent to log in, without a round trip first.
    const { session } = await requestSession(platform, request);
    data["auth.me"] = await createCaller({ ...context, session }).auth.me();
  }
  return {
    chunk: onCertificate
      ? "src/features/collectibles/CertificatePage.tsx"
      : "src/features/collection/CollectionPage.tsx",
    data,
    images: collection === null ? [] : [{ artwork: collection, variant: "full" }],
    personal: onCertificate,
  };
}

/** `<link>`s for the page's chunk and the chunks it imports, except those index.html already names. */
function modulePreloads(manifest: Record<string, ManifestChunk> | null, chunk: string): string[] {
  if (manifest === null || manifest[chunk] === undefined) return [];
  const closure = (key: string, seen = new Set<string>()) => {
    if (seen.has(key) || manifest[key] === undefined) return seen;
    seen.add(key);
    for (const next of manifest[key]!.imports ?? []) closure(next, seen);
    return seen;
  };
  const entry = Object.keys(manifest).find((key) => manifest[key]!.isEntry);
  const inEntry = entry === undefined ? new Set<string>() : closure(entry);
  return [...closure(chunk)]
    .filter((key) => !inEntry.has(key))
    .map((key) => `<link rel="modulepreload" crossorigin href="/${escapeAttr(manifest[key]!.file)}">`);
}

function imagePreload({ artwork, variant }: PageHead["images"][number]): string | null {
  const { mediaUrl, mediaImage } = artwork;
  if (mediaUrl === null || mediaImage === null || !artwork.mediaType.startsWith("image/")) return null;
  if (mediaImage.variantWidths.length === 0) return null;
  // The same srcset and sizes as the <picture>'s AVIF source (web/src/components/MediaView.tsx), so the browser
  // fetches here the very variant the page will show.
  return (
    `<link rel="preload" as="image" type="image/avif" fetchpriority="high"` +
    ` imagesrcset="${escapeAttr(variantSrcSet(mediaUrl, mediaImage.variantWidths, "avif"))}"` +
    ` imagesizes="${escapeAttr(MEDIA_SIZES[variant])}">`
  );
}

/**
 * The built web app (Vite output), when there is one: its files, and index.html for client-side routes
 * (the root's not-found handler, so it must not be encapsulated). Text files are sent as the brotli or
 * gzip copies the build wrote beside them (`preCompressed`), by the browser's Accept-Encoding; hashed
 * assets are cached for a year, index.html is revalidated on every load. The home, collection and
 * certificate pages get their index.html with their head filled in ({@link pageHead}).
 */
export const webApp = unencapsulated<{ platform: Platform }>(async (app, { platform }) => {
  const webDir = path.resolve(platform.config.env.WEB_DIST_DIR);
  if (!existsSync(path.join(webDir, "index.html"))) return;

  const readManifest = async () =>
    JSON.parse(await readFile(path.join(webDir, ".vite", "manifest.json"), "utf8").catch(() => "null")) as Record<
      string,
      ManifestChunk
    > | null;

  /** index.html with the page's head filled in; the bare file when the page has none or its data cannot be read. */
  async function sendPage(request: FastifyRequest, reply: FastifyReply) {
    reply.type("text/html; charset=utf-8").header("cache-control", "no-cache");
    const head = await pageHead(platform, request, request.url).catch((error: unknown) => {
      request.log.warn({ err: error }, "page head unavailable");
      return null;
    });
    if (head === null) return reply.sendFile("index.html");
    if (head.personal) reply.header("cache-control", "private, no-store");
    const [html, manifest] = await Promise.all([readFile(path.join(webDir, "index.html"), "utf8"), readManifest()]);
    const tags = [
      ...head.images.map(imagePreload).filter((tag): tag is string => tag !== null),
      ...modulePreloads(manifest, head.chunk),
      `<script type="application/json" id="initial-data">${scriptJson(head.data)}</script>`,
    ];
    const page = Buffer.from(html.replace("</head>", `  ${tags.join("\n    ")}\n  </head>`));
    // Compressed per answer (its data is live), as the static files are ahead of time.
    const accepted = String(request.headers["accept-encoding"] ?? "");
    reply.header("vary", "accept-encoding");
    if (/\bbr\b/.test(accepted)) {
      const body = await brotli(page, { params: { [constants.BROTLI_PARAM_QUALITY]: 9 } });
      return reply.header("content-encoding", "br").send(body);
    }
    if (/\bgzip\b/.test(accepted)) return reply.header("content-encoding", "gzip").send(await gzipped(page));
    return reply.send(page);
  }

  await app.register(fastifyStatic, {
    root: webDir,
    prefix: "/",
    index: false,
    preCompressed: true,
    cacheControl: false,
    setHeaders(res, file) {
      res.setHeader("cache-control", HASHED_ASSET.test(file) ? "public, max-age=31536000, immutable" : "no-cache");
    },
  });
  app.get("/", sendPage);
  app.get("/index.html", sendPage);
  app.setNotFoundHandler((request, reply) => {
    const apiPath = API_PATH.test(request.url);
    if (request.method === "GET" && !apiPath && String(request.headers.accept ?? "").includes("text/html")) {
      return sendPage(request, reply);
    }
    return reply.code(404).send({ error: { appCode: "notFound" } });
  });
});
