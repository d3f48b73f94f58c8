import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

import react from "@vitejs/plugin-react";
import { type Plugin, defineConfig } from "vite";

// The web app lives in web/ and builds into dist/web, which the server serves.
// In development Vite proxies the API to the server started by `npm run dev`.
const apiTarget = process.env.VITE_API_TARGET ?? "http://127.0.0.1:3000";

/**
 * Writes `file.br` and `file.gz` beside every text asset of the build, compressed once at the
 * highest levels; the server's static files answer with them when the browser accepts the encoding.
 */
function precompress(): Plugin {
  let outDir = "";
  return {
    name: "shuzang-precompress",
    apply: "build",
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir);
    },
    closeBundle() {
      const walk = (dir: string): string[] =>
        readdirSync(dir).flatMap((name) => {
          const file = path.join(dir, name);
          return statSync(file).isDirectory() ? walk(file) : [file];
        });
      for (const file of walk(outDir)) {
        if (!/\.(js|css|html|svg|json|txt)$/.test(file) || file.includes(`${path.sep}.vite${path.sep}`)) continue;
        const bytes = readFileSync(file);
        if (bytes.length < 512) continue;
        writeFileSync(
          `${file}.br`,
          brotliCompressSync(bytes, {
            params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
          }),
        );
        writeFileSync(`${file}.gz`, gzipSync(bytes, { level: 9 }));
      }
    },
  };
}

export default defineConfig({
  root: "web",
  plugins: [react(), precompress()],
  build: {
    outDir: "../dist/web",
    emptyOutDir: true,
    sourcemap: false,
    // The server reads it to name a storefront page's chunks in the page it sends (server/http/static.ts).
    manifest: true,
    chunkSizeWarningLimit: 1200,
    rolldownOptions: {
      output: {
        // What every page runs on (React, the router, the query cache and tRPC client, i18n with its dictionaries,
        // the session and the loading/error states) travels as one file, not as five shared chunks the entry
        // imports: on a phone over HTTP/1.1 each file costs a round trip and a connection slot, and all of them are
        // on the first page's critical path anyway (docs/measurements.md, Web).
        codeSplitting: {
          groups: [
            {
              name: "core",
              test: /[\\/]node_modules[\\/](react|react-dom|scheduler|react-router|@tanstack|@trpc|i18next|react-i18next|zustand|cookie|set-cookie-parser)[\\/]|[\\/]web[\\/]src[\\/](i18n[\\/]|stores[\\/]|lib[\\/](session|trpc|field-errors)\.ts|components[\\/]States\.tsx)/,
            },
          ],
        },
      },
    },
  },
  server: {
    port: 5173,
    strictPort: true,
    proxy: Object.fromEntries(["/trpc", "/api", "/media", "/pay", "/healthz", "/readyz"].map((p) => [p, apiTarget])),
  },
});
