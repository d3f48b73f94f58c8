/**
 * Like-for-like gas benchmark: the platform's Collection (every rule check on
 * the path: registry verification of both parties, identity and address
 * freezes, token freeze, lock, pause) against plain OpenZeppelin ERC721 and
 * ERC721A doing the same work in one transaction each, all contracts warm
 * (already minted from), on the in-process chain. Writes
 * bench/results/gas.json; `like_for_like` holds ours ÷ baseline per case.
 *
 * Each case runs REPEAT times in a row on the same contracts and the ratio is
 * the sum of ours over the sum of the baseline's: Collection packs three
 * ownership entries to a storage slot, so one single mint in three opens a new
 * slot and the repeats cover every slot position (every run is also recorded).
 * Run with `npm run bench:gas`.
 */
import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

import type { ContractTransactionResponse } from "ethers";
import { id } from "ethers";
import hre from "hardhat";

import { DAY, LOCK, createCollection, deployPlatform, mineAt, now } from "../../test/contracts/fixture.js";

const REPEAT = 3;
const LOCKED_TOPIC = id("Locked(uint256)");
/** ERC-5192 Locked(tokenId): one LOG1 with a 32-byte word, which no baseline emits. */
const LOCKED_EVENT_GAS = 375 + 375 + 8 * 32;

/** How many ERC-5192 Locked events the last transaction measured by {gasOf} emitted. */
let lastLockedEvents = 0;

async function gasOf(tx: Promise<ContractTransactionResponse>): Promise<number> {
  const receipt = await (await tx).wait();
  lastLockedEvents = receipt!.logs.filter((log) => log.topics[0] === LOCKED_TOPIC).length;
  return Number(receipt!.gasUsed);
}

function gitCommit(): string {
  try {
    const head = execFileSync("git", ["rev-parse", "HEAD"], { encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "contracts", "scripts/bench"], {
      encoding: "utf8",
    }).trim();
    return dirty === "" ? head : `${head}+uncommitted`;
  } catch {
    return "unknown";
  }
}

