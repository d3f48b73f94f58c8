/**
 * `npm start` (and `npm run dev`): the whole platform with embedded defaults.
 * Compiles the contracts if needed, builds the web app, starts a local chain
 * (JSON-RPC on 127.0.0.1:CHAIN_PORT, 8545 by default), deploys the platform
 * with its roles held by the server's custody accounts, and starts the server
 * on PGlite with the demo seeded (http://127.0.0.1:PORT, 3000 by default).
 *
 * The local chain keeps no state between runs, so every start resets the
 * embedded database too: chain and database never disagree. Development
 * secrets in DATA_DIR/dev-secrets.json are kept.
 *
 * `--dev`: the server restarts when its code changes and Vite serves the web
 * app with hot reload on http://127.0.0.1:5173 (proxying the API).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";

import { loadConfigOrExit } from "../server/config.js";
import { PLATFORM_ROLES, createSeedCustody } from "../server/modules/wallets/custody.js";

/** The layout of DATA_DIR this version writes; an older or newer folder is refused, not guessed at. */
const DATA_FORMAT = 1;
const dev = process.argv.includes("--dev");
const children: ChildProcess[] = [];
let stopping = false;

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  // Each child leads its own process group, so stopping it also stops what it started (npx → hardhat → node).
  const child = spawn(command, args, {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, ...env },
    detached: true,
  });
  children.push(child);
  return child;
}

function finished(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => child.on("exit", (code) => resolve(code ?? 1)));
}

function stopAll(code: number): never {
  stopping = true;
  for (const child of children) {
    if (child.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
  }
  process.exit(code);
}

function fail(message: string, code: number): never {
  console.error(`\n✖ ${message}\n`);
  stopAll(code);
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

function checkDataFormat(dataDir: string) {
  mkdirSync(dataDir, { recursive: true });
  const marker = path.join(dataDir, "format.json");
  if (existsSync(marker)) {
    const found = (JSON.parse(readFileSync(marker, "utf8")) as { format?: unknown }).format;
    if (found !== DATA_FORMAT) {
      fail(
        `${dataDir} was written by an incompatible version (data format ${String(found)}, this version uses ${DATA_FORMAT}). ` +
          `Move it away or delete it (its dev-secrets.json holds development keys only).`,
        3,
      );
    }
  } else {
    writeFileSync(marker, `${JSON.stringify({ format: DATA_FORMAT })}\n`);
  }
}

async function main() {
  const config = loadConfigOrExit();
  const port = config.env.PORT;
  const chainPort = Number(process.env.CHAIN_PORT ?? 8545);
  const dataDir = config.env.DATA_DIR;
  for (const [name, value] of [
    ["PORT", port],
    ["CHAIN_PORT", chainPort],
    ...(dev ? [["Vite dev server", 5173] as const] : []),
  ] as const) {
    if (!(await portIsFree(value))) {
      fail(`Port ${value} (${name}) is already taken. Stop what uses it, or choose another with ${name}=….`, 2);
    }
  }
  checkDataFormat(dataDir);
  rmSync(path.join(dataDir, "pglite"), { recursive: true, force: true });
  rmSync(path.join(dataDir, "sms-outbox.log"), { force: true });
  const deploymentId = `local-${chainPort}`;
  rmSync(path.join("ignition", "deployments", deploymentId), { recursive: true, force: true });
  const chainUrl = `http://127.0.0.1:${chainPort}`;

  console.log("Compiling contracts (if changed)…");
  if ((await finished(run("npx", ["hardhat", "build", "--quiet"]))) !== 0) fail("Contract compilation failed.", 1);
  if (!dev) {
    console.log("Building the web app…");
    const web = run("npx", ["vite", "build", "--logLevel", "warn"]);
    if ((await finished(web)) !== 0) fail("The web build failed.", 1);
  }

  console.log(`Starting the local chain on ${chainUrl} …`);
  const chain = run("npx", ["hardhat", "node", "--port", String(chainPort)]);
  await new Promise<void>((resolve) => {
    chain.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("Started HTTP")) resolve();
    });
    chain.on("exit", () => {
      if (!stopping) fail(`The local chain stopped. Is port ${chainPort} taken?`, 1);
    });
  });

  const custody = createSeedCustody(config.secrets.walletMnemonic);
  const parameters = {
    Platform: Object.fromEntries(PLATFORM_ROLES.map((role) => [role, custody.platformAddress(role)])),
  };
  const parametersFile = path.join(dataDir, "ignition-parameters.json");
  writeFileSync(parametersFile, `${JSON.stringify(parameters, null, 2)}\n`);
  console.log("Deploying the platform contracts…");
  const deploy = run(
    "npx",
    [
      "hardhat",
      "ignition",
      "deploy",
      "ignition/modules/Platform.ts",
      "--network",
      "localhost",
      "--deployment-id",
      deploymentId,
      "--parameters",
      parametersFile,
    ],
    { LOCAL_CHAIN_URL: chainUrl },
  );
  if ((await finished(deploy)) !== 0) fail("Deployment failed.", 1);

  const serverEnv = {
    CHAIN_RPC_URL: chainUrl,
    PUBLIC_ORIGIN: process.env.PUBLIC_ORIGIN ?? `http://127.0.0.1:${port}`,
    CHAIN_DEPLOYMENT_FILE: path.join("ignition", "deployments", deploymentId, "deployed_addresses.json"),
    DEMO_SEED: process.env.DEMO_SEED ?? "true",
    SITE_BLOCKCHAIN_FILING_NO: process.env.SITE_BLOCKCHAIN_FILING_NO ?? "演示环境 · 未备案",
    SITE_ICP_NO: process.env.SITE_ICP_NO ?? "演示环境 · 未备案",
  };
  // The embedded database only: it is reset with the chain, which a shared DATABASE_URL would not be.
  delete process.env.DATABASE_URL;
  const server = dev
    ? run("npx", ["tsx", "watch", "--clear-screen=false", "server/main.ts"], serverEnv)
    : run("npx", ["tsx", "server/main.ts"], serverEnv);
  server.stdout?.pipe(process.stdout);
  server.on("exit", (code) => {
    if (!stopping) stopAll(code ?? 1);
  });
  if (dev) {
    const vite = run("npx", ["vite", "--host", "127.0.0.1"], { VITE_API_TARGET: `http://127.0.0.1:${port}` });
    vite.stdout?.pipe(process.stdout);
  }
  await waitForHealth(`http://127.0.0.1:${port}/healthz`);
  console.log(
    [
      "",
      "Ready:",
      `  Storefront  http://127.0.0.1:${dev ? 5173 : port}/`,
      `  API         http://127.0.0.1:${port}/trpc   health /healthz   metrics /metrics`,
      `  Chain       ${chainUrl}`,
      "  Ctrl-C stops everything.",
      "",
    ].join("\n"),
  );
}

/** Migrations and the demo seed (its artwork variants included) run before the server listens: minutes on a busy machine. */
async function waitForHealth(url: string) {
  for (let i = 0; i < 3000; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  fail(`The server did not answer ${url} within 300 seconds.`, 1);
}

process.on("SIGINT", () => stopAll(0));
process.on("SIGTERM", () => stopAll(0));
await main();
