/**
 * `npm run bench:web`: the storefront on a phone. Starts the platform as
 * `npm start` does (the web app built by Vite and served by the server's
 * production static path, server/http/static.ts, with its precompressed
 * brotli/gzip files) and loads the home, a collection and a certificate page
 * in Chromium under a mobile profile: 390×844 at DPR 3, a mobile user agent,
 * 4× CPU slowdown, 150 ms RTT, 1.6 Mbps down / 750 kbps up, cache disabled.
 * Each route is loaded cold 5 times (a fresh browser context per load) and
 * reported by its median.
 *
 * - *_lcp_ms: navigation start to the largest contentful paint (targets ≤ 2,500).
 * - *_transfer_kb: every byte over the wire for the load (CDP Network.loadingFinished
 *   encodedDataLength: headers and compressed bodies), per resource type (targets ≤ 350).
 * - images_requested: the artwork URLs the page fetched (variants, not originals, at 390 px).
 * - collection_code: the source modules the collection page's JavaScript holds (from Vite's
 *   manifest): no studio, ops or certificate code.
 *
 * Writes bench/results/web.json.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

import type { Browser, BrowserContext, Page } from "playwright-core";

import { DEMO_ACCOUNTS } from "../../server/demo/seed.js";
import { type RunningPlatform, launchBrowser, logInThroughPage, startPlatform } from "../../test/e2e/platform.js";

const RUNS = 5;

export const PROFILE = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 3,
  isMobile: true,
  hasTouch: true,
  userAgent:
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
  cpuSlowdown: 4,
  rttMs: 150,
  downloadKbps: 1600,
  uploadKbps: 750,
  cacheDisabled: true,
} as const;

const TARGETS = { lcp_ms: 2500, transfer_kb: 350 };

interface ManifestChunk {
  file: string;
  isEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
  src?: string;
}

interface Load {
  lcp_ms: number;
  /** What the largest paint waited on: the app's script (DOMContentLoaded: module scripts run), the artwork. */
  phases: { script_ran_ms: number; lcp_image_arrived_ms: number | null };
  lcp_element: string;
  transfer_kb: number;
  by_type_kb: Record<string, number>;
  encodings: Record<string, number>;
  images: string[];
  scripts: string[];
}

const kb = (bytes: number) => Math.round((bytes / 1024) * 10) / 10;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Resource types as the report groups them. */
function kindOf(cdpType: string, url: string): string {
  if (cdpType === "Document") return "html";
  if (cdpType === "Script") return "js";
  if (cdpType === "Stylesheet") return "css";
  if (cdpType === "Image") return "images";
  if (cdpType === "Font") return "fonts";
  if (cdpType === "Fetch" || cdpType === "XHR" || cdpType === "EventSource" || /\/(trpc|api)\//.test(url)) return "api";
  return "other";
}

/** Polls until the page shows an eager image and every eager image has completed; false after `timeoutMs`. */
async function artworkLoaded(page: Page, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const done = await page.evaluate(`(() => {
      const eager = [...document.images].filter((img) => img.loading !== "lazy");
      return eager.length > 0 && eager.every((img) => img.complete);
    })()`);
    if (done === true) return true;
    await page.waitForTimeout(100);
  }
  return false;
}

