import { network } from "hardhat";
import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { id } from "ethers";

import PlatformModule from "../../ignition/modules/Platform.js";

export const DAY = 24n * 60n * 60n;
export const LOCK = 180n * DAY;
export const REGIFT = 730n * DAY;

/**
 * A fresh in-process chain with the platform deployed through its own Ignition module;
 * `adminExecutionDelay` is 0 unless given (the production default is two days).
 */
export async function deployPlatform(options: { adminExecutionDelay?: bigint } = {}) {
  const connection = await network.create();
  const { ethers, ignition } = connection;
  const signers = await ethers.getSigners();
  const [deployer, kyc, compliance, publisher, platformAdmin, minter] = signers as [
    HardhatEthersSigner,
    HardhatEthersSigner,
    HardhatEthersSigner,
    HardhatEthersSigner,
    HardhatEthersSigner,
    HardhatEthersSigner,
  ];
  const others = signers.slice(6);
  const deployed = await ignition.deploy(PlatformModule, {
    parameters: {
      Platform: {
        kycOperator: kyc.address,
        compliance: compliance.address,
        publisher: publisher.address,
        platformAdmin: platformAdmin.address,
        minter: minter.address,
        adminExecutionDelay: options.adminExecutionDelay ?? 0n,
      },
    },
  });
  const registry = await ethers.getContractAt("IdentityRegistry", await deployed.identityRegistry.getAddress());
  const factory = await ethers.getContractAt("CollectionFactory", await deployed.factory.getAddress());
  const manager = await ethers.getContractAt("AccessManager", await deployed.accessManager.getAddress());
  const implementation = await ethers.getContractAt("Collection", await deployed.collectionImplementation.getAddress());
  return {
    connection,
    ethers,
    registry,
    factory,
    manager,
    implementation,
    accounts: { deployer, kyc, compliance, publisher, platformAdmin, minter, others },
  };
}

export type Platform = Awaited<ReturnType<typeof deployPlatform>>;

/** The identity commitment the server would compute for a test person. */
export function commitmentOf(person: string): string {
  return id(`identity:${person}`);
}

/** Unix time of the chain's latest block. */
export async function now(ethers: HardhatEthers): Promise<bigint> {
  const block = await ethers.provider.getBlock("latest");
  return BigInt(block!.timestamp);
}

/** Moves the chain's clock so that the next block has timestamp `timestamp`. */
export async function setNextTimestamp(ethers: HardhatEthers, timestamp: bigint): Promise<void> {
  await ethers.provider.send("evm_setNextBlockTimestamp", [Number(timestamp)]);
}

export async function mineAt(ethers: HardhatEthers, timestamp: bigint): Promise<void> {
  await setNextTimestamp(ethers, timestamp);
  await ethers.provider.send("evm_mine", []);
}

/** Binds each signer to its own identity, verified for ten years. */
export async function verify(platform: Platform, ...people: HardhatEthersSigner[]): Promise<void> {
  const expiresAt = (await now(platform.ethers)) + 3650n * DAY;
  await platform.registry.connect(platform.accounts.kyc).bindBatch(
    people.map((p) => p.address),
    people.map((p) => commitmentOf(p.address)),
    1,
    expiresAt,
  );
}

export interface TermsInput {
  name?: string;
  symbol?: string;
  issuer?: string;
  maxSupply?: number;
  lockDays?: number;
  regiftDays?: number;
  contentHash?: string;
  baseURI?: string;
}

export function terms(platform: Platform, input: TermsInput = {}) {
  return {
    name: input.name ?? "敦煌飞天",
    symbol: input.symbol ?? "DHFT",
    issuer: input.issuer ?? platform.accounts.publisher.address,
    maxSupply: input.maxSupply ?? 1000,
    lockDays: input.lockDays ?? 180,
    regiftDays: input.regiftDays ?? 730,
    contentHash: input.contentHash ?? id("media"),
    baseURI: input.baseURI ?? "https://example.test/meta/",
  };
}

/** Creates a collection through the factory, as the publisher. */
export async function createCollection(platform: Platform, input: TermsInput = {}) {
  const tx = await platform.factory.connect(platform.accounts.publisher).createCollection(terms(platform, input));
  const receipt = await tx.wait();
  const event = receipt!.logs
    .map((log) => platform.factory.interface.parseLog(log))
    .find((parsed) => parsed?.name === "CollectionCreated");
  const address = event!.args.collection as string;
  return platform.ethers.getContractAt("Collection", address);
}
