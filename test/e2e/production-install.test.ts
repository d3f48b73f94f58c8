import { type ChildProcess, execFile, spawn } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import { afterAll, describe, expect, it } from "vitest";

import { freePort } from "../server/helpers.js";

/**
 * What an operator installs: the built server beside the production
 * dependencies only (`npm ci --omit=dev`), then `npm run serve`. A runtime
 * import of a development-only package fails here, not in production.
 */
const run = promisify(execFile);
let server: ChildProcess | undefined;
let folder = "";

afterAll(() => {
  server?.kill("SIGKILL");
  if (folder !== "") rmSync(folder, { recursive: true, force: true });
});

describe("a production install", () => {
  it("serves from the build with the production dependencies alone", async () => {
    folder = mkdtempSync(path.join(tmpdir(), "shuzang-prod-"));
    const outDir = path.join(folder, "dist", "server");
    await run("npx", ["tsc", "-p", "tsconfig.build.json", "--outDir", outDir], { maxBuffer: 1 << 24 });
    cpSync("server/db/migrations", path.join(outDir, "server", "db", "migrations"), { recursive: true });
    cpSync("package.json", path.join(folder, "package.json"));
    cpSync("package-lock.json", path.join(folder, "package-lock.json"));
    await run("npm", ["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund"], {
      cwd: folder,
      maxBuffer: 1 << 24,
    });

    const port = await freePort();
    let output = "";
    server = spawn("npm", ["run", "serve"], {
      cwd: folder,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PORT: String(port),
        DATA_DIR: path.join(folder, "data"),
        CHAIN_ENABLED: "false",
        LOG_LEVEL: "warn",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    server.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    server.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));

    const health = async () => {
      try {
        return (await fetch(`http://127.0.0.1:${port}/healthz`)).status;
      } catch {
        return 0;
      }
    };
    await expect.poll(health, { timeout: 60_000, interval: 500 }).toBe(200);
    const collections = await fetch(`http://127.0.0.1:${port}/trpc/catalog.list`);
    expect(collections.status, output).toBe(200);
    expect(output).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find (module|package)/);
  });
});