/** One cold load of `route` under the profile: a fresh context, throttled before navigation. */
async function coldLoad(browser: Browser, origin: string, route: string, storageState?: string): Promise<Load> {
  const context: BrowserContext = await browser.newContext({
    viewport: PROFILE.viewport,
    deviceScaleFactor: PROFILE.deviceScaleFactor,
    isMobile: PROFILE.isMobile,
    hasTouch: PROFILE.hasTouch,
    userAgent: PROFILE.userAgent,
    locale: "zh-CN",
    ...(storageState === undefined ? {} : { storageState: JSON.parse(storageState) as never }),
  });
  try {
    const page: Page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.setCacheDisabled", { cacheDisabled: PROFILE.cacheDisabled });
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: PROFILE.rttMs,
      downloadThroughput: (PROFILE.downloadKbps * 1000) / 8,
      uploadThroughput: (PROFILE.uploadKbps * 1000) / 8,
    });
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: PROFILE.cpuSlowdown });

    const requests = new Map<string, { url: string; type: string; encoding: string }>();
    const finished = new Map<string, number>();
    cdp.on("Network.responseReceived", (event) => {
      const headers = Object.fromEntries(
        Object.entries(event.response.headers).map(([name, value]) => [name.toLowerCase(), String(value)]),
      );
      requests.set(event.requestId, {
        url: event.response.url,
        type: event.type ?? "Other",
        encoding: headers["content-encoding"] ?? "identity",
      });
    });
    cdp.on("Network.dataReceived", (event) => {
      // Streams (the live stock) never finish: count what arrived.
      finished.set(event.requestId, (finished.get(event.requestId) ?? 0) + event.encodedDataLength);
    });
    cdp.on("Network.loadingFinished", (event) => {
      finished.set(event.requestId, Math.max(finished.get(event.requestId) ?? 0, event.encodedDataLength));
    });

    // Runs in the page: keeps the latest largest-contentful-paint candidate and what it painted.
    await page.addInitScript(`
      window.__lcp = { time: 0, element: "", arrived: 0 };
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) {
          window.__lcp = {
            time: entry.startTime,
            element: entry.url || (entry.element ? entry.element.tagName : ""),
            arrived: entry.url ? (performance.getEntriesByName(entry.url)[0]?.responseEnd ?? 0) : 0,
          };
        }
      }).observe({ type: "largest-contentful-paint", buffered: true });
    `);
    await page.goto(`${origin}${route}`, { waitUntil: "load", timeout: 120_000 });
    // The page is done when its artwork is: every eager image decoded (network idleness alone can come while
    // a slowed-down page is still rendering the answer that names its images), then the network quiet.
    // Polled from here: page.waitForFunction evaluates a string predicate with eval() inside the page, which
    // the page's Content-Security-Policy (script-src 'self') refuses at once.
    if (!(await artworkLoaded(page, 60_000))) console.warn(`${route}: no eager image completed within 60 s`);
    await page.waitForLoadState("networkidle", { timeout: 30_000 }).catch(() => undefined);
    await page.waitForTimeout(500);
    const lcp = (await page.evaluate("window.__lcp")) as { time: number; element: string; arrived: number };
    const scriptRan = (await page.evaluate(
      `performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd`,
    )) as number;

    const byType: Record<string, number> = {};
    const encodings: Record<string, number> = {};
    const images: string[] = [];
    const scripts: string[] = [];
    let total = 0;
    for (const [id, bytes] of finished) {
      const request = requests.get(id);
      const kind = request === undefined ? "other" : kindOf(request.type, request.url);
      byType[kind] = (byType[kind] ?? 0) + bytes;
      total += bytes;
      if (request !== undefined) {
        if (kind === "images" && !request.url.startsWith("data:")) images.push(new URL(request.url).pathname);
        if (kind === "js") scripts.push(new URL(request.url).pathname);
        if (kind === "js" || kind === "css" || kind === "html")
          encodings[request.encoding] = (encodings[request.encoding] ?? 0) + 1;
      }
    }
    return {
      lcp_ms: Math.round(lcp.time),
      phases: {
        script_ran_ms: Math.round(scriptRan),
        // For an image, when its last byte arrived (its render waits on the page's script after that).
        lcp_image_arrived_ms: lcp.arrived > 0 ? Math.round(lcp.arrived) : null,
      },
      lcp_element: lcp.element.replace(origin, ""),
      transfer_kb: kb(total),
      by_type_kb: Object.fromEntries(Object.entries(byType).map(([k, v]) => [k, kb(v)])),
      encodings,
      images: images.sort(),
      scripts: scripts.sort(),
    };
  } finally {
    await context.close();
  }
}

/** The demo collector buys one edition (unthrottled), so there is a certificate page to load. Returns its path and the session. */
async function certificateFixture(browser: Browser, platform: RunningPlatform, collectionPath: string) {
  const context = await browser.newContext({ viewport: PROFILE.viewport, locale: "zh-CN" });
  const page = await context.newPage();
  await logInThroughPage(page, platform, DEMO_ACCOUNTS.collector, collectionPath);
  await page.getByRole("button", { name: "立即购买" }).click();
  await page.waitForURL("**/checkout/**");
  await page.getByRole("button", { name: "去支付" }).click({ timeout: 60_000 });
  const [cashier] = await Promise.all([
    context.waitForEvent("page"),
    page.getByRole("link", { name: "打开收银台" }).click(),
  ]);
  await cashier.getByRole("button", { name: /确认付款/ }).click();
  await cashier.getByText("付款成功").waitFor();
  await cashier.close();
  const tokenLink = page.getByTestId("minted-token").first();
  await tokenLink.waitFor({ timeout: 120_000 });
  await tokenLink.click();
  await page.getByTestId("certificate").waitFor();
  const certificatePath = new URL(page.url()).pathname;
  const storageState = JSON.stringify(await context.storageState());
  await context.close();
  return { certificatePath, storageState };
}

