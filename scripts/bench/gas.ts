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

import {
  DAY,
  LOCK,
  createCollection,
  deployPlatform,
  mineAt,
  now,
  verify,
} from "../../test/contracts/fixture.js";

async function gasOf(tx: Promise<ContractTransactionResponse>): Promise<number> {
  const receipt = await (await tx).wait();
  return Number(receipt!.gasUsed);
}

const BATCH_SIZES = [1, 10, 100] as const;

async function main() {
  const platform = await deployPlatform();
  const { ethers, accounts } = platform;
  const { minter } = accounts;
  const results: Record<string, number> = {};

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
  const freshHolders = (n: number) => wallets.slice(next, (next += n)).map((w) => w.address);

  // Plain OpenZeppelin ERC721: a single mint to a new holder.
  const oz = await ethers.deployContract("BaselineOZ721");
  results.oz_mint_single = await gasOf(oz.mint(freshHolders(1)[0], 1));

  // Plain ERC721A: batch mints to one new holder.
  const erc721a = await ethers.deployContract("Baseline721A");
  for (const size of BATCH_SIZES) {
    const gas = await gasOf(erc721a.mint(freshHolders(1)[0], size));
    results[`erc721a_mint_batch${size}`] = gas;
    results[`erc721a_mint_per_token_batch${size}`] = Math.round(gas / size);
  }

  // The platform's collection: a fresh clone per case so that no case warms another.
  for (const size of BATCH_SIZES) {
    const one = await createCollection(platform, { maxSupply: 1000 });
    const gasOne = await gasOf(one.connect(minter).mint(freshHolders(1)[0], size, 1, size));
    results[`ours_mint_batch${size}_one_holder`] = gasOne;
    results[`ours_mint_per_token_batch${size}_one_holder`] = Math.round(gasOne / size);

    const many = await createCollection(platform, { maxSupply: 1000 });
    const gasMany = await gasOf(many.connect(minter).mintEach(freshHolders(size), 1, 1000 + size));
    results[`ours_mint_batch${size}_${size === 1 ? "one_holder_each" : `${size}_holders`}`] = gasMany;
    results[`ours_mint_per_token_batch${size}_${size === 1 ? "one_holder_each" : `${size === 10 ? "ten" : size}_holders`}`] =
      Math.round(gasMany / size);
  }

  // One transfer each: plain OZ vs ours with every check (both parties verified, lock passed).
  const [ozFrom, ozTo] = [wallets[next++], wallets[next++]];
  await accounts.deployer.sendTransaction({ to: ozFrom.address, value: 10n ** 18n });
  await oz.mint(ozFrom.address, 2);
  results.oz_transfer = await gasOf(oz.connect(ozFrom).transferFrom(ozFrom.address, ozTo.address, 2));

  const collection = await createCollection(platform);
  const [from, to] = [wallets[next++], wallets[next++]];
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
      results.ours_mint_per_token_batch10_one_holder / results.oz_mint_single,
    ours_mint_per_token_batch10_ten_holders_vs_oz_mint_single:
      results.ours_mint_per_token_batch10_ten_holders / results.oz_mint_single,
    ours_transfer_vs_oz_transfer: results.ours_transfer / results.oz_transfer,
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