async function main() {
  // Never measure stale or coverage-instrumented artifacts.
  await hre.tasks.getTask("build").run({ quiet: true });
  const platform = await deployPlatform();
  const { ethers, accounts } = platform;
  const { minter } = accounts;

  // Fresh, never-used holder addresses, all verified: every "fresh" case pays for new storage like a first-time buyer.
  const wallets = Array.from({ length: 1200 }, () => ethers.Wallet.createRandom().connect(ethers.provider));
  const expiresAt = (await now(ethers)) + 3650n * DAY;
  for (let i = 0; i < wallets.length; i += 200) {
    const slice = wallets.slice(i, i + 200);
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
  const fresh = () => freshWallet().address;
  const freshMany = (n: number) => Array.from({ length: n }, fresh);

  const oz = await ethers.deployContract("BaselineOZ721");
  const erc721a = await ethers.deployContract("Baseline721A");
  const ours = await createCollection(platform, { maxSupply: 100_000 });
  const oursMinter = ours.connect(minter);
  let batchId = 1;
  const oursMint = async (to: string, quantity: number) =>
    gasOf(oursMinter.mint(to, quantity, await ours.nextTokenId(), batchId++));
  const oursMintEach = async (recipients: string[]) =>
    gasOf(oursMinter.mintEach(recipients, await ours.nextTokenId(), batchId++));

  // Warm every contract: its counters and the registry are no longer at zero.
  await oz.mintBatch(fresh(), 1);
  await erc721a.mint(fresh(), 1);
  await oursMint(fresh(), 1);

  const runs: Record<string, { ours: number[]; oursLockedEvents: number[]; baseline: number[]; baselineName: string }> =
    {};
  async function measure(
    name: string,
    baselineName: string,
    baseline: () => Promise<number>,
    our: () => Promise<number>,
  ) {
    const entry = { ours: [] as number[], oursLockedEvents: [] as number[], baseline: [] as number[], baselineName };
    for (let i = 0; i < REPEAT; i++) {
      entry.baseline.push(await baseline());
      entry.ours.push(await our());
      entry.oursLockedEvents.push(lastLockedEvents);
    }
    runs[name] = entry;
  }

  await measure(
    "mint_single_vs_oz",
    "OpenZeppelin ERC721",
    () => gasOf(oz.mintBatch(fresh(), 1)),
    () => oursMint(fresh(), 1),
  );
  for (const size of [1, 10, 100]) {
    await measure(
      `mint_batch${size}_one_holder_vs_erc721a`,
      "ERC721A",
      () => gasOf(erc721a.mint(fresh(), size)),
      () => oursMint(fresh(), size),
    );
  }
  for (const size of [1, 10, 100]) {
    const name = size === 10 ? "mint_batch10_ten_holders_vs_oz" : `mint_batch${size}_each_to_new_holders_vs_oz`;
    await measure(
      name,
      "OpenZeppelin ERC721",
      () => gasOf(oz.mintEach(freshMany(size))),
      () => oursMintEach(freshMany(size)),
    );
  }
  await measure(
    "mint_batch10_ten_holders_vs_erc721a",
    "ERC721A",
    () => gasOf(erc721a.mintEach(freshMany(10))),
    () => oursMintEach(freshMany(10)),
  );

  // Transfers: each sender holds two tokens (minted one by one) and gives one away once the lock has passed,
  // to a fresh address or to one that already holds a token of the same contract.
  const transferCase = async (toHolder: boolean) => {
    const senders = Array.from({ length: REPEAT }, freshWallet);
    const recipients = Array.from({ length: REPEAT }, fresh);
    for (const sender of senders) await accounts.deployer.sendTransaction({ to: sender.address, value: 10n ** 18n });
    const tokenIds = { oz: [] as bigint[], erc721a: [] as bigint[], ours: [] as bigint[] };
    for (const sender of senders) {
      for (let k = 0; k < 2; k++) {
        tokenIds.oz.push(await oz.nextTokenId());
        await oz.mintBatch(sender.address, 1);
        tokenIds.erc721a.push(await erc721aNext());
        await erc721a.mint(sender.address, 1);
      }
    }
    const first = await ours.nextTokenId();
    await oursMinter.mintEach(
      senders.flatMap((s) => [s.address, s.address]),
      first,
      batchId++,
    );
    tokenIds.ours = senders.flatMap((_, i) => [first + BigInt(2 * i), first + BigInt(2 * i + 1)]);
    if (toHolder) {
      await oz.mintEach(recipients);
      await erc721a.mintEach(recipients);
      await oursMinter.mintEach(recipients, await ours.nextTokenId(), batchId++);
    }
    await mineAt(ethers, (await now(ethers)) + LOCK + 1n);
    const result = { oz: [] as number[], erc721a: [] as number[], ours: [] as number[], oursLocked: [] as number[] };
    for (let i = 0; i < REPEAT; i++) {
      const from = senders[i]!;
      const to = recipients[i]!;
      result.oz.push(await gasOf(oz.connect(from).transferFrom(from.address, to, tokenIds.oz[2 * i + 1]!)));
      result.erc721a.push(
        await gasOf(erc721a.connect(from).transferFrom(from.address, to, tokenIds.erc721a[2 * i + 1]!)),
      );
      result.ours.push(await gasOf(ours.connect(from).transferFrom(from.address, to, tokenIds.ours[2 * i + 1]!)));
      result.oursLocked.push(lastLockedEvents);
    }
    return result;
  };
  const erc721aNext = async () => (await erc721a.totalSupply()) + 1n;

  for (const [name, toHolder] of [
    ["transfer_to_fresh", false],
    ["transfer_to_holder", true],
  ] as const) {
    const result = await transferCase(toHolder);
    const ours = { ours: result.ours, oursLockedEvents: result.oursLocked };
    runs[`${name}_vs_oz`] = { ...ours, baseline: result.oz, baselineName: "OpenZeppelin ERC721" };
    runs[`${name}_vs_erc721a`] = { ...ours, baseline: result.erc721a, baselineName: "ERC721A" };
  }

  const factoryCreateCollection = await gasOf(
    platform.factory.connect(accounts.publisher).createCollection({
      name: "bench",
      symbol: "B",
      issuer: accounts.publisher.address,
      maxSupply: 100,
      lockDays: 180,
      regiftDays: 730,
      contentHash: id("bench"),
      baseURI: "",
    }),
  );

  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  /** ours ÷ baseline; `lockedOnBaseline` adds, `lockedOnOurs` subtracts, the gas of the Locked events ours emitted. */
  const ratio = (name: string, variant: "as-is" | "locked-on-both" | "no-locked" = "as-is") => {
    const run = runs[name];
    if (run === undefined) throw new Error(`missing benchmark case ${name}`);
    const lockedGas = sum(run.oursLockedEvents) * LOCKED_EVENT_GAS;
    const ours = sum(run.ours) - (variant === "no-locked" ? lockedGas : 0);
    const baseline = sum(run.baseline) + (variant === "locked-on-both" ? lockedGas : 0);
    return Math.round((ours / baseline) * 1000) / 1000;
  };
  const targets = {
    mint_single_vs_oz: 1.15,
    mint_batch10_one_holder_vs_erc721a: 1.1,
    mint_batch100_one_holder_vs_erc721a: 1.1,
    mint_batch10_ten_holders_vs_oz: 0.85,
    transfer_to_fresh_vs_oz: 1.3,
    transfer_to_holder_vs_oz: 1.3,
  };
  const likeForLike = Object.fromEntries(Object.keys(targets).map((key) => [key, ratio(key)])) as Record<
    keyof typeof targets,
    number
  >;
  const otherRatios = Object.fromEntries(
    Object.keys(runs)
      .filter((key) => !(key in targets))
      .map((key) => [key, ratio(key)]),
  );
  const variantRatios = (variant: "locked-on-both" | "no-locked") =>
    Object.fromEntries(Object.keys(targets).map((key) => [key, ratio(key, variant)]));
  const report = {
    benchmark: "gas",
    unit: "gasUsed per transaction; ratios are ours ÷ baseline over the same runs",
    chain: "Hardhat EDR in-process, hardfork cancun",
    commit: gitCommit(),
    cores: os.cpus().length,
    method:
      `each case runs ${REPEAT} times in a row on warm contracts (already minted from), ` +
      "with fresh never-used recipients unless the case says holder; ratio = sum(ours) / sum(baseline)",
    like_for_like: likeForLike,
    targets,
    meetsTargets: Object.fromEntries(
      Object.entries(targets).map(([key, target]) => [key, likeForLike[key as keyof typeof targets] <= target]),
    ),
    other_ratios: otherRatios,
    notes: {
      locked_event_gas_per_token: LOCKED_EVENT_GAS,
      locked_event:
        "ours emits ERC-5192 Locked per minted or moved token (required); the baselines emit nothing comparable",
    },
    // The same runs under the two readings of the ERC-5192 requirement that would make the targets reachable
    // (see docs/contracts.md, "Gas"): the baselines emitting the same Locked events, or no per-token Locked event.
    if_baselines_emit_the_same_locked_events: variantRatios("locked-on-both"),
    if_no_per_token_locked_event: variantRatios("no-locked"),
    runs,
    factory_create_collection: factoryCreateCollection,
  };
  const out = path.join("bench", "results", "gas.json");
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(JSON.stringify({ like_for_like: likeForLike, targets, other_ratios: otherRatios }, null, 2));
}

await main();
