/**
 * `npm run bench:web`: builds the web app and measures what a collector's
 * browser downloads before the first page renders, and the largest contentful
 * paint of the home and collection pages in Chromium against `npm start`.
 * Writes bench/results/web.json.
 *
 * - collector_entry_js_gzip_kb: index.html's entry chunk plus every chunk it
 *   imports statically (what loads on any page), gzip level 9.
 * - admin_js_gzip_kb: the issuer and operator chunks and what they alone import.
 * - *_lcp_ms: median of 5 cold loads each (fresh browser context, no cache),
 *   from navigation start to the largest contentful paint.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";

import { launchBrowser, startPlatform } from "../../test/e2e/platform.js";

interface ManifestChunk {
  file: string;
  isEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
  src?: string;
}

const outDir = path.join("dist", "web");

function gzipKb(files: Iterable<string>): number {
  let bytes = 0;
  for (const file of files) bytes += gzipSync(readFileSync(path.join(outDir, file)), { level: 9 }).length;
  return Math.round((bytes / 1024) * 10) / 10;
}

/** A chunk and everything it imports statically, as manifest keys. */
function closure(manifest: Record<string, ManifestChunk>, key: string, seen = new Set<string>()): Set<string> {
  if (seen.has(key)) return seen;
  seen.add(key);
  for (const next of manifest[key]?.imports ?? []) closure(manifest, next, seen);
  return seen;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.floor(sorted.length / 2)]!);
}

async function main() {
  execFileSync("npx", ["vite", "build", "--manifest", "--logLevel", "warn"], { stdio: "inherit" });
  const manifest = JSON.parse(readFileSync(path.join(outDir, ".vite", "manifest.json"), "utf8")) as Record<
    string,
    ManifestChunk
  >;
  const entryKey = Object.keys(manifest).find((key) => manifest[key]!.isEntry)!;
  const entry = closure(manifest, entryKey);
  const adminKeys = Object.keys(manifest).filter((key) => /features\/(studio|ops)\//.test(key));
  const admin = new Set<string>();
  for (const key of adminKeys) for (const k of closure(manifest, key)) if (!entry.has(k)) admin.add(k);
  const entryFiles = [...entry].map((k) => manifest[k]!.file).filter((f) => f.endsWith(".js"));
  const adminFiles = [...admin].map((k) => manifest[k]!.file).filter((f) => f.endsWith(".js"));
  const adminInEntry = [...entry].some((key) => /features\/(studio|ops)\//.test(key));

  const platform = await startPlatform();
  const browser = await launchBrowser();
  const lcp: Record<string, number[]> = { home: [], collection: [] };
  try {
    for (let run = 0; run < 5; run++) {
      for (const [name, route] of [
        ["home", "/"],
        ["collection", "/c/1"],
      ] as const) {
        const context = await browser.newContext({ viewport: { width: 430, height: 932 } });
        const page = await context.newPage();
        // Runs in the page: keeps the latest largest-contentful-paint candidate.
        await page.addInitScript(`
          window.__lcp = 0;
          new PerformanceObserver((list) => {
            for (const entry of list.getEntries()) window.__lcp = entry.startTime;
          }).observe({ type: "largest-contentful-paint", buffered: true });
        `);
        await page.goto(`${platform.origin}${route}`, { waitUntil: "networkidle" });
        await page.waitForTimeout(300);
        lcp[name]!.push(Number(await page.evaluate("window.__lcp")));
        await context.close();
      }
    }
  } finally {
    await browser.close();
    await platform.stop();
  }

  const result = {
    benchmark: "web",
    machine: { cpus: os.cpus().length, node: process.version },
    collector_entry_js_gzip_kb: gzipKb(entryFiles),
    collector_entry_files: entryFiles.length,
    admin_js_gzip_kb: gzipKb(adminFiles),
    admin_code_in_collector_entry: adminInEntry,
    home_lcp_ms: median(lcp.home!),
    collection_lcp_ms: median(lcp.collection!),
    lcp_runs_ms: lcp,
    target: { collector_entry_js_gzip_kb: 150, home_lcp_ms: 1200, collection_lcp_ms: 1200 },
  };
  await mkdir(path.join("bench", "results"), { recursive: true });
  await writeFile(path.join("bench", "results", "web.json"), `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
}

await main();