/** The collection page's code from Vite's manifest: the entry and the page's chunk with everything they import statically. */
function collectionCode(): { modules: string[]; holdsAdminOrCertificateCode: boolean } {
  const manifest = JSON.parse(readFileSync(path.join("dist", "web", ".vite", "manifest.json"), "utf8")) as Record<
    string,
    ManifestChunk
  >;
  const seen = new Set<string>();
  const visit = (key: string) => {
    if (seen.has(key)) return;
    seen.add(key);
    for (const next of manifest[key]?.imports ?? []) visit(next);
  };
  visit(Object.keys(manifest).find((key) => manifest[key]!.isEntry)!);
  visit("src/features/collection/CollectionPage.tsx");
  const modules = [...seen].sort();
  return {
    modules,
    holdsAdminOrCertificateCode: modules.some((key) =>
      /features\/(studio|ops|collectibles|credentials|verify)\//.test(key),
    ),
  };
}

function summarise(loads: Load[]) {
  const middle = [...loads].sort((a, b) => a.transfer_kb - b.transfer_kb)[Math.floor(loads.length / 2)]!;
  return {
    lcp_ms: median(loads.map((l) => l.lcp_ms)),
    script_ran_ms: median(loads.map((l) => l.phases.script_ran_ms)),
    lcp_image_arrived_ms: loads.every((l) => l.phases.lcp_image_arrived_ms !== null)
      ? median(loads.map((l) => l.phases.lcp_image_arrived_ms!))
      : null,
    transfer_kb: middle.transfer_kb,
    by_type_kb: middle.by_type_kb,
    encodings: middle.encodings,
    lcp_element: loads[0]!.lcp_element,
    images_requested: middle.images,
    scripts_requested: middle.scripts,
  };
}

async function main() {
  execFileSync("npx", ["vite", "build", "--manifest", "--logLevel", "warn"], { stdio: "inherit" });
  const code = collectionCode();

  // The machine may be shared: the deployment alone has taken minutes under load.
  const platform = await startPlatform({ startTimeoutMs: 900_000 });
  const browser = await launchBrowser();
  const loads: Record<"home" | "collection" | "certificate", Load[]> = { home: [], collection: [], certificate: [] };
  const routes: Record<string, string> = {};
  try {
    const list = (await (await fetch(`${platform.origin}/trpc/catalog.list`)).json()) as {
      result: { data: { id: number; saleState: string }[] };
    };
    const onSale = list.result.data.find((c) => c.saleState === "on_sale") ?? list.result.data[0]!;
    const collectionPath = `/c/${onSale.id}`;
    const fixture = await certificateFixture(browser, platform, collectionPath);
    Object.assign(routes, { home: "/", collection: collectionPath, certificate: fixture.certificatePath });
    for (let run = 0; run < RUNS; run++) {
      loads.home.push(await coldLoad(browser, platform.origin, "/"));
      loads.collection.push(await coldLoad(browser, platform.origin, collectionPath));
      loads.certificate.push(await coldLoad(browser, platform.origin, fixture.certificatePath, fixture.storageState));
      console.log(
        `run ${run + 1}/${RUNS}`,
        Object.fromEntries(Object.entries(loads).map(([k, v]) => [k, v.at(-1)!.lcp_ms])),
      );
    }
  } finally {
    await browser.close();
    await platform.stop();
  }

  const home = summarise(loads.home);
  const collection = summarise(loads.collection);
  const certificate = summarise(loads.certificate);
  const result = {
    benchmark: "web",
    throttled: true,
    profile: PROFILE,
    commit: execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim(),
    cores: os.cpus().length,
    loadavg: os.loadavg().map((l) => Math.round(l * 100) / 100),
    node: process.version,
    home_lcp_ms: home.lcp_ms,
    collection_lcp_ms: collection.lcp_ms,
    certificate_lcp_ms: certificate.lcp_ms,
    home_transfer_kb: home.transfer_kb,
    collection_transfer_kb: collection.transfer_kb,
    certificate_transfer_kb: certificate.transfer_kb,
    targets: {
      home_lcp_ms: TARGETS.lcp_ms,
      collection_lcp_ms: TARGETS.lcp_ms,
      certificate_lcp_ms: TARGETS.lcp_ms,
      home_transfer_kb: TARGETS.transfer_kb,
      collection_transfer_kb: TARGETS.transfer_kb,
    },
    routes,
    pages: { home, collection, certificate },
    collection_code: { holds_admin_or_certificate_code: code.holdsAdminOrCertificateCode, modules: code.modules },
    runs: Object.fromEntries(
      Object.entries(loads).map(([name, runs]) => [
        name,
        runs.map((l) => ({ lcp_ms: l.lcp_ms, ...l.phases, transfer_kb: l.transfer_kb })),
      ]),
    ),
  };
  await mkdir(path.join("bench", "results"), { recursive: true });
  await writeFile(path.join("bench", "results", "web.json"), `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
}

await main();
