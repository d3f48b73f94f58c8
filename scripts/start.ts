/**
 * `npm start`: the platform with embedded defaults, no services needed.
 * Compiles the contracts, starts a local chain (JSON-RPC on 127.0.0.1:8545),
 * deploys the platform with its roles held by the server's custody accounts,
 * and starts the server on PGlite (http://127.0.0.1:3000).
 *
 * The local chain keeps no state between runs, so every start resets the
 * embedded database too: chain and database never disagree. Development
 * secrets in `.data/dev-secrets.json` are kept.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

import { loadConfigOrExit } from "../server/config.js";
import { PLATFORM_ROLES, createSeedCustody } from "../server/modules/wallets/custody.js";

const children: ChildProcess[] = [];

function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv } = {}): ChildProcess {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ...options.env } });
  children.push(child);
  return child;
}

function finished(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => child.on("exit", (code) => resolve(code ?? 1)));
}

function stopAll(code: number): never {
  for (const child of children) child.kill("SIGTERM");
  process.exit(code);
}

async function main() {
  const config = loadConfigOrExit();
  const dataDir = config.env.DATA_DIR;
  rmSync(path.join(dataDir, "pglite"), { recursive: true, force: true });
  rmSync(path.join("ignition", "deployments", "chain-31337"), { recursive: true, force: true });

  console.log("Compiling contracts…");
  const build = run("npx", ["hardhat", "build", "--quiet"]);
  build.stdout?.pipe(process.stdout);
  if ((await finished(build)) !== 0) stopAll(1);

  console.log("Starting the local chain on http://127.0.0.1:8545 …");
  const chain = run("npx", ["hardhat", "node"]);
  await new Promise<void>((resolve) => {
    chain.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("Started HTTP")) resolve();
    });
    chain.on("exit", () => {
      console.error("The local chain stopped. Is port 8545 already taken (another `npm start` or `npm run chain`)?");
      stopAll(1);
    });
  });

  const custody = createSeedCustody(config.secrets.walletMnemonic);
  const parameters = {
    Platform: Object.fromEntries(PLATFORM_ROLES.map((role) => [role, custody.platformAddress(role)])),
  };
  mkdirSync(dataDir, { recursive: true });
  const parametersFile = path.join(dataDir, "ignition-parameters.json");
  writeFileSync(parametersFile, `${JSON.stringify(parameters, null, 2)}\n`);
  console.log("Deploying the platform contracts…");
  const deploy = run("npx", [
    "hardhat",
    "ignition",
    "deploy",
    "ignition/modules/Platform.ts",
    "--network",
    "localhost",
    "--parameters",
    parametersFile,
  ]);
  if ((await finished(deploy)) !== 0) {
    console.error("Deployment failed.");
    stopAll(1);
  }

  const server = run("npx", ["tsx", "server/main.ts"]);
  server.stdout?.pipe(process.stdout);
  server.on("exit", (code) => stopAll(code ?? 1));
  console.log(`Server starting on http://${config.env.HOST}:${config.env.PORT} (Ctrl-C stops everything)`);
}

process.on("SIGINT", () => stopAll(0));
process.on("SIGTERM", () => stopAll(0));
await main();
