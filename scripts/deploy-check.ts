/**
 * `npm run deploy:check -- --network chain [--no-send]`: checks the target
 * chain before `npm run deploy` (scripts/deploy/chain-checks.ts): chain id =
 * CHAIN_ID, a transaction at CHAIN_GAS_PRICE is accepted and mined, the EVM
 * runs Cancun. Connects like Hardhat does (hardhat.config.ts: CHAIN_RPC_URL,
 * DEPLOYER_PRIVATE_KEY from the environment or `hardhat keystore`). Sends one
 * transaction from the deployer (a 32-byte probe contract) unless --no-send.
 * Exits 1 when a check fails, printing why.
 */
import { parseArgs } from "node:util";

import { network } from "hardhat";

import { checkChain } from "./deploy/chain-checks.js";

const { values } = parseArgs({
  options: { network: { type: "string", default: "chain" }, "no-send": { type: "boolean", default: false } },
});
const networkName = values.network!;

const connection = await network.connect({ network: networkName });
const config = connection.networkConfig as { type: string; chainId?: number; gasPrice?: bigint | "auto" };
const expected = config.chainId ?? (process.env.CHAIN_ID === undefined ? undefined : Number(process.env.CHAIN_ID));
if (expected === undefined) {
  console.error(`✖ network ${networkName} has no chain id configured; set CHAIN_ID`);
  process.exit(1);
}
const gasPrice = typeof config.gasPrice === "bigint" ? config.gasPrice : BigInt(process.env.CHAIN_GAS_PRICE ?? "0");
// Ask the chain id first: Hardhat's provider refuses every other request on a chain with another id (HHE708).
const served = BigInt((await connection.provider.request({ method: "eth_chainId" })) as string);
if (served !== BigInt(expected)) {
  console.error(
    `✖ chain id: the node at CHAIN_RPC_URL serves chain id ${served}, CHAIN_ID says ${expected}: wrong node or wrong setting`,
  );
  process.exit(1);
}
const [from] = (await connection.provider.request({ method: "eth_accounts" })) as string[];
if (from === undefined) {
  console.error(`✖ network ${networkName} has no deploying account; set DEPLOYER_PRIVATE_KEY`);
  process.exit(1);
}

console.log(
  `Checking network ${networkName} for a deployment by ${from} (CHAIN_ID ${expected}, gas price ${gasPrice})…`,
);
const results = await checkChain({
  provider: connection.provider,
  expectedChainId: BigInt(expected),
  gasPrice,
  from,
  send: !values["no-send"],
});
for (const result of results) console.log(`${result.ok ? "✓" : "✖"} ${result.name}: ${result.message}`);
await connection.close();
const failed = results.some((result) => !result.ok) || !results.some((result) => result.name === "cancun");
if (failed) {
  console.error("deploy:check: the chain is not ready for the platform (see above)");
  process.exit(1);
}
console.log("deploy:check: the chain is ready for `npm run deploy -- --network " + networkName + "`");
