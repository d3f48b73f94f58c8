import { createRequire } from "node:module";

import hardhatEthers from "@nomicfoundation/hardhat-ethers";
import hardhatIgnitionEthers from "@nomicfoundation/hardhat-ignition-ethers";
import hardhatKeystore from "@nomicfoundation/hardhat-keystore";
import hardhatTypechain from "@nomicfoundation/hardhat-typechain";
import { configVariable, defineConfig } from "hardhat/config";

// Hardhat cannot download compilers on a closed network, so it runs the
// solc-js build shipped in the `solc` npm package; the version must match it.
const require = createRequire(import.meta.url);
const solcPath = require.resolve("solc/soljson.js");
const solcVersion = (require("solc/package.json") as { version: string }).version;

// OpenZeppelin 5.7 uses `mcopy`, so Cancun is the lowest target that compiles.
// A chain that needs another target (a newer fork) sets SOLIDITY_EVM_VERSION.
const evmVersion = process.env.SOLIDITY_EVM_VERSION ?? "cancun";

// The in-process chain of tests and scripts, and the one `hardhat node` serves.
const localChain = {
  type: "edr-simulated",
  chainType: "l1",
  hardfork: "cancun",
  // Like the permissioned chains the platform targets: transactions cost no fee.
  initialBaseFeePerGas: 0n,
} as const;

export default defineConfig({
  // hardhat-keystore: `npx hardhat keystore set DEPLOYER_PRIVATE_KEY` keeps the deploy key encrypted;
  // configVariable() below reads it from there when the environment does not set it.
  plugins: [hardhatEthers, hardhatIgnitionEthers, hardhatKeystore, hardhatTypechain],
  solidity: {
    version: solcVersion,
    path: solcPath,
    // Deployed as-is from OpenZeppelin, so compiled from the package.
    npmFilesToBuild: ["@openzeppelin/contracts/access/manager/AccessManager.sol"],
    settings: {
      evmVersion,
      optimizer: { enabled: true, runs: 200 },
    },
  },
  coverage: {
    // Test doubles and gas-benchmark baselines are not platform code.
    skipFiles: ["contracts/test/**", "contracts/bench/**"],
  },
  paths: {
    tests: { solidity: "./test/solidity" },
  },
  test: {
    solidity: {
      fuzz: { runs: 256 },
    },
  },
  networks: {
    default: localChain,
    node: localChain,
    // `npm run bench:mint`'s `hardhat node`: blocks of 60 M gas like the Besu network's genesis (docs/besu).
    benchNode: { ...localChain, blockGasLimit: 60_000_000n },
    localhost: {
      type: "http",
      chainType: "l1",
      // `npm start` points it at the chain it started (LOCAL_CHAIN_URL); 8545 otherwise.
      url: process.env.LOCAL_CHAIN_URL ?? "http://127.0.0.1:8545",
    },
    // Any permissioned EVM chain (Besu QBFT, FISCO BCOS EVM mode, ...).
    chain: {
      type: "http",
      chainType: "l1",
      url: configVariable("CHAIN_RPC_URL"),
      chainId: Number(process.env.CHAIN_ID ?? "1337"),
      accounts: [configVariable("DEPLOYER_PRIVATE_KEY")],
      gasPrice: BigInt(process.env.CHAIN_GAS_PRICE ?? "0"),
    },
  },
});
