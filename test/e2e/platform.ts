import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { type Browser, type Page, chromium } from "playwright-core";

import { freePort } from "../server/helpers.js";

/**
 * The running platform for end-to-end tests: `npm start` itself (its local
 * chain, Ignition deployment, demo seed, server and built web app) on free
 * ports with a fresh data folder, plus Debian's Chromium driven by Playwright.
 */
export interface RunningPlatform {
  origin: string;
  chainUrl: string;
  dataDir: string;
  /**
   * The newest code the console SMS printed for `phone`; with `seen`, waits for a code after the first `seen`
   * ones (so a code requested just now is not confused with the one before it).
   */
  codeFor(phone: string, seen?: number): Promise<string>;
  /** How many codes the console SMS has printed for `phone` so far. */
  codesSent(phone: string): number;
  /** JSON-RPC straight to the local chain (to move its clock). */
  rpc(method: string, params?: unknown[]): Promise<unknown>;
  output(): string;
  stop(): Promise<void>;
}

export async function startPlatform(
  options: { startTimeoutMs?: number; env?: Record<string, string> } = {},
): Promise<RunningPlatform> {
  const port = await freePort();
  const chainPort = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), "shuzang-e2e-"));
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
    // `npm start` as a user runs it: embedded PGlite, whatever DATABASE_URL the test run has.
    env: {
      ...Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== "DATABASE_URL")),
      PORT: String(port),
      CHAIN_PORT: String(chainPort),
      DATA_DIR: dataDir,
      // Full request logs, so the PII scan at the end reads everything the server wrote.
      LOG_LEVEL: "info",
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let out = "";
  child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (out += chunk.toString()));

  // Generous: on a loaded 2-core CI machine the build and the Ignition deployment alone have taken minutes.
  const deadline = Date.now() + (options.startTimeoutMs ?? 600_000);
  while (!out.includes("Ready:")) {
    if (child.exitCode !== null || Date.now() > deadline) {
      // Stop what did come up (the chain, a half-started server) before giving up.
      if (child.exitCode === null) process.kill(-child.pid!, "SIGINT");
      throw new Error(`npm start did not come up:\n${out.slice(-4000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  const chainUrl = `http://127.0.0.1:${chainPort}`;
  const maskPhone = (phone: string) => `${phone.slice(0, 3)}****${phone.slice(-4)}`;
  const printedCodes = (phone: string) => {
    const pattern = new RegExp(`\\[sms\\] ${maskPhone(phone).replace(/\*/g, "\\*")}: .*?(\\d{6})`, "g");
    return [...out.matchAll(pattern)].map((match) => match[1]!);
  };
  return {
    origin: `http://127.0.0.1:${port}`,
    chainUrl,
    dataDir,
    async codeFor(phone, seen = 0) {
      for (let i = 0; i < 50; i++) {
        const matches = printedCodes(phone);
        const last = matches.at(-1);
        if (last !== undefined && matches.length > seen) return last;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`no new code printed for ${maskPhone(phone)}`);
    },
    codesSent: (phone) => printedCodes(phone).length,
    async rpc(method, params = []) {
      const response = await fetch(chainUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
      });
      const body = (await response.json()) as { result?: unknown; error?: { message: string } };
      if (body.error !== undefined) throw new Error(body.error.message);
      return body.result;
    },
    output: () => out,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      process.kill(-child.pid!, "SIGINT");
      await exited;
    },
  };
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Logs in through the login page with the code the console SMS printed. */
export async function logInThroughPage(page: Page, platform: RunningPlatform, phone: string, next = "/") {
  await page.goto(`${platform.origin}/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel(/手机号/).fill(phone);
  const seen = platform.codesSent(phone);
  await page.getByRole("button", { name: "获取验证码" }).click();
  await page.getByText("验证码已发送").waitFor();
  await page.getByLabel("验证码", { exact: true }).fill(await platform.codeFor(phone, seen));
  await page.getByRole("button", { name: "登录 / 注册" }).click();
  await page.waitForURL((url) => !url.pathname.startsWith("/login"));
}

export const screenshotDir = path.join("test", "e2e", "screenshots");

/**
 * Answers the step-up panel a sensitive action opened (export, gift, real-name submission): sends the code,
 * reads the one the console SMS printed for `phone` (after the panel says it was sent, so it is the new one),
 * and confirms it; the page then retries the action by itself.
 */
export async function stepUpThroughPage(page: Page, platform: RunningPlatform, phone: string) {
  const panel = page.getByTestId("step-up");
  await panel.waitFor({ timeout: 30_000 });
  const seen = platform.codesSent(phone);
  await panel.getByRole("button", { name: "发送验证码" }).click();
  await panel.getByText("验证码已发送到您的登录手机号").waitFor();
  await panel.getByLabel("短信验证码").fill(await platform.codeFor(phone, seen));
  await panel.getByRole("button", { name: "验证并继续" }).click();
  await panel.waitFor({ state: "detached", timeout: 30_000 });
}
