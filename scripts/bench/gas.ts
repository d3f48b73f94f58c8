/**
 * Gas benchmark of minting and transferring, side by side in one run on the
 * in-process chain: plain OpenZeppelin ERC721, plain ERC721A and the
 * platform's Collection (with registry checks and locks). Writes
 * bench/results/gas.json. Run with `npm run bench:gas`.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

import type { ContractTransactionResponse } from "ethers";
import { id } from "ethers";
import hre from "hardhat";

import { DAY, LOCK, createCollection, deployPlatform, mineAt, now } from "../../test/contracts/fixture.js";

async function gasOf(tx: Promise<ContractTransactionResponse>): Promise<number> {
  const receipt = await (await tx).wait();
  return Number(receipt!.gasUsed);
}

const BATCH_SIZES = [1, 10, 100] as const;
/** How the per-holder cases are named: one token to each of `size` new holders. */
const MANY_HOLDERS: Record<(typeof BATCH_SIZES)[number], string> = {
  1: "one_holder_each",
  10: "ten_holders",
  100: "hundred_holders",
};

async function main() {
  // Never measure stale or coverage-instrumented artifacts.
  await hre.tasks.getTask("build").run({ quiet: true });
  const platform = await deployPlatform();
  const { ethers, accounts } = platform;
  const { minter } = accounts;
  const results: Record<string, number> = {};
  const result = (key: string) => {
    const value = results[key];
    if (value === undefined) throw new Error(`missing benchmark result ${key}`);
    return value;
  };

  // Fresh, never-used holder addresses, all verified: every mint pays for new storage like a first-time buyer.
  const wallets = Array.from({ length: 400 }, () => ethers.Wallet.createRandom().connect(ethers.provider));
  const expiresAt = (await now(ethers)) + 3650n * DAY;
  for (let i = 0; i < wallets.length; i += 100) {
    const slice = wallets.slice(i, i + 100);
    await platform.registry.connect(accounts.kyc).bindBatch(
      slice.map((w) => w.address),
      slice.map((w) => id(`bench:${w.address}`)),
      1,
      expiresAt,
    );
  }
  let next = 0;
  const freshWallet = () => {
    const wallet = wallets[next++];
    if (wallet === undefined) throw new Error("benchmark ran out of prepared holders");
    return wallet;
  };
  const freshHolders = (n: number) => Array.from({ length: n }, () => freshWallet().address);
  const freshHolder = () => freshWallet().address;

  // Plain OpenZeppelin ERC721: a single mint to a new holder.
  const oz = await ethers.deployContract("BaselineOZ721");
  results.oz_mint_single = await gasOf(oz.mint(freshHolder(), 1));

  // Plain ERC721A: batch mints to one new holder.
  const erc721a = await ethers.deployContract("Baseline721A");
  for (const size of BATCH_SIZES) {
    const gas = await gasOf(erc721a.mint(freshHolder(), size));
    results[`erc721a_mint_batch${size}`] = gas;
    results[`erc721a_mint_per_token_batch${size}`] = Math.round(gas / size);
  }

  // The platform's collection: a fresh clone per case so that no case warms another.
  for (const size of BATCH_SIZES) {
    const one = await createCollection(platform, { maxSupply: 1000 });
    const gasOne = await gasOf(one.connect(minter).mint(freshHolder(), size, 1, size));
    results[`ours_mint_batch${size}_one_holder`] = gasOne;
    results[`ours_mint_per_token_batch${size}_one_holder`] = Math.round(gasOne / size);

    const many = await createCollection(platform, { maxSupply: 1000 });
    const gasMany = await gasOf(many.connect(minter).mintEach(freshHolders(size), 1, 1000 + size));
    results[`ours_mint_batch${size}_${MANY_HOLDERS[size]}`] = gasMany;
    results[`ours_mint_per_token_batch${size}_${MANY_HOLDERS[size]}`] = Math.round(gasMany / size);
  }

  // One transfer each: plain OZ vs ours with every check (both parties verified, lock passed).
  const [ozFrom, ozTo] = [freshWallet(), freshWallet()];
  await accounts.deployer.sendTransaction({ to: ozFrom.address, value: 10n ** 18n });
  await oz.mint(ozFrom.address, 2);
  results.oz_transfer = await gasOf(oz.connect(ozFrom).transferFrom(ozFrom.address, ozTo.address, 2));

  const collection = await createCollection(platform);
  const [from, to] = [freshWallet(), freshWallet()];
  await accounts.deployer.sendTransaction({ to: from.address, value: 10n ** 18n });
  await collection.connect(minter).mintEach([from.address, to.address], 1, 7);
  await mineAt(ethers, (await now(ethers)) + LOCK + 1n);
  results.ours_transfer = await gasOf(collection.connect(from).transferFrom(from.address, to.address, 1));

  results.factory_create_collection = await (async () => {
    const tx = await platform.factory.connect(accounts.publisher).createCollection({
      name: "bench",
      symbol: "B",
      issuer: accounts.publisher.address,
      maxSupply: 100,
      lockDays: 180,
      regiftDays: 730,
      contentHash: id("bench"),
      baseURI: "",
    });
    return Number((await tx.wait())!.gasUsed);
  })();

  const ratios = {
    ours_mint_per_token_batch10_one_holder_vs_oz_mint_single:
      result("ours_mint_per_token_batch10_one_holder") / result("oz_mint_single"),
    ours_mint_per_token_batch10_ten_holders_vs_oz_mint_single:
      result("ours_mint_per_token_batch10_ten_holders") / result("oz_mint_single"),
    ours_transfer_vs_oz_transfer: result("ours_transfer") / result("oz_transfer"),
  };
  const targets = {
    ours_mint_per_token_batch10_one_holder_vs_oz_mint_single: 0.15,
    ours_mint_per_token_batch10_ten_holders_vs_oz_mint_single: 0.75,
    ours_transfer_vs_oz_transfer: 1.5,
  };
  const report = {
    benchmark: "gas",
    unit: "gasUsed per transaction (per_token = transaction gas / tokens)",
    chain: "Hardhat EDR in-process, hardfork cancun",
    results,
    ratios,
    targets,
    meetsTargets: Object.fromEntries(
      Object.entries(targets).map(([key, target]) => [key, ratios[key as keyof typeof ratios] <= target]),
    ),
  };
  const out = path.join("bench", "results", "gas.json");
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(JSON.stringify(report, null, 2));
}

await main();
